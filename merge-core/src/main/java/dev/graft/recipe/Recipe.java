package dev.graft.recipe;

import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;

/**
 * One merge, as mergekit's YAML schema describes it: a method, an optional base model, the inputs as either
 * {@code models} or {@code slices}, and parameters at global, slice and per-model level.
 *
 * <p>Compute is always float32 (a project decision); {@code dtype} is kept for compatibility and, as in mergekit,
 * is the output dtype when {@code out_dtype} is absent.
 *
 * @param name stage name in a multi-document recipe (later stages refer to it as a model), or null
 * @param mergeMethod operator name, e.g. {@code ties}
 * @param baseModel the base (pretrained) model, or null
 * @param models the inputs of the {@code models:} form (empty when {@code slices} is used)
 * @param slices the inputs of the {@code slices:} form (empty when {@code models} is used)
 * @param parameters global parameters, in recipe order
 * @param dtype mergekit's {@code dtype} as written (e.g. {@code bfloat16}), or null
 * @param outDtype {@code out_dtype} as written, or null
 * @param tokenizerSource {@code tokenizer_source} (or {@code tokenizer.source}): {@code base}, a model, or null
 * @param chatTemplate {@code chat_template}, or null
 * @param source file and positions for messages (not part of equality)
 * @param tokens {@code tokenizer.tokens}: per-token embedding sources
 * @param padToMultipleOf {@code tokenizer.pad_to_multiple_of}: the output's embedding rows rounded up to a multiple of
 *     it (zero rows added), or 0
 */
public record Recipe(
    String name,
    String mergeMethod,
    ModelRef baseModel,
    List<InputModel> models,
    List<Slice> slices,
    Map<String, ParamValue> parameters,
    String dtype,
    String outDtype,
    String tokenizerSource,
    String chatTemplate,
    Align align,
    SourceInfo source,
    Map<String, TokenSource> tokens,
    int padToMultipleOf) {

  /**
   * {@code tokenizer.tokens.<token>}: where a token's embedding row comes from, as in mergekit.
   *
   * @param kind {@code model} (the token's own row in {@code model}), {@code model_token} (the row of {@code token} or
   *     {@code tokenId} in {@code model}) or {@code zero}
   * @param model the source model as the recipe names it (null for {@code zero})
   * @param token for {@code model_token}: the source token, or null when {@code tokenId} is given
   * @param tokenId for {@code model_token}: the source row, or -1
   * @param force use the source for every model, also those that have the token
   */
  public record TokenSource(String kind, String model, String token, int tokenId, boolean force) {}

  /** A recipe without per-token embedding sources. */
  public Recipe(String name, String mergeMethod, ModelRef baseModel, List<InputModel> models, List<Slice> slices, Map<String, ParamValue> parameters,
      String dtype, String outDtype, String tokenizerSource, String chatTemplate, Align align, SourceInfo source) {
    this(name, mergeMethod, baseModel, models, slices, parameters, dtype, outDtype, tokenizerSource, chatTemplate, align, source, Map.of(), 0);
  }

  public Recipe {
    tokens = tokens == null ? Map.of() : Collections.unmodifiableMap(new LinkedHashMap<>(tokens));
    Objects.requireNonNull(mergeMethod, "mergeMethod");
    models = List.copyOf(models);
    slices = List.copyOf(slices);
    parameters = ordered(parameters);
    source = source == null ? SourceInfo.NONE : source;
    if (!models.isEmpty() && !slices.isEmpty()) {
      throw new IllegalArgumentException("a recipe has either models or slices, not both");
    }
  }

  /**
   * {@code align:} — permute the models' hidden units to line up with one of them before merging.
   *
   * @param method {@code weight_matching}
   * @param reference the model (as written in the recipe) the others are aligned to
   * @param spec {@code auto}, {@code mlp}, {@code llama} or a spec file
   * @param maxSweeps at most this many sweeps
   */
  public record Align(String method, String reference, String spec, int maxSweeps) {}

  /** One entry of {@code models:}. */
  public record InputModel(ModelRef model, Map<String, ParamValue> parameters) {
    public InputModel {
      Objects.requireNonNull(model, "model");
      parameters = ordered(parameters);
    }
  }

  /** One entry of a slice's {@code sources:}: layers [start, end) of a model. */
  public record SliceSource(ModelRef model, int start, int end, Map<String, ParamValue> parameters) {
    public SliceSource {
      Objects.requireNonNull(model, "model");
      if (start < 0 || end < start) {
        throw new IllegalArgumentException("layer_range must satisfy 0 <= start <= end, found [" + start + ", " + end + "]");
      }
      parameters = ordered(parameters);
    }

    public int layers() {
      return end - start;
    }
  }

  /** One output slice: its sources (all of the same length) and slice-level parameters. */
  public record Slice(List<SliceSource> sources, ModelRef baseModel, Map<String, ParamValue> parameters) {
    public Slice {
      sources = List.copyOf(sources);
      parameters = ordered(parameters);
    }
  }

  /** Every model named anywhere in the recipe, base first, in order of appearance, without repeats. */
  public List<ModelRef> referencedModels() {
    LinkedHashMap<String, ModelRef> all = new LinkedHashMap<>();
    if (baseModel != null) {
      all.put(baseModel.toString(), baseModel);
    }
    models.forEach(m -> all.putIfAbsent(m.model().toString(), m.model()));
    for (Slice s : slices) {
      if (s.baseModel() != null) {
        all.putIfAbsent(s.baseModel().toString(), s.baseModel());
      }
      s.sources().forEach(src -> all.putIfAbsent(src.model().toString(), src.model()));
    }
    return List.copyOf(all.values());
  }

  /** The YAML path where a model is first named ({@code base_model}, {@code models[1].model}, ...), or empty. */
  public String pathOf(String ref) {
    if (baseModel != null && baseModel.toString().equals(ref)) {
      return "base_model";
    }
    for (int i = 0; i < models.size(); i++) {
      if (models.get(i).model().toString().equals(ref)) {
        return "models[" + i + "].model";
      }
    }
    for (int i = 0; i < slices.size(); i++) {
      Slice s = slices.get(i);
      for (int j = 0; j < s.sources().size(); j++) {
        if (s.sources().get(j).model().toString().equals(ref)) {
          return "slices[" + i + "].sources[" + j + "].model";
        }
      }
      if (s.baseModel() != null && s.baseModel().toString().equals(ref)) {
        return "slices[" + i + "].base_model";
      }
    }
    return "";
  }

  public Recipe withSlices(List<Slice> newSlices) {
    return new Recipe(name, mergeMethod, baseModel, List.of(), newSlices, parameters, dtype, outDtype, tokenizerSource, chatTemplate, align, source, tokens, padToMultipleOf);
  }

  public Recipe withParameters(Map<String, ParamValue> p) {
    return new Recipe(name, mergeMethod, baseModel, models, slices, p, dtype, outDtype, tokenizerSource, chatTemplate, align, source, tokens, padToMultipleOf);
  }

  public Recipe withModels(List<InputModel> m) {
    return new Recipe(name, mergeMethod, baseModel, m, List.of(), parameters, dtype, outDtype, tokenizerSource, chatTemplate, align, source, tokens, padToMultipleOf);
  }

  static Map<String, ParamValue> ordered(Map<String, ParamValue> m) {
    return m == null ? Map.of() : Collections.unmodifiableMap(new LinkedHashMap<>(m));
  }
}
