package dev.graft.plan;

import dev.graft.io.Checkpoint;
import dev.graft.io.ModelConfig;
import dev.graft.io.TensorInfo;
import java.nio.file.Path;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.OptionalInt;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * What the planner knows about a model before any weight is read: tensor names, dtypes and shapes (from headers),
 * config.json, tokenizer files. Either an existing checkpoint or the planned output of an earlier recipe stage.
 *
 * @param label the name the recipe uses for it
 * @param root the checkpoint folder or file, or null for a stage not yet written
 * @param tensors tensors in file order
 * @param config config.json, or null
 * @param auxiliaryFiles tokenizer and generation files next to the weights
 * @param lora a LoRA adapter folder applied to the weights when they are read ({@code model+lora}), or null
 */
public record ModelView(String label, Path root, Map<String, TensorMeta> tensors, ModelConfig config, List<Path> auxiliaryFiles, Path lora) {
  /** {@code <prefix>.<layer>.<suffix>} for the usual layer containers (layers, h, blocks, layer). */
  static final Pattern LAYER = Pattern.compile("^(.*?\\b(?:layers|h|blocks|layer))\\.(\\d+)\\.(.+)$");

  public ModelView {
    tensors = Collections.unmodifiableMap(new LinkedHashMap<>(tensors));
    auxiliaryFiles = List.copyOf(auxiliaryFiles);
  }

  public ModelView(String label, Path root, Map<String, TensorMeta> tensors, ModelConfig config, List<Path> auxiliaryFiles) {
    this(label, root, tensors, config, auxiliaryFiles, null);
  }

  /** The same model read from another place (e.g. its aligned copy, written with any LoRA adapter already applied). */
  public ModelView withRoot(Path newRoot) {
    return new ModelView(label, newRoot, tensors, config, auxiliaryFiles, null);
  }

  /** This model read from its checkpoint with the LoRA adapter in {@code adapter} applied. */
  public ModelView withLora(Path adapter) {
    return new ModelView(label, root, tensors, config, auxiliaryFiles, adapter);
  }

  /** Every tensor's shape. */
  public Map<String, dev.graft.tensor.Shape> shapes() {
    Map<String, dev.graft.tensor.Shape> m = new LinkedHashMap<>();
    tensors.forEach((k, v) -> m.put(k, v.shape()));
    return m;
  }

  /** A view of an opened checkpoint (headers only). */
  public static ModelView of(String label, Checkpoint cp) {
    Map<String, TensorMeta> ts = new LinkedHashMap<>();
    for (TensorInfo ti : cp.tensors().values()) {
      ts.put(ti.name(), new TensorMeta(ti.dtype(), ti.shape()));
    }
    return new ModelView(label, cp.root(), ts, cp.config().orElse(null), cp.auxiliaryFiles());
  }

  /** Number of layers: config.json's num_hidden_layers (or n_layer, num_layers), else 1 + the largest layer index. */
  public int layerCount() {
    if (config != null) {
      for (String k : List.of("num_hidden_layers", "n_layer", "num_layers")) {
        OptionalInt v = config.integer(k);
        if (v.isPresent()) {
          return v.getAsInt();
        }
      }
    }
    int max = -1;
    for (String n : tensors.keySet()) {
      Matcher m = LAYER.matcher(n);
      if (m.matches()) {
        max = Math.max(max, Integer.parseInt(m.group(2)));
      }
    }
    return max + 1;
  }

  /** Whether input and output embeddings are tied (the rule of {@link Checkpoint#tiedEmbeddings()}). */
  public boolean tied() {
    return Checkpoint.tiedEmbeddings(config, tensors.keySet());
  }

  /**
   * The name this model holds a tensor under: the name itself, or for a tied model asked for {@code lm_head.weight},
   * its input embedding. Null when absent.
   */
  public String resolveName(String name) {
    if (tensors.containsKey(name)) {
      return name;
    }
    if (name.equals("lm_head.weight") && tensors.containsKey("model.embed_tokens.weight")) {
      return "model.embed_tokens.weight";
    }
    return null;
  }
}
