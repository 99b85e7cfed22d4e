package dev.graft.evolve;

import dev.graft.eval.EvalModel;
import dev.graft.eval.Fitness;
import dev.graft.io.ModelConfig;
import dev.graft.model.Weights;
import dev.graft.tensor.Device;
import java.nio.file.Path;

/**
 * Scores model-space genomes: the weights become a model held in memory (a classifier's parameters are replaced
 * in place between candidates; a language model is built per candidate) and are scored on the fit splits.
 */
final class ModelEvaluator extends ModelScorer {
  private final ModelConfig config;
  private final WeightLayout layout;
  private final Path tokenizerDir;
  private final Device device;

  ModelEvaluator(ModelConfig config, WeightLayout layout, Fitness fitness, Path tokenizerDir, Device device) {
    super(fitness);
    this.config = config;
    this.layout = layout;
    this.tokenizerDir = tokenizerDir;
    this.device = device;
  }

  @Override
  Weights weights(Genome genome) {
    return layout.weights((Genome.Flat) genome, "candidate");
  }

  @Override
  EvalModel build(Genome genome, Weights weights) {
    return EvalModel.of(config, weights, "config.json of the model space", tokenizerDir, device);
  }
}
