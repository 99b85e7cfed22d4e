package dev.graft.op;

import java.util.List;
import java.util.Objects;
import java.util.Optional;

/**
 * What a merge operator is and which parameters it takes.
 *
 * @param name YAML name, e.g. {@code dare_ties}
 * @param title display name
 * @param paper paper (or reference) URL
 * @param summary one line
 * @param base whether the operator needs a base model
 * @param minInputs fewest models the operator merges (the base counted when it is one of the merged inputs)
 * @param maxInputs most models (Integer.MAX_VALUE for any number)
 * @param params parameters, in help order
 */
public record OperatorSpec(
    String name, String title, String paper, String summary, BaseUse base, int minInputs, int maxInputs, List<ParamSpec> params) {

  /** How an operator uses {@code base_model}. */
  public enum BaseUse {
    /** Task-vector methods: the base is required and is not one of the merged models. */
    REQUIRED,
    /** SLERP: the base is required and must be one of the two merged models (t = 0 gives it). */
    ONE_OF_INPUTS,
    /** Used when given (nuslerp merges task vectors against it), ignored otherwise. */
    OPTIONAL,
    /** Not used (linear, passthrough, fisher): a base_model is accepted and ignored unless listed among the models. */
    UNUSED
  }

  public OperatorSpec {
    Objects.requireNonNull(name, "name");
    params = List.copyOf(params);
    long distinct = params.stream().map(ParamSpec::name).distinct().count();
    if (distinct != params.size()) {
      throw new IllegalArgumentException(name + ": duplicate parameter names");
    }
  }

  public Optional<ParamSpec> param(String key) {
    return params.stream().filter(p -> p.name().equals(key)).findFirst();
  }

  public List<String> paramNames() {
    return params.stream().map(ParamSpec::name).toList();
  }
}
