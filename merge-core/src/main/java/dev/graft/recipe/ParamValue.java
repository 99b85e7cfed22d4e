package dev.graft.recipe;

import java.util.List;
import java.util.Objects;
import java.util.Optional;

/**
 * A parameter value as a recipe writes it: a scalar, a gradient (a list of numbers interpolated over the layers of a
 * slice) or a list of {@code {filter, value}} conditions (first match on the tensor name wins).
 */
public sealed interface ParamValue {
  /**
   * The value for one tensor, or empty when no condition matches (the next level of precedence decides).
   *
   * @param tensorName the tensor's name, matched by substring against filters
   * @param t position of the tensor's layer in its slice, in [0, 1] (0 for embeddings, final norm and LM head)
   */
  Optional<Object> resolve(String tensorName, double t);

  /** A number (Double), a boolean, a string, or a path; never null. */
  record Scalar(Object value) implements ParamValue {
    public Scalar {
      Objects.requireNonNull(value, "value");
      if (value instanceof Number n && !(value instanceof Double)) {
        value = n.doubleValue();
      }
    }

    @Override
    public Optional<Object> resolve(String tensorName, double t) {
      return Optional.of(value);
    }
  }

  /**
   * Numbers at evenly spaced positions 0, 1/(n-1), ..., 1, linearly interpolated (mergekit's {@code np.interp}).
   */
  record Gradient(List<Double> points) implements ParamValue {
    public Gradient {
      points = List.copyOf(points);
      if (points.isEmpty()) {
        throw new IllegalArgumentException("a gradient needs at least one value");
      }
    }

    public double at(double t) {
      int n = points.size();
      if (n == 1) {
        return points.get(0);
      }
      double x = Math.max(0, Math.min(1, t)) * (n - 1);
      int i = (int) Math.floor(x);
      if (i >= n - 1) {
        return points.get(n - 1);
      }
      double f = x - i;
      return (1 - f) * points.get(i) + f * points.get(i + 1);
    }

    @Override
    public Optional<Object> resolve(String tensorName, double t) {
      return Optional.of(at(t));
    }
  }

  /** One condition: {@code filter} null or {@code "*"} matches every tensor, otherwise a substring of its name. */
  record Condition(String filter, ParamValue value) {
    public Condition {
      Objects.requireNonNull(value, "value");
      if (value instanceof Filtered) {
        throw new IllegalArgumentException("conditions do not nest");
      }
    }

    public boolean matches(String tensorName) {
      return filter == null || filter.equals("*") || tensorName.contains(filter);
    }
  }

  record Filtered(List<Condition> conditions) implements ParamValue {
    public Filtered {
      conditions = List.copyOf(conditions);
    }

    @Override
    public Optional<Object> resolve(String tensorName, double t) {
      for (Condition c : conditions) {
        if (c.matches(tensorName)) {
          return c.value().resolve(tensorName, t);
        }
      }
      return Optional.empty();
    }
  }

  static ParamValue of(Object scalar) {
    return new Scalar(scalar);
  }
}
