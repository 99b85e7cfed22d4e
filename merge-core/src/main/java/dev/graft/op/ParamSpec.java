package dev.graft.op;

import java.util.List;
import java.util.Objects;

/**
 * One parameter of a merge operator, declared once: it drives recipe validation, {@code graft operators}, the model
 * card and the evolution genome (the range becomes a gene's bounds when {@link #evolvable()}).
 *
 * @param name the YAML key, verbatim (snake_case)
 * @param scope where it may be given: {@link Scope#PER_MODEL} parameters may be given at every level (a global value
 *     is every model's default), {@link Scope#GLOBAL} ones only at global and slice level
 * @param type value type
 * @param min smallest allowed number (numbers only)
 * @param max largest allowed number (numbers only)
 * @param defaultValue the default, or null when {@link #required()}
 * @param required whether a value must be given
 * @param evolvable whether evolution may search over it
 * @param choices allowed values of a {@link Type#CHOICE}
 * @param description one line for help and model cards
 */
public record ParamSpec(
    String name, Scope scope, Type type, double min, double max, Object defaultValue, boolean required,
    boolean evolvable, List<String> choices, String description) {

  public enum Scope {
    GLOBAL,
    PER_MODEL
  }

  public enum Type {
    NUMBER,
    BOOLEAN,
    CHOICE,
    PATH
  }

  public ParamSpec {
    Objects.requireNonNull(name, "name");
    Objects.requireNonNull(scope, "scope");
    Objects.requireNonNull(type, "type");
    choices = List.copyOf(choices);
    if (required == (defaultValue != null)) {
      throw new IllegalArgumentException(name + ": a parameter is either required or has a default");
    }
    if (evolvable && type != Type.NUMBER) {
      throw new IllegalArgumentException(name + ": only numbers are evolvable");
    }
  }

  public static ParamSpec number(String name, Scope scope, double min, double max, Double def, boolean evolvable, String description) {
    return new ParamSpec(name, scope, Type.NUMBER, min, max, def, def == null, evolvable, List.of(), description);
  }

  public static ParamSpec bool(String name, Scope scope, boolean def, String description) {
    return new ParamSpec(name, scope, Type.BOOLEAN, 0, 1, def, false, false, List.of(), description);
  }

  /** A choice among names; {@code true} and {@code false} are accepted when listed among the choices. */
  public static ParamSpec choice(String name, Scope scope, String def, List<String> choices, String description) {
    return new ParamSpec(name, scope, Type.CHOICE, 0, 0, def, false, false, choices, description);
  }

  public static ParamSpec path(String name, Scope scope, String description) {
    return new ParamSpec(name, scope, Type.PATH, 0, 0, null, true, false, List.of(), description);
  }

  /**
   * Converts a value read from YAML (Double, Boolean or String) to this parameter's type.
   *
   * @throws IllegalArgumentException saying what was expected and what was found
   */
  public Object coerce(Object raw) {
    switch (type) {
      case NUMBER -> {
        if (!(raw instanceof Double d)) {
          throw new IllegalArgumentException("expected a number, found " + show(raw));
        }
        if (!(d >= min && d <= max)) {
          throw new IllegalArgumentException("must be in " + range() + ", found " + d);
        }
        return d;
      }
      case BOOLEAN -> {
        if (raw instanceof Boolean b) {
          return b;
        }
        if (raw instanceof String s && List.of("yes", "on", "no", "off").contains(s.toLowerCase(java.util.Locale.ROOT))) {
          return s.equalsIgnoreCase("yes") || s.equalsIgnoreCase("on");
        }
        throw new IllegalArgumentException("expected true or false, found " + show(raw));
      }
      case CHOICE -> {
        String s = raw instanceof Boolean b ? b.toString() : raw instanceof String str ? str : null;
        if (s == null || !choices.contains(s)) {
          throw new IllegalArgumentException("expected one of " + String.join(", ", choices) + ", found " + show(raw));
        }
        return s;
      }
      case PATH -> {
        if (!(raw instanceof String s) || s.isBlank()) {
          throw new IllegalArgumentException("expected a file path, found " + show(raw));
        }
        return s;
      }
      default -> throw new AssertionError(type);
    }
  }

  /** {@code [0, 1]}, {@code [0, inf)}, ... */
  public String range() {
    return "[" + fmt(min) + ", " + fmt(max) + "]";
  }

  private static String fmt(double d) {
    if (Double.isInfinite(d)) {
      return d > 0 ? "inf" : "-inf";
    }
    return d == Math.rint(d) && Math.abs(d) < 1e15 ? Long.toString((long) d) : Double.toString(d);
  }

  private static String show(Object raw) {
    return raw instanceof String s ? "'" + s + "'" : String.valueOf(raw);
  }

  /** Type, range or choices and default, for help output. */
  public String summary() {
    String t = switch (type) {
      case NUMBER -> "number in " + range();
      case BOOLEAN -> "true|false";
      case CHOICE -> String.join("|", choices);
      case PATH -> "path";
    };
    String d = required ? "required" : "default " + (defaultValue instanceof Double x ? fmt(x) : defaultValue);
    return t + ", " + d + (scope == Scope.PER_MODEL ? ", per model" : "") + (evolvable ? ", evolvable" : "");
  }
}
