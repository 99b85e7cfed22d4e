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
 */
public record Score(String task, String split, String metric, double value, boolean higherIsBetter, int examples,
    Map<String, Double> metrics) {
  /** The value oriented so that larger is better (what optimisers maximise). */
  public double fitness() {
    return higherIsBetter ? value : -value;
  }
}
