package dev.graft.op;

import java.util.Map;

/**
 * Resolved, typed parameter values for one tensor (global ones, or one model's). Values were checked against their
 * {@link ParamSpec}: numbers are Double, booleans Boolean, choices and paths String.
 */
public record Params(Map<String, Object> values) {
  public static final Params EMPTY = new Params(Map.of());

  public Params {
    values = Map.copyOf(values);
  }

  /**
   * An operator's declared defaults at one scope, overridden by {@code values} (keys the operator does not declare at
   * that scope are ignored): parameters as a caller outside a recipe (a test, a benchmark, an optimizer) gives them.
   */
  public static Params withDefaults(OperatorSpec spec, ParamSpec.Scope scope, Map<String, Object> values) {
    Map<String, Object> m = new java.util.HashMap<>();
    for (ParamSpec p : spec.params()) {
      if (p.scope() == scope) {
        Object v = values.containsKey(p.name()) ? p.coerce(values.get(p.name())) : p.defaultValue();
        if (v != null) {
          m.put(p.name(), v);
        }
      }
    }
    return new Params(m);
  }

  /** These values plus one more (or replaced). */
  public Params with(String name, Object value) {
    Map<String, Object> m = new java.util.HashMap<>(values);
    m.put(name, value);
    return new Params(m);
  }

  public double number(String name) {
    return (Double) get(name);
  }

  public boolean bool(String name) {
    return (Boolean) get(name);
  }

  public String text(String name) {
    return (String) get(name);
  }

  public boolean has(String name) {
    return values.containsKey(name);
  }

  private Object get(String name) {
    Object v = values.get(name);
    if (v == null) {
      throw new IllegalStateException("parameter '" + name + "' was not resolved; the planner must resolve every declared parameter");
    }
    return v;
  }
}
