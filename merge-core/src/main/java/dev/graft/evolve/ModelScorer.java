package dev.graft.evolve;

import dev.graft.eval.EvalModel;
import dev.graft.eval.Fitness;
import dev.graft.eval.Score;
import dev.graft.model.Weights;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Scores genomes through a model held in memory: the genome becomes weights, the model kept from the last candidate
 * takes them in place when its runtime can (classifiers), else a model is built for them; then the fit splits are
 * scored. Subclasses say how a genome becomes weights (model space: the genome itself; recipe space: a merge).
 */
abstract class ModelScorer implements CandidateEvaluator {
  private final Fitness fitness;
  private EvalModel model;

  ModelScorer(Fitness fitness) {
    this.fitness = fitness;
  }

  /** The weights a genome stands for. */
  abstract Weights weights(Genome genome);

  /** A new model holding {@code weights}, those {@link #weights} just gave for {@code genome}. */
  abstract EvalModel build(Genome genome, Weights weights);

  /** The genome as a model (owned by this scorer; valid until the next call). */
  final EvalModel model(Genome genome) {
    Weights w = weights(genome);
    if (model == null || !model.reload(w)) {
      if (model != null) {
        model.close();
        model = null;
      }
      model = build(genome, w);
    }
    return model;
  }

  @Override
  public final Result evaluate(Genome genome) {
    long t0 = System.nanoTime();
    try {
      List<Score> s = fitness.scores(model(genome));
      Map<String, Double> tasks = new LinkedHashMap<>();
      for (Score x : s) {
        tasks.put(x.task(), x.value());
      }
      return new Result(fitness.value(s), tasks, fitness.examples(s), null, (System.nanoTime() - t0) / 1e9);
    } catch (RuntimeException e) {
      return Result.failed(Evaluators.reason(e), (System.nanoTime() - t0) / 1e9);
    }
  }

  /** Held-out scores of genomes through this scorer's models (which then belong to the returned object). */
  final Evolution.HeldOut heldOut(TaskSet tasks) {
    return new Evolution.HeldOut() {
      @Override
      public Evolution.HeldOutScore evaluate(Genome genome) {
        return tasks.heldOut(model(genome));
      }

      @Override
      public void close() {
        ModelScorer.this.close();
      }
    };
  }

  @Override
  public void close() {
    if (model != null) {
      model.close();
      model = null;
    }
  }
}
