package dev.graft.eval;

import com.fasterxml.jackson.databind.JsonNode;
import dev.graft.data.Dataset;
import java.util.ArrayList;
import java.util.List;

/**
 * What optimisers score candidates with: the fit splits of some tasks, and nothing else. It copies references to
 * the fit data only when built, so no code path from a fitness value can reach a held-out example.
 */
public final class Fitness {
  private record FitSplit(TaskSpec spec, Dataset dataset, List<JsonNode> examples) {}

  private final List<FitSplit> splits;

  private Fitness(List<FitSplit> splits) {
    this.splits = splits;
  }

  /** The fit splits of {@code tasks}. */
  public static Fitness of(List<Task> tasks) {
    List<FitSplit> s = new ArrayList<>();
    for (Task t : tasks) {
      switch (t) {
        case Task.Classification c -> s.add(new FitSplit(c.spec(), c.fit(), null));
        case Task.Text x -> s.add(new FitSplit(x.spec(), null, x.fit()));
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

  /** Mean over tasks of each primary metric oriented so that larger is better. */
  public double value(EvalModel model) {
    return scores(model).stream().mapToDouble(Score::fitness).average().orElseThrow();
  }
}
