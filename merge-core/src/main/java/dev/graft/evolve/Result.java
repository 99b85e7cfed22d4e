package dev.graft.evolve;

import java.util.Map;

/**
 * What evaluating one candidate on the fit splits gave.
 *
 * @param fitness the weighted mean over fitness tasks of each task's primary metric, oriented so that larger is
 *     better; {@link Double#NEGATIVE_INFINITY} when the evaluation failed
 * @param tasks each task's primary metric as reported (accuracy, perplexity, ...), by task name, including tasks of
 *     weight 0 (behaviour descriptors)
 * @param examples per-example scores in [0, 1] of the fitness tasks, concatenated in task order (what M2N2's
 *     resource competition counts), or null when the evaluator does not compute them
 * @param error why the evaluation failed, or null
 * @param seconds wall time of the evaluation
 */
public record Result(double fitness, Map<String, Double> tasks, float[] examples, String error, double seconds) {
  public Result {
    tasks = tasks == null ? Map.of() : java.util.Collections.unmodifiableMap(new java.util.LinkedHashMap<>(tasks));
  }

  /** A failed evaluation: worst fitness, the reason kept. */
  public static Result failed(String error, double seconds) {
    return new Result(Double.NEGATIVE_INFINITY, Map.of(), null, error, seconds);
  }

  public boolean ok() {
    return error == null;
  }
}
