package dev.graft.evolve;

import dev.graft.eval.EvalModel;
import dev.graft.eval.Evaluator;
import dev.graft.eval.Fitness;
import dev.graft.eval.Score;
import dev.graft.eval.Task;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * A run's tasks: fitness tasks with weights (optimised on their fit splits only) and held-out tasks (never optimised
 * on). Held-out reports score the held-out split of every task.
 */
public final class TaskSet {
  private final List<Task> tasks;
  private final double[] weights;
  private final List<Task> heldOutTasks;
  private final Fitness fitness;

  public TaskSet(List<Task> tasks, double[] weights, List<Task> heldOutTasks) {
    this.tasks = List.copyOf(tasks);
    this.weights = weights.clone();
    this.heldOutTasks = List.copyOf(heldOutTasks);
    this.fitness = Fitness.of(tasks, weights);
  }

  /** What candidates are scored with: the fit splits only. */
  public Fitness fitness() {
    return fitness;
  }

  public List<Task> tasks() {
    return tasks;
  }

  public List<Task> heldOutTasks() {
    return heldOutTasks;
  }

  /** The held-out split of every task (fitness tasks, then held-out tasks). */
  public Evolution.HeldOutScore heldOut(EvalModel model) {
    Map<String, Double> out = new LinkedHashMap<>();
    double s = 0;
    double w = 0;
    for (int i = 0; i < tasks.size(); i++) {
      Score sc = Evaluator.heldOut(model, tasks.get(i));
      out.put(sc.task(), sc.value());
      if (weights[i] > 0) {
        s += weights[i] * sc.fitness();
        w += weights[i];
      }
    }
    for (Task t : heldOutTasks) {
      Score sc = Evaluator.heldOut(model, t);
      out.put(sc.task(), sc.value());
    }
    return new Evolution.HeldOutScore(out, s / w);
  }
}
