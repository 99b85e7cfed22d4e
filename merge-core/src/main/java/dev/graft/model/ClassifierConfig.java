package dev.graft.model;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.graft.InvalidInputException;
import dev.graft.io.ModelConfig;
import dev.graft.tensor.Shape;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * A small image classifier as stored in {@code config.json}: an MLP ({@code model_type: graft_mlp}) or a CNN
 * ({@code graft_cnn}: 3x3 "same" convolutions, each followed by ReLU and 2x2 max pooling, then the MLP head).
 * Tensors use PyTorch names and layouts: {@code convK.weight [out, in, k, k]}, {@code fcK.weight [out, in]},
 * with biases, K from 1.
 *
 * @param kind {@code mlp} or {@code cnn}
 * @param inputShape shape of one example, e.g. {@code [64]} or {@code [1, 8, 8]}
 * @param channels output channels of each convolution (empty for an MLP)
 * @param kernel convolution kernel size (odd)
 * @param hidden sizes of the hidden fully-connected layers
 * @param classes number of classes
 */
public record ClassifierConfig(String kind, int[] inputShape, int[] channels, int kernel, int[] hidden, int classes) {
  private static final ObjectMapper JSON = new ObjectMapper();

  public ClassifierConfig {
    List<String> p = new ArrayList<>();
    if (!kind.equals("mlp") && !kind.equals("cnn")) {
      p.add("kind must be mlp or cnn, found '" + kind + "'");
    }
    if (inputShape.length == 0 || Arrays.stream(inputShape).anyMatch(d -> d <= 0)) {
      p.add("input_shape must list positive sizes, found " + Arrays.toString(inputShape));
    }
    if (kind.equals("cnn") && inputShape.length != 3) {
      p.add("a cnn takes input_shape [channels, height, width], found " + Arrays.toString(inputShape));
    }
    if (kind.equals("cnn") && (kernel <= 0 || kernel % 2 == 0)) {
      p.add("kernel_size must be odd and positive, found " + kernel);
    }
    if (kind.equals("cnn") && channels.length == 0) {
      p.add("a cnn needs at least one entry in channels");
    }
    if (kind.equals("cnn") && inputShape.length == 3 && channels.length > 0
        && (inputShape[1] >> channels.length) < 1) {
      p.add(channels.length + " pooled convolutions shrink " + inputShape[1] + "x" + inputShape[2] + " below 1x1; use fewer channels entries");
    }
    if (Arrays.stream(channels).anyMatch(c -> c <= 0) || Arrays.stream(hidden).anyMatch(h -> h <= 0)) {
      p.add("channels and hidden_sizes must be positive");
    }
    if (classes < 2) {
      p.add("num_classes must be >= 2, found " + classes);
    }
    if (!p.isEmpty()) {
      throw new InvalidInputException("classifier config: " + String.join("; ", p));
    }
  }

  /** An MLP {@code in -> hidden... -> classes}. */
  public static ClassifierConfig mlp(int in, int[] hidden, int classes) {
    return new ClassifierConfig("mlp", new int[] {in}, new int[0], 3, hidden, classes);
  }

  /** A CNN over {@code [c, h, w]} images. */
  public static ClassifierConfig cnn(int[] inputShape, int[] channels, int[] hidden, int classes) {
    return new ClassifierConfig("cnn", inputShape, channels, 3, hidden, classes);
  }

  public int inputSize() {
    return Arrays.stream(inputShape).reduce(1, (a, b) -> a * b);
  }

  /** Size of the flattened convolutional features entering {@code fc1}. */
  int flatFeatures() {
    if (kind.equals("mlp")) {
      return inputSize();
    }
    int h = inputShape[1] >> channels.length;
    int w = inputShape[2] >> channels.length;
    return channels[channels.length - 1] * h * w;
  }

  /** Every tensor and its shape, in order. */
  public Map<String, Shape> tensors() {
    Map<String, Shape> t = new LinkedHashMap<>();
    int in = kind.equals("cnn") ? inputShape[0] : 0;
    for (int i = 0; i < channels.length; i++) {
      t.put("conv" + (i + 1) + ".weight", Shape.of(channels[i], in, kernel, kernel));
      t.put("conv" + (i + 1) + ".bias", Shape.of(channels[i]));
      in = channels[i];
    }
    int f = flatFeatures();
    for (int i = 0; i <= hidden.length; i++) {
      int out = i < hidden.length ? hidden[i] : classes;
      t.put("fc" + (i + 1) + ".weight", Shape.of(out, f));
      t.put("fc" + (i + 1) + ".bias", Shape.of(out));
      f = out;
    }
    return t;
  }

  /** Whether {@code config} describes a Graft classifier. */
  public static boolean isClassifier(ModelConfig config) {
    String t = config.modelType().orElse("");
    return t.equals("graft_mlp") || t.equals("graft_cnn");
  }

  /** Reads a classifier's config; {@code where} names the file in messages. */
  public static ClassifierConfig of(ModelConfig config, String where) {
    ObjectNode j = config.json();
    String type = config.modelType().orElse("");
    if (!type.equals("graft_mlp") && !type.equals("graft_cnn")) {
      throw new InvalidInputException(where + ": model_type '" + type + "' is not a Graft classifier (graft_mlp or graft_cnn)");
    }
    try {
      return new ClassifierConfig(type.substring("graft_".length()), ints(j, "input_shape", where, true),
          ints(j, "channels", where, false), j.path("kernel_size").asInt(3), ints(j, "hidden_sizes", where, false),
          j.path("num_classes").asInt(-1));
    } catch (InvalidInputException e) {
      throw new InvalidInputException(where + ": " + e.getMessage(), e);
    }
  }

  private static int[] ints(ObjectNode j, String key, String where, boolean required) {
    JsonNode n = j.get(key);
    if (n == null || n.isNull()) {
      if (required) {
        throw new InvalidInputException("missing field " + key + " (a list of positive integers)");
      }
      return new int[0];
    }
    if (!n.isArray()) {
      throw new InvalidInputException("field " + key + " must be a list of integers, found " + n);
    }
    int[] out = new int[n.size()];
    for (int i = 0; i < out.length; i++) {
      if (!n.get(i).isIntegralNumber()) {
        throw new InvalidInputException("field " + key + "[" + i + "] must be an integer, found " + n.get(i));
      }
      out[i] = n.get(i).asInt();
    }
    return out;
  }

  /** The {@code config.json} tree. */
  public ObjectNode toJson() {
    ObjectNode c = JSON.createObjectNode();
    c.putArray("architectures").add(kind.equals("mlp") ? "GraftMLP" : "GraftCNN");
    c.put("model_type", "graft_" + kind);
    ArrayNode s = c.putArray("input_shape");
    Arrays.stream(inputShape).forEach(s::add);
    if (kind.equals("cnn")) {
      ArrayNode ch = c.putArray("channels");
      Arrays.stream(channels).forEach(ch::add);
      c.put("kernel_size", kernel);
    }
    ArrayNode h = c.putArray("hidden_sizes");
    Arrays.stream(hidden).forEach(h::add);
    c.put("num_classes", classes);
    c.put("torch_dtype", "float32");
    return c;
  }
}
