package dev.graft.eval;

import java.util.Map;

/**
 * A model's result on one split of one task.
 *
 * @param task task name
 * @param split {@code fit} or {@code held-out}
 * @param metric the primary metric's name
 * @param value the primary metric
 * @param higherIsBetter whether a larger value is better (false for loss and perplexity)
 * @param examples examples scored
 * @param metrics every metric computed, the primary one included
 * @param perExample each example's score in [0, 1] (right or wrong for accuracy, multiple choice and exact match), or
 *     null for metrics that have none (loss, perplexity)
 */
public record Score(String task, String split, String metric, double value, boolean higherIsBetter, int examples,
    Map<String, Double> metrics, float[] perExample) {
  /** A score without per-example values. */
  public Score(String task, String split, String metric, double value, boolean higherIsBetter, int examples, Map<String, Double> metrics) {
    this(task, split, metric, value, higherIsBetter, examples, metrics, null);
  }

  @Override
  public boolean equals(Object o) {
    return o instanceof Score s && task.equals(s.task) && split.equals(s.split) && metric.equals(s.metric)
        && Double.compare(value, s.value) == 0 && higherIsBetter == s.higherIsBetter && examples == s.examples
        && metrics.equals(s.metrics) && java.util.Arrays.equals(perExample, s.perExample);
  }

  @Override
  public int hashCode() {
    return java.util.Objects.hash(task, split, metric, value, higherIsBetter, examples, metrics) * 31 + java.util.Arrays.hashCode(perExample);
  }

  @Override
  public String toString() {
    return "Score[" + task + " " + split + " " + metric + "=" + value + ", " + examples + " examples, " + metrics + "]";
  }

  /** The value oriented so that larger is better (what optimisers maximise). */
  public double fitness() {
    return higherIsBetter ? value : -value;
  }
}
