package dev.graft.model;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.graft.InvalidInputException;
import dev.graft.io.ModelConfig;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Set;

/**
 * The fields of a Hugging Face {@code config.json} that a Llama-family decoder needs: Llama, Mistral, Qwen2/Qwen2.5
 * (q/k/v biases) and Qwen3 (q/k norms), with grouped-query attention, RoPE (default, linear and Llama 3 scaling),
 * optional sliding windows and tied embeddings.
 *
 * @param modelType {@code model_type}
 * @param vocab vocabulary size
 * @param hidden hidden size
 * @param intermediate MLP intermediate size
 * @param layers decoder layers
 * @param heads query heads
 * @param kvHeads key/value heads
 * @param headDim size of one head
 * @param rmsNormEps epsilon of every RMS norm
 * @param rope rotary embedding parameters
 * @param tieEmbeddings whether the output projection is the embedding matrix
 * @param qkvBias biases on q, k and v projections
 * @param oBias bias on the output projection
 * @param mlpBias biases on the MLP projections
 * @param qkNorm RMS norms on queries and keys per head (Qwen3)
 * @param slidingWindow attention window per layer (0 = full attention), length {@code layers}
 */
public record LlamaConfig(
    String modelType, int vocab, int hidden, int intermediate, int layers, int heads, int kvHeads, int headDim,
    double rmsNormEps, Rope rope, boolean tieEmbeddings, boolean qkvBias, boolean oBias, boolean mlpBias,
    boolean qkNorm, int[] slidingWindow) {

  /** Model types this runtime runs. */
  public static final Set<String> SUPPORTED = Set.of("llama", "mistral", "qwen2", "qwen3");

  /**
   * Rotary embedding parameters.
   *
   * @param theta base
   * @param type {@code default}, {@code linear} or {@code llama3}
   * @param factor scaling factor (1 for default)
   * @param lowFreqFactor Llama 3 low-frequency factor
   * @param highFreqFactor Llama 3 high-frequency factor
   * @param originalContext Llama 3 original context length
   */
  public record Rope(double theta, String type, double factor, double lowFreqFactor, double highFreqFactor, int originalContext) {
    /**
     * Inverse frequencies of a head of size {@code dim} ({@code dim / 2} values), as transformers computes them
     * (in float32 before scaling, so that the angles match to the last bits).
     */
    public double[] inverseFrequencies(int dim) {
      double[] inv = new double[dim / 2];
      for (int i = 0; i < inv.length; i++) {
        float exponent = (float) (2 * i) / dim;
        inv[i] = (float) (1.0 / (float) Math.pow(theta, exponent));
      }
      switch (type) {
        case "linear" -> {
          for (int i = 0; i < inv.length; i++) {
            inv[i] = (float) (inv[i] / factor);
          }
        }
        case "llama3" -> {
          double lowWavelen = originalContext / lowFreqFactor;
          double highWavelen = originalContext / highFreqFactor;
          for (int i = 0; i < inv.length; i++) {
            double wavelen = 2 * Math.PI / inv[i];
            double scaled = wavelen > lowWavelen ? inv[i] / factor : inv[i];
            boolean medium = !(wavelen < highWavelen) && !(wavelen > lowWavelen);
            if (medium) {
              double smooth = (originalContext / wavelen - lowFreqFactor) / (highFreqFactor - lowFreqFactor);
              scaled = (1 - smooth) * scaled / factor + smooth * scaled;
            }
            inv[i] = (float) scaled;
          }
        }
        default -> { }
      }
      return inv;
    }
  }

  /** Reads and checks a config; every problem is reported at once, naming the field and {@code where}. */
  public static LlamaConfig of(ModelConfig config, String where) {
    ObjectNode j = config.json();
    List<String> problems = new ArrayList<>();
    Fields f = new Fields(j, problems);
    String type = config.modelType().orElse("");
    if (!SUPPORTED.contains(type)) {
      problems.add("model_type '" + type + "' is not supported; supported: " + SUPPORTED.stream().sorted().toList()
          + (type.isEmpty() ? " (config.json has no model_type)" : ""));
    }
    int hidden = f.positive("hidden_size", -1);
    int layers = f.positive("num_hidden_layers", -1);
    int heads = f.positive("num_attention_heads", -1);
    int vocab = f.positive("vocab_size", -1);
    int intermediate = f.positive("intermediate_size", -1);
    int kvHeads = f.positive("num_key_value_heads", heads);
    int headDim = "qwen2".equals(type) || !j.hasNonNull("head_dim")
        ? (heads > 0 && hidden > 0 ? hidden / heads : -1) : f.positive("head_dim", -1);
    if (heads > 0 && kvHeads > 0 && heads % kvHeads != 0) {
      problems.add("num_attention_heads (" + heads + ") must be a multiple of num_key_value_heads (" + kvHeads + ")");
    }
    if (headDim > 0 && headDim % 2 != 0) {
      problems.add("head size " + headDim + " is odd; rotary embeddings need an even head size");
    }
    if (!j.hasNonNull("head_dim") && heads > 0 && hidden > 0 && hidden % heads != 0) {
      problems.add("hidden_size (" + hidden + ") is not a multiple of num_attention_heads (" + heads + ") and there is no head_dim");
    }
    String act = j.hasNonNull("hidden_act") ? j.get("hidden_act").asText() : "silu";
    if (!act.equals("silu")) {
      problems.add("hidden_act '" + act + "' is not supported (only silu)");
    }
    double eps = f.number("rms_norm_eps", 1e-6);
    Rope rope = rope(j, f, problems);
    boolean qwen2 = "qwen2".equals(type);
    boolean attentionBias = f.bool("attention_bias", false);
    boolean tie = f.bool("tie_word_embeddings", false);
    boolean mlpBias = f.bool("mlp_bias", false);
    int[] window = new int[Math.max(layers, 0)];
    if (type.equals("mistral")) {
      java.util.Arrays.fill(window, f.positive("sliding_window", 0));
    } else if (qwen2 || type.equals("qwen3")) {
      if (f.bool("use_sliding_window", false)) {
        int w = f.positive("sliding_window", 0);
        int from = f.positive("max_window_layers", layers);
        for (int l = from; l < window.length; l++) {
          window[l] = w;
        }
      }
    }
    if (!problems.isEmpty()) {
      throw new InvalidInputException(where + ": " + (problems.size() == 1 ? problems.get(0)
          : problems.size() + " problems:\n  - " + String.join("\n  - ", problems)));
    }
    // transformers: Llama and Qwen3 put attention_bias on q, k, v and o; Qwen2 always biases q, k, v (never o);
    // Mistral has no biases. Only Llama has mlp_bias.
    boolean biasedFamily = type.equals("llama") || type.equals("qwen3");
    return new LlamaConfig(type, vocab, hidden, intermediate, layers, heads, kvHeads, headDim, eps, rope, tie,
        qwen2 || (biasedFamily && attentionBias), biasedFamily && attentionBias, type.equals("llama") && mlpBias,
        type.equals("qwen3"), window);
  }

  private static Rope rope(ObjectNode j, Fields f, List<String> problems) {
    JsonNode params = j.get("rope_parameters"); // transformers 5 moves theta and scaling here
    JsonNode scaling = params != null && params.isObject() ? params : j.get("rope_scaling");
    double theta = params != null && params.has("rope_theta") ? params.get("rope_theta").asDouble() : f.number("rope_theta", 10000);
    if (scaling == null || scaling.isNull()) {
      return new Rope(theta, "default", 1, 1, 1, 0);
    }
    if (!scaling.isObject()) {
      problems.add("rope_scaling must be an object or null, found " + scaling);
      return new Rope(theta, "default", 1, 1, 1, 0);
    }
    String type = scaling.has("rope_type") ? scaling.get("rope_type").asText()
        : scaling.has("type") ? scaling.get("type").asText() : "default";
    type = type.toLowerCase(Locale.ROOT);
    double factor = scaling.path("factor").asDouble(1);
    switch (type) {
      case "default" -> {
        return new Rope(theta, "default", 1, 1, 1, 0);
      }
      case "linear" -> {
        if (!(factor > 0)) {
          problems.add("rope_scaling.factor must be > 0 for linear scaling, found " + scaling.get("factor"));
        }
        return new Rope(theta, "linear", factor, 1, 1, 0);
      }
      case "llama3" -> {
        double low = scaling.path("low_freq_factor").asDouble(Double.NaN);
        double high = scaling.path("high_freq_factor").asDouble(Double.NaN);
        int orig = scaling.path("original_max_position_embeddings").asInt(-1);
        if (!(factor > 0) || !(low > 0) || !(high > low) || orig <= 0) {
          problems.add("rope_scaling of type llama3 needs factor > 0, low_freq_factor > 0, high_freq_factor > low_freq_factor "
              + "and original_max_position_embeddings > 0; found " + scaling);
        }
        return new Rope(theta, "llama3", factor, low, high, orig);
      }
      default -> {
        problems.add("rope_scaling type '" + type + "' is not supported; supported: default, linear, llama3");
        return new Rope(theta, type, factor, 1, 1, 0);
      }
    }
  }

  /** Typed reads of optional fields that record a problem instead of throwing. */
  private record Fields(ObjectNode j, List<String> problems) {
    int positive(String key, int fallback) {
      JsonNode n = j.get(key);
      if (n == null || n.isNull()) {
        if (fallback < 0) {
          problems.add("missing field " + key + " (a positive integer)");
        }
        return fallback;
      }
      if (!n.isIntegralNumber() || !n.canConvertToInt() || n.asInt() <= 0) {
        problems.add("field " + key + " must be a positive integer, found " + n);
        return fallback;
      }
      return n.asInt();
    }

    double number(String key, double fallback) {
      JsonNode n = j.get(key);
      if (n == null || n.isNull()) {
        return fallback;
      }
      if (!n.isNumber() || !(n.asDouble() > 0)) {
        problems.add("field " + key + " must be a positive number, found " + n);
        return fallback;
      }
      return n.asDouble();
    }

    boolean bool(String key, boolean fallback) {
      JsonNode n = j.get(key);
      if (n == null || n.isNull()) {
        return fallback;
      }
      if (!n.isBoolean()) {
        problems.add("field " + key + " must be true or false, found " + n);
        return fallback;
      }
      return n.asBoolean();
    }
  }
}
