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
