package dev.graft.recipe;

import dev.graft.InvalidInputException;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.snakeyaml.engine.v2.api.LoadSettings;
import org.snakeyaml.engine.v2.api.lowlevel.Compose;
import org.snakeyaml.engine.v2.common.ScalarStyle;
import org.snakeyaml.engine.v2.exceptions.YamlEngineException;
import org.snakeyaml.engine.v2.nodes.MappingNode;
import org.snakeyaml.engine.v2.nodes.Node;
import org.snakeyaml.engine.v2.nodes.ScalarNode;
import org.snakeyaml.engine.v2.nodes.SequenceNode;

/**
 * Reads mergekit YAML recipes (one or several documents separated by {@code ---}) into {@link Recipe} values.
 *
 * <p>This checks the schema only (keys, shapes of values, types); which methods and parameters exist is checked by
 * the validator against the operator registry. Every problem found is reported, with file, line, column and YAML
 * path, in one {@link RecipeException}.
 */
public final class RecipeReader {
  static final Set<String> TOP_KEYS =
      Set.of(
          "name", "merge_method", "base_model", "models", "slices", "modules", "parameters", "dtype", "out_dtype",
          "tokenizer_source", "tokenizer", "chat_template", "align");
  private static final Set<String> MODEL_KEYS = Set.of("model", "parameters");
  private static final Set<String> SLICE_KEYS = Set.of("sources", "base_model", "parameters");
  private static final Set<String> SOURCE_KEYS = Set.of("model", "layer_range", "parameters");

  private final String file;
  private final List<Problem> problems = new ArrayList<>();
  private Map<String, Location> locations;

  private RecipeReader(String file) {
    this.file = file;
  }

  /** Reads every document of a recipe file. */
  public static List<Recipe> read(Path file) {
    String text;
    try {
      text = Files.readString(file, StandardCharsets.UTF_8);
    } catch (NoSuchFileException e) {
      throw new InvalidInputException("recipe " + file + " does not exist");
    } catch (IOException e) {
      throw new InvalidInputException("cannot read recipe " + file + ": " + e.getMessage());
    }
    return parse(text, file.toString());
  }

  /** Reads every document of a recipe given as text; {@code label} names it in messages. */
  public static List<Recipe> parse(String text, String label) {
    return new RecipeReader(label).parseAll(text);
  }

  private List<Recipe> parseAll(String text) {
    List<Recipe> out = new ArrayList<>();
    List<Node> docs = new ArrayList<>();
    try {
      LoadSettings settings = LoadSettings.builder().setLabel(file == null ? "recipe" : file).setUseMarks(true).build();
      new Compose(settings).composeAllFromString(text).forEach(docs::add);
    } catch (YamlEngineException e) {
      throw new RecipeException(List.of(YamlFields.syntaxProblem(e, file)));
    }
    if (docs.isEmpty()) {
      throw new RecipeException(List.of(new Problem(file, 0, 0, "", "the recipe is empty", "A recipe needs at least merge_method and models or slices")));
    }
    for (Node doc : docs) {
      locations = new HashMap<>();
      Recipe r = document(doc);
      if (r != null) {
        out.add(r);
      }
    }
    if (!problems.isEmpty()) {
      throw new RecipeException(problems);
    }
    return List.copyOf(out);
  }

  // ------------------------------------------------------------------ documents

  private Recipe document(Node doc) {
    mark("", doc);
    Map<String, Node> top = mapping(doc, "", TOP_KEYS);
    if (top == null) {
      return null;
    }
    int before = problems.size();
    String name = string(top.get("name"), "name");
    String method = string(top.get("merge_method"), "merge_method");
    if (method == null && !top.containsKey("merge_method")) {
      add(doc, "", "missing merge_method", "Add e.g. 'merge_method: linear' (see 'graft operators')");
    }
    ModelRef base = modelRef(top.get("base_model"), "base_model");
    if (top.containsKey("modules")) {
      add(top.get("modules"), "modules", "multimodal 'modules:' recipes are not supported", "Merge each module's weights with its own recipe");
    }
    List<Recipe.InputModel> models = List.of();
    List<Recipe.Slice> slices = List.of();
    boolean hasModels = top.containsKey("models");
    boolean hasSlices = top.containsKey("slices");
    if (hasModels && hasSlices) {
      add(top.get("slices"), "slices", "a recipe has either 'models' or 'slices', found both", "Keep one of them");
    } else if (!hasModels && !hasSlices && !top.containsKey("modules")) {
      add(doc, "", "missing 'models' or 'slices'", "List the input models under 'models:' (or layer ranges under 'slices:')");
    }
    if (hasModels) {
      models = models(top.get("models"));
    } else if (hasSlices) {
      slices = slices(top.get("slices"));
    }
    Map<String, ParamValue> params = parameters(top.get("parameters"), "parameters");
    String dtype = string(top.get("dtype"), "dtype");
    String outDtype = string(top.get("out_dtype"), "out_dtype");
    String tokSource = string(top.get("tokenizer_source"), "tokenizer_source");
    Map<String, Recipe.TokenSource> tokens = Map.of();
    int pad = 0;
    if (top.containsKey("tokenizer")) {
      if (top.containsKey("tokenizer_source")) {
        add(top.get("tokenizer"), "tokenizer", "'tokenizer' and 'tokenizer_source' are mutually exclusive", "Keep one of them");
      }
      Map<String, Node> tok = mapping(top.get("tokenizer"), "tokenizer", Set.of("source", "tokens", "pad_to_multiple_of"));
      if (tok != null) {
        tokSource = tok.containsKey("source") ? string(tok.get("source"), "tokenizer.source") : "union"; // mergekit's default in a tokenizer: block
        if (tok.containsKey("pad_to_multiple_of")) {
          pad = positiveInt(tok.get("pad_to_multiple_of"), "tokenizer.pad_to_multiple_of",
              "Write e.g. 'pad_to_multiple_of: 64': the output's embedding rows are rounded up to a multiple of it");
        }
        if (tok.containsKey("tokens")) {
          tokens = tokenSources(tok.get("tokens"));
        }
      }
    }
    String chat = string(top.get("chat_template"), "chat_template");
    Recipe.Align align = null;
    if (top.containsKey("align")) {
      Map<String, Node> a = mapping(top.get("align"), "align", Set.of("method", "reference", "spec", "max_sweeps"));
      if (a != null) {
        String m = a.containsKey("method") ? string(a.get("method"), "align.method") : "weight_matching";
        if (m != null && !m.equals("weight_matching")) {
          add(a.get("method"), "align.method", "unknown alignment method '" + m + "'", "Graft aligns by 'weight_matching' (Git Re-Basin)");
        }
        String ref = string(a.get("reference"), "align.reference");
        if (!a.containsKey("reference")) {
          add(top.get("align"), "align", "missing 'reference'", "Name the model the others are aligned to, as written under 'models:' or 'base_model:'");
        }
        String spec = a.containsKey("spec") ? string(a.get("spec"), "align.spec") : "auto";
        int sweeps = 100;
        if (a.containsKey("max_sweeps")) {
          sweeps = positiveInt(a.get("max_sweeps"), "align.max_sweeps", "");
        }
        align = new Recipe.Align(m, ref, spec, sweeps);
      }
    }
    if (problems.size() > before || method == null) {
      return null;
    }
    return new Recipe(name, method, base, models, slices, params, dtype, outDtype, tokSource, chat, align, new SourceInfo(file, locations), tokens, pad);
  }

  private List<Recipe.InputModel> models(Node n) {
    List<Node> items = sequence(n, "models");
    if (items == null) {
      return List.of();
    }
    if (items.isEmpty()) {
      add(n, "models", "'models' is empty", "List at least one model");
    }
    List<Recipe.InputModel> out = new ArrayList<>();
    for (int i = 0; i < items.size(); i++) {
      String p = "models[" + i + "]";
      Node item = items.get(i);
      mark(p, item);
      if (item instanceof ScalarNode) {
        ModelRef ref = modelRef(item, p);
        if (ref != null) {
          out.add(new Recipe.InputModel(ref, Map.of()));
        }
        continue;
      }
      Map<String, Node> m = mapping(item, p, MODEL_KEYS);
      if (m == null) {
        continue;
      }
      if (!m.containsKey("model")) {
        add(item, p, "missing 'model'", "Give the model's path or Hugging Face id");
        continue;
      }
      ModelRef ref = modelRef(m.get("model"), p + ".model");
      Map<String, ParamValue> params = parameters(m.get("parameters"), p + ".parameters");
      if (ref != null) {
        out.add(new Recipe.InputModel(ref, params));
      }
    }
    return out;
  }

  private List<Recipe.Slice> slices(Node n) {
    List<Node> items = sequence(n, "slices");
    if (items == null) {
      return List.of();
    }
    if (items.isEmpty()) {
      add(n, "slices", "'slices' is empty", "List at least one slice");
    }
    List<Recipe.Slice> out = new ArrayList<>();
    for (int i = 0; i < items.size(); i++) {
      String p = "slices[" + i + "]";
      Map<String, Node> m = mapping(items.get(i), p, SLICE_KEYS);
      if (m == null) {
        continue;
      }
      if (!m.containsKey("sources")) {
        add(items.get(i), p, "missing 'sources'", "Each slice lists its sources: [{model: ..., layer_range: [a, b]}]");
        continue;
      }
      List<Node> srcs = sequence(m.get("sources"), p + ".sources");
      List<Recipe.SliceSource> sources = new ArrayList<>();
      if (srcs != null) {
        if (srcs.isEmpty()) {
          add(m.get("sources"), p + ".sources", "'sources' is empty", "List at least one source");
        }
        for (int j = 0; j < srcs.size(); j++) {
          String sp = p + ".sources[" + j + "]";
          Map<String, Node> s = mapping(srcs.get(j), sp, SOURCE_KEYS);
          if (s == null) {
            continue;
          }
          if (!s.containsKey("model") || !s.containsKey("layer_range")) {
            add(srcs.get(j), sp, "a source needs 'model' and 'layer_range'", "e.g. {model: org/name, layer_range: [0, 16]}");
            continue;
          }
          ModelRef ref = modelRef(s.get("model"), sp + ".model");
          int[] range = layerRange(s.get("layer_range"), sp + ".layer_range");
          Map<String, ParamValue> params = parameters(s.get("parameters"), sp + ".parameters");
          if (ref != null && range != null) {
            sources.add(new Recipe.SliceSource(ref, range[0], range[1], params));
          }
        }
      }
      ModelRef base = modelRef(m.get("base_model"), p + ".base_model");
      out.add(new Recipe.Slice(sources, base, parameters(m.get("parameters"), p + ".parameters")));
    }
    return out;
  }

  private int[] layerRange(Node n, String path) {
    mark(path, n);
    List<Node> items = sequence(n, path);
    if (items == null) {
      return null;
    }
    if (items.size() != 2) {
      add(n, path, "layer_range must be [start, end], found " + items.size() + " value(s)", "e.g. layer_range: [0, 16] (end exclusive)");
      return null;
    }
    int[] r = new int[2];
    for (int i = 0; i < 2; i++) {
      Object v = items.get(i) instanceof ScalarNode s ? scalar(s) : null;
      if (!(v instanceof Double d) || d != Math.rint(d) || d < 0 || d > Integer.MAX_VALUE) {
        add(items.get(i), path + "[" + i + "]", "layer_range bounds must be non-negative integers, found " + describe(items.get(i)), "");
        return null;
      }
      r[i] = (int) (double) d;
    }
    if (r[1] < r[0]) {
      add(n, path, "layer_range end " + r[1] + " is before start " + r[0], "The range is [start, end) with start <= end");
      return null;
    }
    return r;
  }

  // ------------------------------------------------------------------ parameters

  private Map<String, ParamValue> parameters(Node n, String path) {
    if (n == null || isNull(n)) {
      return Map.of();
    }
    Map<String, Node> m = mapping(n, path, null);
    if (m == null) {
      return Map.of();
    }
    Map<String, ParamValue> out = new LinkedHashMap<>();
    m.forEach((k, v) -> {
      ParamValue pv = value(v, path + "." + k);
      if (pv != null) {
        out.put(k, pv);
      }
    });
    return out;
  }

  private ParamValue value(Node n, String path) {
    mark(path, n);
    if (n instanceof ScalarNode s) {
      Object v = scalar(s);
      if (v == null) {
        add(n, path, "a parameter value must not be null", "Give a number, a list of numbers or a list of {filter, value}");
        return null;
      }
      return new ParamValue.Scalar(v);
    }
    if (n instanceof SequenceNode seq) {
      List<Node> items = seq.getValue();
      if (items.isEmpty()) {
        add(n, path, "empty list", "A list value is a gradient [a, b, ...] or conditions [{filter: ..., value: ...}]");
        return null;
      }
      if (items.get(0) instanceof MappingNode) {
        List<ParamValue.Condition> conds = new ArrayList<>();
        for (int i = 0; i < items.size(); i++) {
          String cp = path + "[" + i + "]";
          Map<String, Node> c = mapping(items.get(i), cp, Set.of("filter", "value"));
          if (c == null) {
            continue;
          }
          if (!c.containsKey("value")) {
            add(items.get(i), cp, "a condition needs 'value'", "e.g. {filter: self_attn, value: 0.5}");
            continue;
          }
          String filter = c.containsKey("filter") && !isNull(c.get("filter")) ? string(c.get("filter"), cp + ".filter") : null;
          Node vn = c.get("value");
          ParamValue inner = vn instanceof SequenceNode ? gradient((SequenceNode) vn, cp + ".value") : value(vn, cp + ".value");
          if (inner != null) {
            conds.add(new ParamValue.Condition(filter, inner));
          }
        }
        return new ParamValue.Filtered(conds);
      }
      return gradient(seq, path);
    }
    add(n, path, "expected a number, a list of numbers or a list of {filter, value}, found a mapping", "");
    return null;
  }

  private ParamValue gradient(SequenceNode seq, String path) {
    List<Double> pts = new ArrayList<>();
    for (int i = 0; i < seq.getValue().size(); i++) {
      Node item = seq.getValue().get(i);
      Object v = item instanceof ScalarNode s ? scalar(s) : null;
      if (!(v instanceof Double d)) {
        add(item, path + "[" + i + "]", "a gradient holds numbers only, found " + describe(item), "");
        return null;
      }
      pts.add(d);
    }
    if (pts.isEmpty()) {
      add(seq, path, "empty gradient", "Give one or more numbers");
      return null;
    }
    return new ParamValue.Gradient(pts);
  }

  // ------------------------------------------------------------------ YAML helpers

  /** Number (Double), Boolean, String, or null for YAML null. Quoted scalars are always strings. */
  static Object scalar(ScalarNode s) {
    String t = s.getValue();
    if (s.getScalarStyle() != ScalarStyle.PLAIN) {
      return t;
    }
    switch (t) {
      case "", "~", "null", "Null", "NULL" -> {
        return null;
      }
      case "true", "True", "TRUE" -> {
        return Boolean.TRUE;
      }
      case "false", "False", "FALSE" -> {
        return Boolean.FALSE;
      }
      default -> {}
    }
    if (t.matches("[-+]?(\\.[0-9]+|[0-9]+(\\.[0-9]*)?)([eE][-+]?[0-9]+)?")) {
      return Double.parseDouble(t);
    }
    return t;
  }

  private static boolean isNull(Node n) {
    return n instanceof ScalarNode s && scalar(s) == null;
  }

  /**
   * {@code tokenizer.tokens}: per token, {@code source: MODEL}, {@code source: {kind: model_token, model: M, token: T}}
   * (or {@code token_id: N}), or {@code source: {kind: zero}}; optional {@code force: true}.
   */
  private Map<String, Recipe.TokenSource> tokenSources(Node n) {
    Map<String, Recipe.TokenSource> out = new java.util.LinkedHashMap<>();
    Map<String, Node> ts = mapping(n, "tokenizer.tokens", null);
    if (ts == null) {
      return out;
    }
    ts.forEach((token, spec) -> {
      String path = "tokenizer.tokens." + token;
      Map<String, Node> m = mapping(spec, path, Set.of("source", "force"));
      if (m == null) {
        return;
      }
      boolean force = false;
      String f = string(m.get("force"), path + ".force");
      if (f != null) {
        if (!f.equals("true") && !f.equals("false")) {
          add(m.get("force"), path + ".force", "force must be true or false, found '" + f + "'", "");
        }
        force = f.equals("true");
      }
      Node src = m.get("source");
      if (src == null) {
        add(spec, path, "missing 'source' (a model, {kind: model_token, model: M, token: T} or {kind: zero})", "");
        return;
      }
      if (src instanceof ScalarNode) {
        out.put(token, new Recipe.TokenSource("model", string(src, path + ".source"), null, -1, force));
        return;
      }
      Map<String, Node> s = mapping(src, path + ".source", Set.of("kind", "model", "token", "token_id"));
      if (s == null) {
        return;
      }
      String kind = string(s.get("kind"), path + ".source.kind");
      if ("zero".equals(kind)) {
        out.put(token, new Recipe.TokenSource("zero", null, null, -1, force));
      } else if ("model_token".equals(kind)) {
        String model = string(s.get("model"), path + ".source.model");
        String from = string(s.get("token"), path + ".source.token");
        String id = string(s.get("token_id"), path + ".source.token_id");
        int tokenId = -1;
        if (id != null) {
          try {
            tokenId = Integer.parseInt(id);
          } catch (NumberFormatException e) {
            tokenId = -2;
          }
        }
        if (model == null || (from == null) == (id == null) || tokenId < -1) {
          add(src, path + ".source", "model_token needs 'model' and one of 'token' or 'token_id' (a row number)", "");
          return;
        }
        out.put(token, new Recipe.TokenSource("model_token", model, from, tokenId, force));
      } else {
        add(s.getOrDefault("kind", src), path + ".source.kind", "unknown source kind '" + kind + "'", "Use model_token or zero, or name a model");
      }
    });
    return out;
  }

  private Map<String, Node> mapping(Node n, String path, Set<String> allowed) {
    mark(path, n);
    return YamlFields.entries(n, path, allowed, this::add, this::mark);
  }

  private List<Node> sequence(Node n, String path) {
    mark(path, n);
    if (!(n instanceof SequenceNode s)) {
      add(n, path, "expected a list, found " + describe(n), "");
      return null;
    }
    return s.getValue();
  }

  /** A positive integer at {@code path}, or 0 after reporting what was found there. */
  private int positiveInt(Node n, String path, String fix) {
    String v = n instanceof ScalarNode sn ? sn.getValue() : "";
    int x;
    try {
      x = Integer.parseInt(v);
    } catch (NumberFormatException e) {
      x = 0;
    }
    if (x < 1) {
      add(n, path, path.substring(path.lastIndexOf('.') + 1) + " must be a positive integer, found '" + v + "'", fix);
      return 0;
    }
    return x;
  }

  private String string(Node n, String path) {
    if (n == null || isNull(n)) {
      return null;
    }
    mark(path, n);
    if (!(n instanceof ScalarNode s)) {
      add(n, path, "expected a string, found " + describe(n), "");
      return null;
    }
    return s.getValue();
  }

  private ModelRef modelRef(Node n, String path) {
    String s = string(n, path);
    if (s == null) {
      return null;
    }
    if (s.isBlank()) {
      add(n, path, "empty model reference", "Give a path, a Hugging Face id or an earlier stage's name");
      return null;
    }
    return ModelRef.parse(s.strip());
  }

  static String describe(Node n) {
    if (n instanceof MappingNode) {
      return "a mapping";
    }
    if (n instanceof SequenceNode) {
      return "a list";
    }
    Object v = scalar((ScalarNode) n);
    if (v instanceof Double d && d == Math.rint(d) && Math.abs(d) < 1e15) {
      return Long.toString(d.longValue());
    }
    return v == null ? "null" : v instanceof String str ? "'" + str + "'" : v.toString();
  }

  private void mark(String path, Node n) {
    n.getStartMark().ifPresent(m -> locations.putIfAbsent(path, new Location(m.getLine() + 1, m.getColumn() + 1)));
  }

  private void add(Node n, String path, String message, String hint) {
    Location l = n.getStartMark().map(m -> new Location(m.getLine() + 1, m.getColumn() + 1)).orElse(Location.UNKNOWN);
    problems.add(new Problem(file, l.line(), l.column(), path, message, hint));
  }
}
