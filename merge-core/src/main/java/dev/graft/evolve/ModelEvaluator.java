package dev.graft.evolve;

import dev.graft.eval.EvalModel;
import dev.graft.eval.Fitness;
import dev.graft.eval.Score;
import dev.graft.io.ModelConfig;
import dev.graft.model.Weights;
import dev.graft.tensor.Device;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Scores model-space genomes: the weights become a model held in memory (a classifier's parameters are replaced
 * in place between candidates; a language model is built per candidate) and are scored on the fit splits.
 */
final class ModelEvaluator implements CandidateEvaluator {
  private final ModelConfig config;
  private final WeightLayout layout;
  private final Fitness fitness;
  private final Path tokenizerDir;
  private final Device device;
  private EvalModel model;

  ModelEvaluator(ModelConfig config, WeightLayout layout, Fitness fitness, Path tokenizerDir, Device device) {
    this.config = config;
    this.layout = layout;
    this.fitness = fitness;
    this.tokenizerDir = tokenizerDir;
    this.device = device;
  }

  /** The genome as a model (owned by this evaluator; valid until the next call). */
  EvalModel model(Genome genome) {
    Weights w = layout.weights((Genome.Flat) genome, "candidate");
    if (model == null || !model.reload(w)) {
      if (model != null) {
        model.close();
        model = null;
      }
      model = EvalModel.of(config, w, "config.json of the model space", tokenizerDir, device);
    }
    return model;
  }

  @Override
  public Result evaluate(Genome genome) {
    long t0 = System.nanoTime();
    try {
      return score(fitness, model(genome), t0);
    } catch (RuntimeException e) {
      return Result.failed(Evaluators.reason(e), (System.nanoTime() - t0) / 1e9);
    }
  }

  static Result score(Fitness fitness, EvalModel m, long t0) {
    List<Score> s = fitness.scores(m);
    Map<String, Double> tasks = new LinkedHashMap<>();
    for (Score x : s) {
      tasks.put(x.task(), x.value());
    }
    return new Result(fitness.value(s), tasks, fitness.examples(s), null, (System.nanoTime() - t0) / 1e9);
  }

  @Override
  public void close() {
    if (model != null) {
      model.close();
      model = null;
    }
  }
}
