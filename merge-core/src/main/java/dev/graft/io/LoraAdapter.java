package dev.graft.io;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.graft.InvalidInputException;
import dev.graft.internal.Parallel;
import dev.graft.tensor.Shape;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Collections;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.regex.Pattern;

/**
 * A PEFT LoRA adapter ({@code adapter_config.json} + {@code adapter_model.safetensors}) applied to its base model the
 * way PEFT's {@code merge_and_unload} does, which is what mergekit's {@code model+lora} references mean: for each
 * adapted linear layer {@code W += scale · B·A} (transposed for {@code fan_in_fan_out} layers), for adapted embeddings
 * {@code W += scale · (B·A)ᵀ}, with {@code scale = lora_alpha / r} ({@code / √r} with {@code use_rslora}; per-module r
 * and alpha from {@code rank_pattern} and {@code alpha_pattern}); tensors of {@code modules_to_save} replace the base's.
 * The product is accumulated in double and added in float32. DoRA and other PEFT methods are refused.
 */
public final class LoraAdapter implements AutoCloseable {
  public static final String CONFIG = "adapter_config.json";
  public static final String WEIGHTS = "adapter_model.safetensors";
  private static final String PREFIX = "base_model.model.";
  private static final ObjectMapper JSON = new ObjectMapper();

  /**
   * One adapted tensor of the base.
   *
   * @param a the adapter's A tensor ({@code [r, in]}, or {@code [r, vocab]} for an embedding)
   * @param b its B tensor ({@code [out, r]}, or {@code [dim, r]})
   * @param scale alpha / r (or / √r)
   * @param transposed the base stores the layer {@code [in, out]} (fan_in_fan_out), or it is an embedding
   */
  record Delta(String a, String b, double scale, boolean transposed) {}

  private final Path dir;
  private final Checkpoint weights;
  private final Map<String, Delta> deltas;
  private final Map<String, String> replaced;

  private LoraAdapter(Path dir, Checkpoint weights, Map<String, Delta> deltas, Map<String, String> replaced) {
    this.dir = dir;
    this.weights = weights;
    this.deltas = Collections.unmodifiableMap(deltas);
    this.replaced = Collections.unmodifiableMap(replaced);
  }

  /** Whether {@code name} (a base tensor) is changed by this adapter. */
  public boolean modifies(String name) {
    return deltas.containsKey(name) || replaced.containsKey(name);
  }

  /** Reads and checks an adapter folder (headers only). */
  public static LoraAdapter open(Path dir) {
    Path cfg = dir.resolve(CONFIG);
    if (!Files.isRegularFile(cfg)) {
      throw new InvalidInputException(dir + " is not a LoRA adapter: it has no " + CONFIG + " (a PEFT adapter folder has "
          + CONFIG + " and " + WEIGHTS + ")");
    }
    JsonNode c;
    try {
      c = JSON.readTree(cfg.toFile());
    } catch (IOException e) {
      throw new InvalidInputException(cfg + ": not valid JSON (" + e.getMessage().lines().findFirst().orElse("") + ")");
    }
    String type = c.path("peft_type").asText("LORA");
    if (!type.equalsIgnoreCase("LORA")) {
      throw new InvalidInputException(cfg + ": peft_type " + type + " is not LoRA; only LoRA adapters can be merged into their model");
    }
    if (c.path("use_dora").asBoolean(false)) {
      throw new InvalidInputException(cfg + ": DoRA adapters (use_dora: true) are not supported; merge it with PEFT's merge_and_unload and name that folder");
    }
    Path file = dir.resolve(WEIGHTS);
    if (!Files.isRegularFile(file)) {
      throw new InvalidInputException(dir + ": no " + WEIGHTS + (Files.exists(dir.resolve("adapter_model.bin"))
          ? " (only adapter_model.bin, a pickle file, which Graft does not load: save the adapter with safe_serialization=True)" : ""));
    }
    int r = c.path("r").asInt(8);
    double alpha = c.path("lora_alpha").asDouble(8);
    boolean rslora = c.path("use_rslora").asBoolean(false);
    boolean fanInFanOut = c.path("fan_in_fan_out").asBoolean(false);
    Map<String, Double> rankPattern = numbers(c.path("rank_pattern"));
    Map<String, Double> alphaPattern = numbers(c.path("alpha_pattern"));
    Checkpoint w = Checkpoint.open(file);
    try {
      Map<String, Delta> deltas = new LinkedHashMap<>();
      Map<String, String> replaced = new LinkedHashMap<>();
      List<String> problems = new ArrayList<>();
      for (String name : w.tensors().keySet()) {
        String n = name.startsWith(PREFIX) ? name.substring(PREFIX.length()) : name;
        String module;
        boolean embedding;
        if (n.endsWith(".lora_A.weight")) {
          module = n.substring(0, n.length() - ".lora_A.weight".length());
          embedding = false;
        } else if (n.endsWith(".lora_embedding_A")) {
          module = n.substring(0, n.length() - ".lora_embedding_A".length());
          embedding = true;
        } else if (n.endsWith(".lora_B.weight") || n.endsWith(".lora_embedding_B")) {
          continue; // paired with its A
        } else if (n.contains("lora_magnitude_vector")) {
          throw new InvalidInputException(file + ": tensor " + name + " is a DoRA magnitude; DoRA adapters are not supported");
        } else if (n.contains(".lora_")) {
          problems.add(name + " (not a LoRA A/B weight Graft knows)");
          continue;
        } else {
          replaced.put(n, name); // modules_to_save: a full tensor replacing the base's
          continue;
        }
        String bName = name.substring(0, name.length() - (embedding ? "A".length() : "A.weight".length())) + (embedding ? "B" : "B.weight");
        if (!w.contains(bName)) {
          problems.add(name + " has no " + bName);
          continue;
        }
        Shape a = w.info(name).shape();
        Shape b = w.info(bName).shape();
        if (a.rank() != 2 || b.rank() != 2 || a.dim(0) != b.dim(1)) {
          problems.add(name + " " + a + " and " + bName + " " + b + " are not a rank-r pair [r, in] and [out, r]");
          continue;
        }
        double rm = pattern(rankPattern, module, r);
        double am = pattern(alphaPattern, module, alpha);
        if (rm != a.dim(0)) {
          problems.add(name + " has rank " + a.dim(0) + " but the config says r = " + (long) rm + " for " + module);
          continue;
        }
        double scale = am / (rslora ? Math.sqrt(rm) : rm);
        deltas.put(module + ".weight", new Delta(name, bName, scale, embedding || fanInFanOut));
      }
      if (!problems.isEmpty()) {
        throw new InvalidInputException(file + ": " + String.join("; ", problems));
      }
      if (deltas.isEmpty() && replaced.isEmpty()) {
        throw new InvalidInputException(file + ": the adapter holds no LoRA weights");
      }
      return new LoraAdapter(dir, w, deltas, replaced);
    } catch (RuntimeException e) {
      w.close();
      throw e;
    }
  }

  private static Map<String, Double> numbers(JsonNode n) {
    Map<String, Double> m = new LinkedHashMap<>();
    for (Iterator<Map.Entry<String, JsonNode>> it = n.fields(); it.hasNext(); ) {
      Map.Entry<String, JsonNode> e = it.next();
      m.put(e.getKey(), e.getValue().asDouble());
    }
    return m;
  }

  /** PEFT's pattern lookup: the first key that matches the end of the module name on a dot boundary. */
  private static double pattern(Map<String, Double> patterns, String module, double fallback) {
    for (Map.Entry<String, Double> e : patterns.entrySet()) {
      if (Pattern.compile("(.*\\.)?(" + e.getKey() + ")$").matcher(module).matches()) {
        return e.getValue();
      }
    }
    return fallback;
  }

  /** Checks every target against the base's shapes; throws naming each tensor that does not fit. */
  public void check(Map<String, Shape> base) {
    List<String> problems = new ArrayList<>();
    deltas.forEach((target, d) -> {
      Shape s = base.get(target);
      Shape a = weights.info(d.a()).shape();
      Shape b = weights.info(d.b()).shape();
      Shape expected = d.transposed() ? Shape.of(a.dim(1), b.dim(0)) : Shape.of(b.dim(0), a.dim(1));
      if (s == null) {
        problems.add(d.a() + " adapts " + target + ", which the base model does not have");
      } else if (!s.equals(expected)) {
        problems.add(d.a() + " " + a + " and " + d.b() + " " + b + " make a " + expected + " update, but " + target + " is " + s);
      }
    });
    replaced.forEach((target, name) -> {
      Shape s = base.get(target);
      if (s == null) {
        problems.add(name + " replaces " + target + ", which the base model does not have");
      } else if (!s.equals(weights.info(name).shape())) {
        problems.add(name + " " + weights.info(name).shape() + " replaces " + target + " " + s);
      }
    });
    if (!problems.isEmpty()) {
      throw new InvalidInputException("LoRA adapter " + dir + " does not fit its base model: " + String.join("; ", problems));
    }
  }

  /**
   * The base tensor {@code name} with the adapter applied: the adapter's own tensor for {@code modules_to_save} (the
   * base is not read), else the base's values from {@code base}, updated in place.
   */
  public float[] read(String name, java.util.function.Supplier<float[]> base) {
    String full = replaced.get(name);
    if (full != null) {
      return weights.readFloats(full);
    }
    Delta d = deltas.get(name);
    float[] values = base.get();
    if (d == null) {
      return values;
    }
    float[] a = weights.readFloats(d.a());
    float[] b = weights.readFloats(d.b());
    int r = (int) weights.info(d.a()).shape().dim(0);
    int in = (int) weights.info(d.a()).shape().dim(1); // columns of A
    int out = (int) weights.info(d.b()).shape().dim(0); // rows of B
    double scale = d.scale();
    // (B·A)[o, i] = Σ_k B[o, k] · A[k, i]; the base holds it at [o, i], or at [i, o] when transposed
    Parallel.forBlocks(out, Math.min(out, 16), (bl, lo, hi) -> { // disjoint rows (or columns): any order, same bits
      double[] row = new double[in];
      for (int o = lo; o < hi; o++) {
        java.util.Arrays.fill(row, 0);
        for (int k = 0; k < r; k++) {
          double bk = b[o * r + k];
          int ak = k * in;
          for (int i = 0; i < in; i++) {
            row[i] += bk * a[ak + i];
          }
        }
        if (d.transposed()) {
          for (int i = 0; i < in; i++) {
            values[i * out + o] += (float) (scale * row[i]);
          }
        } else {
          int at = o * in;
          for (int i = 0; i < in; i++) {
            values[at + i] += (float) (scale * row[i]);
          }
        }
      }
    });
    return values;
  }

  @Override
  public void close() {
    weights.close();
  }
}
