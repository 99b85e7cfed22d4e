package dev.graft.align;

import dev.graft.InvalidInputException;
import dev.graft.internal.Names;
import dev.graft.model.CausalLm;
import dev.graft.model.LlamaConfig;
import dev.graft.recipe.Problem;
import dev.graft.recipe.RecipeException;
import dev.graft.tensor.Shape;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collections;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.snakeyaml.engine.v2.api.LoadSettings;
import org.snakeyaml.engine.v2.api.lowlevel.Compose;
import org.snakeyaml.engine.v2.exceptions.YamlEngineException;
import org.snakeyaml.engine.v2.nodes.MappingNode;
import org.snakeyaml.engine.v2.nodes.Node;
import org.snakeyaml.engine.v2.nodes.NodeTuple;
import org.snakeyaml.engine.v2.nodes.ScalarNode;
import org.snakeyaml.engine.v2.nodes.SequenceNode;

/**
 * Which axes of which tensors share a permutation (Git Re-Basin's "permutation spec"), as data: for every tensor,
 * per axis, the permutation acting on it or null. A permutation of size n acts on an axis of length n × block by
 * moving contiguous blocks of {@code block} indices (a block is an attention head, or the spatial positions of a
 * channel flattened into a linear layer's input). Layouts are PyTorch's: a linear weight is (out, in).
 *
 * @param name what the spec is for, for messages
 * @param tensors per tensor, one entry per axis (null: not permuted)
 */
public record PermutationSpec(String name, Map<String, List<Axis>> tensors) {
  /**
   * A permutation acting on one axis.
   *
   * @param perm the permutation's name
   * @param block contiguous indices moved together (1 for single units)
   */
  public record Axis(String perm, int block) {
    public Axis {
      if (block < 1) {
        throw new IllegalArgumentException("block must be >= 1, found " + block);
      }
    }

    static Axis of(String perm) {
      return new Axis(perm, 1);
    }
  }

  /**
   * One place a permutation acts.
   *
   * @param tensor tensor name
   * @param axis axis index
   * @param block contiguous indices moved together
   */
  public record Use(String tensor, int axis, int block) {}

  public PermutationSpec {
    Map<String, List<Axis>> copy = new LinkedHashMap<>();
    tensors.forEach((k, v) -> copy.put(k, Collections.unmodifiableList(new ArrayList<>(v))));
    tensors = Collections.unmodifiableMap(copy);
  }

  /** Every permutation and where it acts, in order of first use. */
  public Map<String, List<Use>> uses() {
    Map<String, List<Use>> m = new LinkedHashMap<>();
    tensors.forEach((t, axes) -> {
      for (int a = 0; a < axes.size(); a++) {
        Axis x = axes.get(a);
        if (x != null) {
          m.computeIfAbsent(x.perm(), k -> new ArrayList<>()).add(new Use(t, a, x.block()));
        }
      }
    });
    return m;
  }

  /**
   * Checks the spec against a model's tensors and returns each permutation's size. Every problem is reported at once:
   * unknown tensor names (with a did-you-mean), wrong ranks, axes not divisible by their block, and permutations whose
   * tensors disagree on the size.
   *
   * @throws InvalidInputException listing every problem
   */
  public Map<String, Integer> sizes(Map<String, Shape> shapes, String model) {
    List<String> problems = new ArrayList<>();
    Map<String, Integer> sizes = new LinkedHashMap<>();
    Map<String, String> firstUse = new LinkedHashMap<>();
    tensors.forEach((t, axes) -> {
      Shape s = shapes.get(t);
      if (s == null) {
        String hint = Names.didYouMean(t, shapes.keySet());
        problems.add("tensor '" + t + "' is not in " + model + (hint.isEmpty() ? "" : ". " + hint));
        return;
      }
      if (s.rank() != axes.size()) {
        problems.add("tensor '" + t + "' has " + s.rank() + " axes " + s + " but the spec gives " + axes.size());
        return;
      }
      for (int a = 0; a < axes.size(); a++) {
        Axis x = axes.get(a);
        if (x == null) {
          continue;
        }
        long len = s.dim(a);
        if (len % x.block() != 0) {
          problems.add("tensor '" + t + "' axis " + a + " has length " + len + ", not a multiple of block " + x.block() + " of " + x.perm());
          continue;
        }
        int n = Math.toIntExact(len / x.block());
        Integer prev = sizes.putIfAbsent(x.perm(), n);
        String here = t + " axis " + a + " (" + len + (x.block() > 1 ? " = " + n + " blocks of " + x.block() : "") + ")";
        firstUse.putIfAbsent(x.perm(), here);
        if (prev != null && prev != n) {
          problems.add("permutation " + x.perm() + " has size " + prev + " at " + firstUse.get(x.perm()) + " but " + n + " at " + here
              + "; axes that share a permutation must have the same number of units");
        }
      }
    });
    if (!problems.isEmpty()) {
      throw new InvalidInputException("permutation spec '" + name + "' does not fit " + model + ":\n  " + String.join("\n  ", problems));
    }
    return sizes;
  }

  /** Tensors of the model that the spec leaves unpermuted because it does not name them. */
  public List<String> unnamed(Map<String, Shape> shapes) {
    return shapes.keySet().stream().filter(k -> !tensors.containsKey(k)).sorted().toList();
  }

  // ---------------------------------------------------------------- built-in specs

  /**
   * Llama-family decoders (llama, mistral, qwen2, qwen3), function-preserving:
   *
   * <ul>
   *   <li>{@code residual}: the hidden size — embedding columns, every RMSNorm gain, the input columns of q/k/v/gate/up,
   *       the output rows of o_proj and down_proj (and their biases), lm_head columns;
   *   <li>{@code layers.L.heads}: key/value heads, each moving with its group of query heads — q rows in blocks of
   *       (group × head_dim), k and v rows in blocks of head_dim (and their biases), o_proj columns like q;
   *   <li>{@code layers.L.mlp}: the intermediate units — gate and up rows (and biases), down_proj columns.
   * </ul>
   *
   * <p>Within a head, dimensions are not permuted: RoPE gives every rotary pair (i, i + head_dim/2) its own
   * frequency, so moving a pair to another position changes the function (a test shows it), and q/k norms (Qwen3) are
   * shared by all heads.
   */
  public static PermutationSpec llama(LlamaConfig c) {
    Map<String, List<Axis>> m = new LinkedHashMap<>();
    Axis res = Axis.of("residual");
    int group = c.heads() / c.kvHeads();
    for (Map.Entry<String, Shape> e : CausalLm.expected(c).entrySet()) {
      String t = e.getKey();
      Matcher lm = LAYER.matcher(t);
      String heads = lm.matches() ? "layers." + lm.group(1) + ".heads" : null;
      String mlp = lm.matches() ? "layers." + lm.group(1) + ".mlp" : null;
      String rest = lm.matches() ? lm.group(2) : t;
      Axis q = new Axis(heads, group * c.headDim());
      Axis kv = new Axis(heads, c.headDim());
      List<Axis> axes = switch (rest) {
        case "model.embed_tokens.weight", "lm_head.weight" -> list(null, res);
        case "model.norm.weight", "input_layernorm.weight", "post_attention_layernorm.weight",
            "self_attn.o_proj.bias", "mlp.down_proj.bias" -> list(res);
        case "self_attn.q_proj.weight" -> list(q, res);
        case "self_attn.k_proj.weight", "self_attn.v_proj.weight" -> list(kv, res);
        case "self_attn.q_proj.bias" -> list(q);
        case "self_attn.k_proj.bias", "self_attn.v_proj.bias" -> list(kv);
        case "self_attn.o_proj.weight" -> list(res, q);
        case "self_attn.q_norm.weight", "self_attn.k_norm.weight" -> list((Axis) null);
        case "mlp.gate_proj.weight", "mlp.up_proj.weight" -> list(Axis.of(mlp), res);
        case "mlp.gate_proj.bias", "mlp.up_proj.bias" -> list(Axis.of(mlp));
        case "mlp.down_proj.weight" -> list(res, Axis.of(mlp));
        default -> throw new IllegalStateException("no permutation rule for " + t);
      };
      m.put(t, axes);
    }
    return new PermutationSpec(c.modelType(), m);
  }

  private static final Pattern LAYER = Pattern.compile("model\\.layers\\.(\\d+)\\.(.+)");

  private static List<Axis> list(Axis... a) {
    return Arrays.asList(a);
  }

  /**
   * A multilayer perceptron (optionally with convolutions first), detected from a chain of layers: every
   * {@code X.weight} of rank 2 (out, in) or 4 (out, in, kh, kw), in natural name order, whose input size is the
   * previous layer's output size, or a multiple of it (a flattened convolution output, permuted in blocks of the
   * spatial size). Hidden units of layer i get permutation {@code X_i}: rows of its weight and bias, input axis of the
   * next weight; the network's input and output are not permuted.
   *
   * @throws InvalidInputException when the tensors do not form such a chain
   */
  public static PermutationSpec mlp(Map<String, Shape> shapes, String model) {
    List<String> layers = shapes.keySet().stream().filter(k -> k.endsWith(".weight") && (shapes.get(k).rank() == 2 || shapes.get(k).rank() == 4))
        .sorted(NATURAL).toList();
    if (layers.size() < 2) {
      throw new InvalidInputException(model + " has " + layers.size() + " linear/convolution weight(s); a multilayer perceptron spec needs at least 2 "
          + "(NAME.weight of shape (out, in)). Give a spec file with --spec FILE");
    }
    Map<String, List<Axis>> m = new LinkedHashMap<>();
    Axis prev = null;
    for (int i = 0; i < layers.size(); i++) {
      String w = layers.get(i);
      Shape s = shapes.get(w);
      String prefix = w.substring(0, w.length() - ".weight".length());
      boolean last = i == layers.size() - 1;
      Axis out = last ? null : Axis.of(prefix);
      Axis in = null;
      if (prev != null) {
        long prevOut = shapes.get(layers.get(i - 1)).dim(0);
        long inSize = s.dim(1);
        if (inSize % prevOut != 0 || (s.rank() == 4 && inSize != prevOut)) {
          throw new InvalidInputException(model + ": " + w + " " + s + " takes " + inSize + " inputs but " + layers.get(i - 1) + " "
              + shapes.get(layers.get(i - 1)) + " gives " + prevOut + "; the layers do not form a chain, so the multilayer perceptron spec does not apply."
              + " Give a spec file with --spec FILE");
        }
        in = new Axis(prev.perm(), Math.toIntExact(inSize / prevOut));
      }
      List<Axis> axes = new ArrayList<>(Collections.nCopies(s.rank(), (Axis) null));
      axes.set(0, out);
      axes.set(1, in);
      m.put(w, axes);
      String bias = prefix + ".bias";
      if (shapes.containsKey(bias)) {
        m.put(bias, list(out));
      }
      prev = out;
    }
    return new PermutationSpec("mlp", m);
  }

  /** Names compared with runs of digits as numbers: fc2 before fc10, layers.2 before layers.10. */
  static final Comparator<String> NATURAL = (a, b) -> {
    int i = 0;
    int j = 0;
    while (i < a.length() && j < b.length()) {
      char x = a.charAt(i);
      char y = b.charAt(j);
      if (Character.isDigit(x) && Character.isDigit(y)) {
        int si = i;
        int sj = j;
        while (i < a.length() && Character.isDigit(a.charAt(i))) {
          i++;
        }
        while (j < b.length() && Character.isDigit(b.charAt(j))) {
          j++;
        }
        int c = new java.math.BigInteger(a.substring(si, i)).compareTo(new java.math.BigInteger(b.substring(sj, j)));
        if (c != 0) {
          return c;
        }
      } else {
        if (x != y) {
          return Character.compare(x, y);
        }
        i++;
        j++;
      }
    }
    return Integer.compare(a.length() - i, b.length() - j);
  };

  // ---------------------------------------------------------------- spec files

  /**
   * Reads a spec file:
   *
   * <pre>
   * tensors:
   *   fc1.weight: [h1, null]          # (out, in): rows permuted by h1
   *   fc1.bias: [h1]
   *   fc2.weight: [null, h1]
   *   attn.q.weight: [{perm: heads, block: 64}, null]
   * </pre>
   *
   * @throws RecipeException with file:line:column for every problem
   */
  public static PermutationSpec read(Path file) {
    String text;
    try {
      text = Files.readString(file, StandardCharsets.UTF_8);
    } catch (java.nio.file.NoSuchFileException e) {
      throw new InvalidInputException("spec file " + file + " does not exist; --spec takes mlp, llama, auto or a YAML file");
    } catch (IOException e) {
      throw new InvalidInputException("cannot read " + file + ": " + e.getMessage());
    }
    return parse(text, file.toString());
  }

  /** Parses spec YAML; {@code label} names it in messages. */
  public static PermutationSpec parse(String text, String label) {
    List<Problem> problems = new ArrayList<>();
    Node root;
    try {
      root = new Compose(LoadSettings.builder().setLabel(label).setUseMarks(true).build()).composeString(text).orElse(null);
    } catch (YamlEngineException e) {
      throw new RecipeException(List.of(dev.graft.recipe.YamlFields.syntaxProblem(e, label)), "permutation spec");
    }
    Map<String, List<Axis>> m = new LinkedHashMap<>();
    Node tensors = null;
    if (root instanceof MappingNode rm) {
      for (NodeTuple t : rm.getValue()) {
        String k = scalar(t.getKeyNode());
        if ("tensors".equals(k)) {
          tensors = t.getValueNode();
        } else {
          problems.add(problem(label, t.getKeyNode(), k, "unknown key '" + k + "'", "The file has one key, 'tensors'"));
        }
      }
    }
    if (!(tensors instanceof MappingNode tm)) {
      problems.add(problem(label, tensors != null ? tensors : root, "tensors", "expected 'tensors:' mapping each tensor name to a list of axes",
          "e.g. tensors: {fc1.weight: [h1, null], fc1.bias: [h1], fc2.weight: [null, h1]}"));
      throw new RecipeException(problems, "permutation spec");
    }
    for (NodeTuple t : tm.getValue()) {
      String name = scalar(t.getKeyNode());
      String path = "tensors." + name;
      if (!(t.getValueNode() instanceof SequenceNode seq)) {
        problems.add(problem(label, t.getValueNode(), path, "expected a list with one entry per axis", "e.g. [h1, null]"));
        continue;
      }
      List<Axis> axes = new ArrayList<>();
      for (int a = 0; a < seq.getValue().size(); a++) {
        Node n = seq.getValue().get(a);
        String p = path + "[" + a + "]";
        if (n instanceof ScalarNode s) {
          String v = s.getValue();
          axes.add(v.isEmpty() || v.equals("null") || v.equals("~") ? null : Axis.of(v));
        } else if (n instanceof MappingNode am) {
          String perm = null;
          int block = 1;
          for (NodeTuple f : am.getValue()) {
            String k = scalar(f.getKeyNode());
            String v = scalar(f.getValueNode());
            if ("perm".equals(k)) {
              perm = v;
            } else if ("block".equals(k)) {
              try {
                block = Integer.parseInt(v == null ? "" : v);
              } catch (NumberFormatException e) {
                block = 0;
              }
              if (block < 1) {
                problems.add(problem(label, f.getValueNode(), p + ".block", "block must be a positive integer, found '" + v + "'", ""));
                block = 1;
              }
            } else {
              problems.add(problem(label, f.getKeyNode(), p + "." + k, "unknown key '" + k + "'", "An axis is a name, null, or {perm: NAME, block: N}"));
            }
          }
          if (perm == null || perm.isEmpty()) {
            problems.add(problem(label, n, p, "missing 'perm'", "An axis is a name, null, or {perm: NAME, block: N}"));
          }
          axes.add(perm == null ? null : new Axis(perm, block));
        } else {
          problems.add(problem(label, n, p, "expected a permutation name, null or {perm: NAME, block: N}", ""));
        }
      }
      if (m.put(name, axes) != null) {
        problems.add(problem(label, t.getKeyNode(), path, "tensor '" + name + "' is listed twice", ""));
      }
    }
    if (!problems.isEmpty()) {
      throw new RecipeException(problems, "permutation spec");
    }
    return new PermutationSpec(label, m);
  }

  private static String scalar(Node n) {
    return n instanceof ScalarNode s ? s.getValue() : null;
  }

  private static Problem problem(String file, Node n, String path, String message, String hint) {
    int line = 0;
    int col = 0;
    if (n != null && n.getStartMark().isPresent()) {
      line = n.getStartMark().get().getLine() + 1;
      col = n.getStartMark().get().getColumn() + 1;
    }
    return new Problem(file, line, col, path, message, hint);
  }

  /** The spec as YAML (the format {@link #read} takes), sorted by tensor name. */
  public String toYaml() {
    StringBuilder b = new StringBuilder("tensors:\n");
    new TreeMap<>(tensors).forEach((t, axes) -> {
      b.append("  ").append(t).append(": [");
      for (int a = 0; a < axes.size(); a++) {
        Axis x = axes.get(a);
        b.append(a == 0 ? "" : ", ").append(x == null ? "null" : x.block() == 1 ? x.perm() : "{perm: " + x.perm() + ", block: " + x.block() + "}");
      }
      b.append("]\n");
    });
    return b.toString();
  }
}
