package dev.graft.eval;

import com.fasterxml.jackson.databind.JsonNode;
import dev.graft.data.Dataset;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

/**
 * What optimisers score candidates with: the fit splits of some tasks, each with a weight, and nothing else. It
 * copies references to the fit data only when built, so no code path from a fitness value can reach a held-out
 * example.
 */
public final class Fitness {
  private record FitSplit(TaskSpec spec, Dataset dataset, List<JsonNode> examples, double weight) {}

  private final List<FitSplit> splits;

  private Fitness(List<FitSplit> splits) {
    this.splits = splits;
  }

  /** The fit splits of {@code tasks}, every task of weight 1. */
  public static Fitness of(List<Task> tasks) {
    double[] w = new double[tasks.size()];
    Arrays.fill(w, 1);
    return of(tasks, w);
  }

  /**
   * The fit splits of {@code tasks} with weights; a task of weight 0 is scored (e.g. as a behaviour descriptor) but
   * does not count in {@link #value}.
   *
   * @throws IllegalArgumentException unless every weight is finite and non-negative and one is positive
   */
  public static Fitness of(List<Task> tasks, double[] weights) {
    if (weights.length != tasks.size() || Arrays.stream(weights).anyMatch(w -> !(w >= 0) || Double.isInfinite(w))
        || Arrays.stream(weights).noneMatch(w -> w > 0)) {
      throw new IllegalArgumentException("task weights must be finite, non-negative, one per task, and one must be positive; found "
          + Arrays.toString(weights));
    }
    List<FitSplit> s = new ArrayList<>();
    for (int i = 0; i < tasks.size(); i++) {
      switch (tasks.get(i)) {
        case Task.Classification c -> s.add(new FitSplit(c.spec(), c.fit(), null, weights[i]));
        case Task.Text x -> s.add(new FitSplit(x.spec(), null, x.fit(), weights[i]));
      }
    }
    return new Fitness(List.copyOf(s));
  }

  /** One fit-split score per task, in order. */
  public List<Score> scores(EvalModel model) {
    List<Score> out = new ArrayList<>();
    for (FitSplit f : splits) {
      out.add(f.dataset() != null ? Evaluator.classification(model, f.spec(), f.dataset(), "fit")
          : Evaluator.text(model, f.spec(), f.examples(), "fit"));
    }
    return out;
  }

  /** The weighted mean of {@link Score#fitness()} over tasks of positive weight. */
  public double value(List<Score> scores) {
    double s = 0;
    double w = 0;
    for (int i = 0; i < splits.size(); i++) {
      double wi = splits.get(i).weight();
      if (wi > 0) {
        s += wi * scores.get(i).fitness();
        w += wi;
      }
    }
    return s / w;
  }

  /** The weighted mean over tasks of each primary metric oriented so that larger is better. */
  public double value(EvalModel model) {
    return value(scores(model));
  }

  /**
   * Per-example scores of the tasks of positive weight, concatenated in task order and multiplied by their task's
   * weight (what M2N2 treats as resources), or null when a task has none (loss, perplexity).
   */
  public float[] examples(List<Score> scores) {
    int n = 0;
    for (int i = 0; i < splits.size(); i++) {
      if (splits.get(i).weight() > 0) {
        if (scores.get(i).perExample() == null) {
          return null;
        }
        n += scores.get(i).perExample().length;
      }
    }
    float[] out = new float[n];
    int at = 0;
    for (int i = 0; i < splits.size(); i++) {
      float w = (float) splits.get(i).weight();
      if (w > 0) {
        for (float v : scores.get(i).perExample()) {
          out[at++] = v * w;
        }
      }
    }
    return out;
  }

  /** Names of the tasks whose primary metric has no per-example scores (M2N2 cannot use them). */
  public List<String> tasksWithoutExampleScores() {
    List<String> out = new ArrayList<>();
    for (FitSplit f : splits) {
      boolean each = switch (f.spec().kind()) {
        case "classification" -> f.spec().metric().equals("accuracy");
        case "perplexity" -> false;
        default -> true;
      };
      if (f.weight() > 0 && !each) {
        out.add(f.spec().name() + " (" + f.spec().metric() + ")");
      }
    }
    return out;
  }
}
