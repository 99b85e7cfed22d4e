package dev.graft.eval;

import dev.graft.InvalidInputException;
import dev.graft.io.Checkpoint;
import dev.graft.io.ModelConfig;
import dev.graft.io.Progress;
import dev.graft.model.Weights;
import dev.graft.tensor.Device;
import dev.graft.tensor.Shape;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Scores along the straight line θ(α) = (1 − α)·θ_A + α·θ_B between two models of one architecture (Git Re-Basin's
 * central plot), and the barriers: for a loss L, max over α of L(α) − ((1 − α)·L(0) + α·L(1)); for an accuracy A,
 * max over α of ((1 − α)·A(0) + α·A(1)) − A(α). Zero barrier means linear mode connectivity.
 */
public final class Interpolation {
  private Interpolation() {}

  /**
   * One point of the path.
   *
   * @param alpha position, 0 = model A, 1 = model B
   * @param report scores on both splits
   */
  public record Point(double alpha, Evaluator.Report report) {}

  /**
   * The path and its barriers.
   *
   * @param points evenly spaced from α = 0 to 1
   * @param barriers barrier of each metric of each split, keyed {@code split/metric}
   */
  public record Result(List<Point> points, Map<String, Double> barriers) {}

  /** Evaluates {@code points} (≥ 2) evenly spaced models between the checkpoints {@code a} and {@code b}. */
  public static Result run(Path a, Path b, Task task, int points, Device device, Progress progress) {
    if (points < 2) {
      throw new InvalidInputException("--points must be >= 2, found " + points);
    }
    Map<String, float[]> wa = new LinkedHashMap<>();
    Map<String, float[]> wb = new LinkedHashMap<>();
    Map<String, Shape> shapes = new LinkedHashMap<>();
    ModelConfig config;
    try (Checkpoint ca = Checkpoint.open(a); Checkpoint cb = Checkpoint.open(b)) {
      config = ca.config().orElseThrow(() -> new InvalidInputException(a + ": no config.json"));
      List<String> problems = new ArrayList<>();
      for (String n : ca.tensors().keySet()) {
        if (!cb.contains(n)) {
          problems.add("tensor " + n + " is in " + a + " but not in " + b);
        } else if (!ca.info(n).shape().equals(cb.info(n).shape())) {
          problems.add("tensor " + n + " has shape " + ca.info(n).shape() + " in " + a + " and " + cb.info(n).shape() + " in " + b);
        }
      }
      cb.tensors().keySet().stream().filter(n -> !ca.contains(n)).forEach(n -> problems.add("tensor " + n + " is in " + b + " but not in " + a));
      if (!problems.isEmpty()) {
        throw new InvalidInputException("the two models cannot be interpolated (different architectures):\n  - "
            + String.join("\n  - ", problems.subList(0, Math.min(10, problems.size()))));
      }
      for (String n : ca.tensors().keySet()) {
        wa.put(n, ca.readFloats(n));
        wb.put(n, cb.readFloats(n));
        shapes.put(n, ca.info(n).shape());
      }
    }
    List<Point> out = new ArrayList<>();
    for (int p = 0; p < points; p++) {
      double alpha = p / (double) (points - 1);
      Map<String, float[]> mix = new LinkedHashMap<>();
      wa.forEach((n, va) -> {
        float[] vb = wb.get(n);
        float[] m = new float[va.length];
        for (int i = 0; i < m.length; i++) {
          m[i] = (float) ((1 - alpha) * va[i] + alpha * vb[i]);
        }
        mix.put(n, m);
      });
      try (EvalModel model = EvalModel.of(config, Weights.of("interpolation α=" + alpha, mix, shapes), a, device)) {
        out.add(new Point(alpha, Evaluator.evaluate(model, task)));
      }
      progress.update(p + 1, points, 0, 0);
    }
    return new Result(out, barriers(out));
  }

  static Map<String, Double> barriers(List<Point> pts) {
    Map<String, Double> b = new LinkedHashMap<>();
    Point first = pts.get(0);
    Point last = pts.get(pts.size() - 1);
    for (String split : List.of("fit", "held-out")) {
      Score s0 = split.equals("fit") ? first.report().fit() : first.report().heldOut();
      Score s1 = split.equals("fit") ? last.report().fit() : last.report().heldOut();
      for (String metric : s0.metrics().keySet()) {
        boolean higherBetter = metric.equals("accuracy") || metric.startsWith("acc") || metric.equals("exact_match");
        if (metric.equals("tokens")) {
          continue;
        }
        double worst = 0;
        for (Point p : pts) {
          Score s = split.equals("fit") ? p.report().fit() : p.report().heldOut();
          double line = (1 - p.alpha()) * s0.metrics().get(metric) + p.alpha() * s1.metrics().get(metric);
          double v = s.metrics().get(metric);
          worst = Math.max(worst, higherBetter ? line - v : v - line);
        }
        b.put(split + "/" + metric, worst);
      }
    }
    return b;
  }
}
