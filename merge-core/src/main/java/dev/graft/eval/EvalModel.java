package dev.graft.eval;

import com.fasterxml.jackson.databind.JsonNode;
import dev.graft.InvalidInputException;
import dev.graft.io.Checkpoint;
import dev.graft.io.ModelConfig;
import dev.graft.model.CausalLm;
import dev.graft.model.Classifier;
import dev.graft.model.ClassifierConfig;
import dev.graft.model.LlamaConfig;
import dev.graft.model.TextTokenizer;
import dev.graft.model.Weights;
import dev.graft.plan.MergePlan;
import dev.graft.plan.MergeRunner;
import dev.graft.tensor.Device;
import java.nio.file.Files;
import java.nio.file.Path;

/** A model tasks can score: a Graft classifier, or a causal language model with its tokenizer. */
public sealed interface EvalModel extends AutoCloseable {
  /** "classifier" or "language model", for messages. */
  String kind();

  @Override
  void close();

  /**
   * Replaces the weights in place when the runtime can (classifiers), so a model of the same shapes is scored
   * without being built again.
   *
   * @return false when this runtime cannot: build a new model instead
   */
  default boolean reload(Weights weights) {
    return false;
  }

  /**
   * A classifier.
   *
   * @param model the network
   */
  record Image(Classifier model) implements EvalModel {
    @Override
    public String kind() {
      return "classifier";
    }

    @Override
    public boolean reload(Weights weights) {
      model.setWeights(weights);
      return true;
    }

    @Override
    public void close() {
      model.close();
    }
  }

  /**
   * A causal language model.
   *
   * @param model the network
   * @param tokenizer its tokenizer, or null when the folder has none (token-id tasks only)
   * @param eos end-of-sequence ids that stop generation
   */
  record Language(CausalLm model, TextTokenizer tokenizer, int[] eos) implements EvalModel {
    @Override
    public String kind() {
      return "language model";
    }

    @Override
    public void close() {
      model.close();
      if (tokenizer != null) {
        tokenizer.close();
      }
    }
  }

  /** Loads a model folder, choosing the runtime from {@code config.json}'s {@code model_type}. */
  static EvalModel load(Path dir, Device device) {
    try (Checkpoint c = Checkpoint.open(dir)) {
      ModelConfig cfg = c.config().orElseThrow(() -> new InvalidInputException(
          dir + ": no config.json, so Graft cannot tell what network this is; copy it from the model the weights came from"));
      return of(cfg, Weights.of(c), dir, device);
    }
  }

  /** A model from weights held anywhere (e.g. a merge in memory); {@code files} holds its tokenizer, if any. */
  static EvalModel of(ModelConfig cfg, Weights weights, Path files, Device device) {
    return of(cfg, weights, files.resolve("config.json").toString(), Files.isRegularFile(files.resolve("tokenizer.json")) ? files : null, device);
  }

  /**
   * A model from weights held anywhere.
   *
   * @param where where the config came from, for messages
   * @param tokenizerDir folder holding {@code tokenizer.json}, or null for none (token-id tasks only)
   */
  static EvalModel of(ModelConfig cfg, Weights weights, String where, Path tokenizerDir, Device device) {
    if (ClassifierConfig.isClassifier(cfg)) {
      return new Image(Classifier.of(ClassifierConfig.of(cfg, where), weights, device));
    }
    CausalLm lm = CausalLm.of(LlamaConfig.of(cfg, where), weights, device);
    try {
      TextTokenizer tok = tokenizerDir != null ? TextTokenizer.load(tokenizerDir) : null;
      JsonNode e = cfg.json().get("eos_token_id");
      int[] eos = e == null || e.isNull() ? new int[0]
          : e.isArray() ? java.util.stream.StreamSupport.stream(e.spliterator(), false).mapToInt(JsonNode::asInt).toArray()
          : new int[] {e.asInt()};
      return new Language(lm, tok, eos);
    } catch (RuntimeException ex) {
      lm.close();
      throw ex;
    }
  }

  /**
   * The model a merge recipe describes, merged in memory (nothing written; earlier stages of a multi-stage recipe go to
   * a temporary folder): validated first, then merged with {@code seed} for random operators.
   */
  static EvalModel ofRecipe(Path recipe, long seed, int threads, Device device, MergeRunner.Listener listener) {
    java.util.List<dev.graft.recipe.Recipe> stages = dev.graft.recipe.RecipeReader.read(recipe);
    java.util.List<MergePlan> plans = MergeRunner.prepare(stages, dev.graft.plan.ModelResolver.forRecipeWithDownloads(recipe, dev.graft.io.Progress.NONE),
        dev.graft.op.Operators.builtIn());
    try (dev.graft.tensor.spi.Backend be = dev.graft.tensor.Backends.create("auto", device)) {
      dev.graft.plan.MergeExecutor.Options opt = new dev.graft.plan.MergeExecutor.Options(be, seed, Long.MAX_VALUE, threads,
          Runtime.getRuntime().maxMemory() / 4);
      return of(MergeRunner.runInMemory(plans, opt, listener), device);
    }
  }

  /** The output of a merge held in memory (the same numbers as the checkpoint {@code graft merge} would write). */
  static EvalModel of(MergeRunner.Merged merged, Device device) {
    MergePlan p = merged.plan();
    if (p.config() == null) {
      throw new InvalidInputException("the merge has no config.json (its reference model " + p.output().label()
          + " has none), so Graft cannot tell what network it is; add config.json to that model's folder");
    }
    return of(ModelConfig.of(p.config()), Weights.of("merge of " + java.util.Objects.requireNonNullElse(p.recipe().source().file(), "a recipe"), merged.tensors(), merged.shapes()),
        "config.json of " + p.output().label(), merged.tokenizerDir(), device);
  }
}
