package dev.graft.plan;

import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.graft.internal.Names;
import dev.graft.io.Checkpoint;
import dev.graft.io.ModelConfig;
import dev.graft.op.MergeOperator;
import dev.graft.op.OperatorSpec;
import dev.graft.op.OperatorSpec.BaseUse;
import dev.graft.op.Operators;
import dev.graft.op.ParamSpec;
import dev.graft.op.Params;
import dev.graft.recipe.ParamValue;
import dev.graft.recipe.Problem;
import dev.graft.recipe.Recipe;
import dev.graft.recipe.RecipeException;
import dev.graft.recipe.SourceInfo;
import dev.graft.tensor.DType;
import dev.graft.tensor.Shape;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.function.Function;
import java.util.regex.Matcher;

/**
 * Turns a recipe into a {@link MergePlan}, validating everything that can be checked from headers before a weight
 * is read: method and parameter names (with did-you-mean), parameter types and ranges, scopes, base model rules,
 * model counts, layer ranges, missing tensors, shape and vocabulary mismatches. All problems are reported together.
 *
 * <p>Planning follows mergekit: {@code models:} becomes one slice over every layer; each output layer of a slice of n
 * layers gets t = k/(n−1) (t = 1 when n = 1) for gradients; tensors outside layers (embeddings, final norm, LM head)
 * get t = 0 and come from the first slice's models (embeddings) or the last slice's (everything else). Parameter
 * precedence: per-model (source) > slice > global > default.
 */
public final class Planner {
  private final Operators operators;

  public Planner(Operators operators) {
    this.operators = operators;
  }

  /** One source of a normalised slice, with the YAML path of its parameters. */
  private record Src(String ref, int start, int end, Map<String, ParamValue> params, String path) {}

  /** A normalised slice. */
  private record Sl(List<Src> sources, String base, Map<String, ParamValue> params, String path) {}

  /**
   * Plans one recipe.
   *
   * @param views the model of each reference (by {@link dev.graft.recipe.ModelRef#toString()}), or null when
   *     unresolved; the caller reports unresolved models
   * @param fisherFiles opens a Fisher file named by a {@code fisher} parameter, or null when it does not exist
   * @return the plan, or null when a model was unresolved (which the caller reports) and nothing else was wrong
   * @throws RecipeException with every problem found
   */
  public MergePlan plan(Recipe r, Function<String, ModelView> views, Function<String, ModelView> fisherFiles) {
    State s = new State(r);
    s.run(views, fisherFiles);
    if (!s.problems.isEmpty()) {
      throw new RecipeException(new ArrayList<>(s.problems));
    }
    return s.result;
  }

  private final class State {
    final Recipe r;
    final SourceInfo src;
    final LinkedHashSet<Problem> problems = new LinkedHashSet<>();
    final List<String> warnings = new ArrayList<>();
    MergePlan result;
    MergeOperator op;
    OperatorSpec spec;
    final List<ModelView> models = new ArrayList<>();
    final Map<String, Integer> modelIndex = new HashMap<>();
    final List<ModelView> fisherViews = new ArrayList<>();

    State(Recipe r) {
      this.r = r;
      this.src = r.source();
    }

    void problem(String path, String message, String hint) {
      problems.add(src.problem(path, message, hint));
    }

    int index(ModelView v) {
      return modelIndex.computeIfAbsent(v.label(), k -> {
        models.add(v);
        return models.size() - 1;
      });
    }

    void run(Function<String, ModelView> views, Function<String, ModelView> fishers) {
      // Resolve every model first; without them nothing else can be checked.
      Map<String, ModelView> vs = new HashMap<>();
      for (dev.graft.recipe.ModelRef m : r.referencedModels()) {
        ModelView v = views.apply(m.toString());
        if (v != null) {
          vs.put(m.toString(), v);
        }
      }
      Optional<MergeOperator> found = operators.find(r.mergeMethod());
      if (found.isEmpty()) {
        problem("merge_method", "unknown merge method '" + r.mergeMethod() + "' (expected one of: " + String.join(", ", operators.names()) + ")",
            Names.didYouMean(r.mergeMethod(), operators.names()));
        return;
      }
      op = found.get();
      spec = op.spec();
      checkParamNames();
      DType outDtype = dtype(r.outDtype(), "out_dtype");
      DType dtype = dtype(r.dtype(), "dtype");
      if (outDtype == null) {
        outDtype = dtype;
      }
      if (vs.size() < r.referencedModels().size()) {
        return;
      }
      List<Sl> slices = normalise(vs);
      if (slices.isEmpty() || !problems.isEmpty()) {
        return;
      }
      String base = r.baseModel() == null ? null : r.baseModel().toString();
      checkBase(slices, base);
      if (!problems.isEmpty()) {
        return;
      }
      plan(defaultFishers(slices, fishers), vs, base, outDtype, fishers);
    }

    // ---------------------------------------------------------------- names, scopes, dtypes

    void checkParamNames() {
      checkParams(r.parameters(), "parameters", false);
      for (int i = 0; i < r.models().size(); i++) {
        checkParams(r.models().get(i).parameters(), "models[" + i + "].parameters", true);
      }
      for (int i = 0; i < r.slices().size(); i++) {
        Recipe.Slice sl = r.slices().get(i);
        checkParams(sl.parameters(), "slices[" + i + "].parameters", false);
        for (int j = 0; j < sl.sources().size(); j++) {
          checkParams(sl.sources().get(j).parameters(), "slices[" + i + "].sources[" + j + "].parameters", true);
        }
      }
    }

    void checkParams(Map<String, ParamValue> ps, String path, boolean perModel) {
      for (Map.Entry<String, ParamValue> e : ps.entrySet()) {
        String p = path + "." + e.getKey();
        Optional<ParamSpec> ps0 = spec.param(e.getKey());
        if (ps0.isEmpty()) {
          String expected = spec.params().isEmpty() ? "it takes none" : "expected one of: " + String.join(", ", spec.paramNames());
          problem(p, "unknown parameter '" + e.getKey() + "' for method '" + spec.name() + "' (" + expected + ")",
              Names.didYouMean(e.getKey(), spec.paramNames()));
          continue;
        }
        ParamSpec ps1 = ps0.get();
        if (perModel && ps1.scope() == ParamSpec.Scope.GLOBAL) {
          problem(p, "'" + e.getKey() + "' is a global parameter of '" + spec.name() + "' and cannot be set per model",
              "Move it to the top-level (or slice-level) parameters");
          continue;
        }
        checkValue(ps1, e.getValue(), p);
      }
    }

    void checkValue(ParamSpec ps, ParamValue v, String path) {
      switch (v) {
        case ParamValue.Scalar sc -> coerce(ps, sc.value(), path);
        case ParamValue.Gradient g -> {
          if (ps.type() != ParamSpec.Type.NUMBER) {
            problem(path, "'" + ps.name() + "' is " + ps.summary() + "; a gradient (list of numbers) is only allowed for numbers", "");
            return;
          }
          for (int i = 0; i < g.points().size(); i++) {
            coerce(ps, g.points().get(i), path + "[" + i + "]");
          }
        }
        case ParamValue.Filtered f -> {
          for (int i = 0; i < f.conditions().size(); i++) {
            checkValue(ps, f.conditions().get(i).value(), path + "[" + i + "].value");
          }
        }
      }
    }

    Object coerce(ParamSpec ps, Object raw, String path) {
      try {
        return ps.coerce(raw);
      } catch (IllegalArgumentException e) {
        problem(path, "'" + ps.name() + "' " + e.getMessage(), "");
        return null;
      }
    }

    DType dtype(String text, String path) {
      if (text == null) {
        return null;
      }
      DType d = switch (text.toLowerCase(java.util.Locale.ROOT)) {
        case "float32", "fp32", "f32", "float" -> DType.F32;
        case "float16", "fp16", "f16", "half" -> DType.F16;
        case "bfloat16", "bf16" -> DType.BF16;
        case "float64", "fp64", "f64", "double" -> DType.F64;
        default -> null;
      };
      if (d == null) {
        problem(path, "unknown dtype '" + text + "' (expected bfloat16, float16 or float32)",
            Names.didYouMean(text, List.of("bfloat16", "float16", "float32")));
      }
      return d;
    }

    String pathOf(String ref) {
      return r.pathOf(ref);
    }

    // ---------------------------------------------------------------- slices

    List<Sl> normalise(Map<String, ModelView> vs) {
      List<Sl> out = new ArrayList<>();
      if (!r.models().isEmpty()) {
        List<Src> srcs = new ArrayList<>();
        int layers = -1;
        String first = null;
        for (int i = 0; i < r.models().size(); i++) {
          Recipe.InputModel m = r.models().get(i);
          ModelView v = vs.get(m.model().toString());
          int n = v.layerCount();
          if (layers >= 0 && n != layers && !spec.name().equals("passthrough")) {
            problem("models[" + i + "].model", "model '" + m.model() + "' has " + n + " layers but '" + first + "' has " + layers,
                "Models merged with 'models:' must have the same depth; use 'slices:' to combine different layer ranges");
          }
          if (layers < 0) {
            layers = n;
            first = m.model().toString();
          }
          srcs.add(new Src(m.model().toString(), 0, n, m.parameters(), "models[" + i + "]"));
        }
        out.add(new Sl(srcs, null, Map.of(), "slices[0]"));
        return out;
      }
      for (int i = 0; i < r.slices().size(); i++) {
        Recipe.Slice sl = r.slices().get(i);
        List<Src> srcs = new ArrayList<>();
        int len = -1;
        for (int j = 0; j < sl.sources().size(); j++) {
          Recipe.SliceSource so = sl.sources().get(j);
          String sp = "slices[" + i + "].sources[" + j + "]";
          ModelView v = vs.get(so.model().toString());
          int n = v.layerCount();
          if (so.end() > n) {
            problem(sp + ".layer_range", "layer_range [" + so.start() + ", " + so.end() + "] is outside model '" + so.model() + "', which has " + n + " layers",
                "Layers are numbered 0.." + (n - 1) + " and the end is exclusive");
          }
          if (len >= 0 && so.layers() != len) {
            problem(sp + ".layer_range", "this source has " + so.layers() + " layers but the slice's first source has " + len,
                "All sources of a slice must cover the same number of layers");
          }
          if (len < 0) {
            len = so.layers();
          }
          srcs.add(new Src(so.model().toString(), so.start(), so.end(), so.parameters(), sp));
        }
        out.add(new Sl(srcs, sl.baseModel() == null ? null : sl.baseModel().toString(), sl.parameters(), "slices[" + i + "]"));
      }
      return out;
    }

    void checkBase(List<Sl> slices, String recipeBase) {
      for (Sl sl : slices) {
        String base = sl.base() != null ? sl.base() : recipeBase;
        boolean listed = base != null && sl.sources().stream().anyMatch(x -> x.ref().equals(base));
        int inputs = switch (spec.base()) {
          case REQUIRED -> (int) sl.sources().stream().filter(x -> !x.ref().equals(base)).count() + 1;
          case OPTIONAL -> (int) sl.sources().stream().filter(x -> !x.ref().equals(base)).count();
          default -> sl.sources().size();
        };
        String where = r.models().isEmpty() ? sl.path() + ".sources" : "models";
        if (spec.base() == BaseUse.REQUIRED && base == null) {
          problem("", "method '" + spec.name() + "' needs a base_model (the model the task vectors are taken from)",
              "Add 'base_model: <path or id>' at the top level");
        } else if (spec.base() == BaseUse.ONE_OF_INPUTS && (base == null || !listed)) {
          problem(base == null ? "" : "base_model", "method '" + spec.name() + "' needs base_model to be one of its " + spec.minInputs() + " models (t = 0 gives it)",
              base == null ? "Add 'base_model:' naming one of the models" : "List '" + base + "' among the models too");
        }
        if (inputs < spec.minInputs() || inputs > spec.maxInputs()) {
          String want = spec.minInputs() == spec.maxInputs() ? "exactly " + spec.minInputs()
              : spec.maxInputs() == Integer.MAX_VALUE ? "at least " + spec.minInputs() : spec.minInputs() + " to " + spec.maxInputs();
          String counted = spec.base() == BaseUse.REQUIRED ? " (the base model included)" : spec.base() == BaseUse.OPTIONAL ? " (besides the base model)" : "";
          problem(where, "method '" + spec.name() + "' merges " + want + " models" + counted + ", found " + inputs, "");
        }
      }
    }

    /** For 'fisher': models without a 'fisher' parameter use REF.fisher.safetensors when it exists ('graft fisher' writes it there). */
    List<Sl> defaultFishers(List<Sl> slices, Function<String, ModelView> fishers) {
      if (!spec.name().equals("fisher")) {
        return slices;
      }
      List<Sl> out = new ArrayList<>();
      for (Sl sl : slices) {
        List<Src> srcs = new ArrayList<>();
        for (Src so : sl.sources()) {
          String sibling = so.ref() + ".fisher.safetensors";
          if (!so.params().containsKey("fisher") && fishers.apply(sibling) != null) {
            Map<String, ParamValue> p = new java.util.LinkedHashMap<>(so.params());
            p.put("fisher", new ParamValue.Scalar(sibling));
            so = new Src(so.ref(), so.start(), so.end(), p, so.path());
          }
          srcs.add(so);
        }
        out.add(new Sl(srcs, sl.base(), sl.params(), sl.path()));
      }
      return out;
    }

    // ---------------------------------------------------------------- tensors

    void plan(List<Sl> slices, Map<String, ModelView> vs, String recipeBase, DType outDtype, Function<String, ModelView> fishers) {
      boolean usesBase = spec.base() != BaseUse.UNUSED;
      ModelView baseView = recipeBase == null ? null : vs.get(recipeBase);
      ModelView reference = usesBase && baseView != null ? baseView : vs.get(slices.get(0).sources().get(0).ref());
      if (usesBase && baseView != null) {
        index(baseView); // the base is model 0 in plans and dry runs
      }
      // Fisher files, one per model source (by reference), checked up front.
      Map<String, Integer> fisherIndex = new HashMap<>();
      if (spec.name().equals("fisher")) {
        for (Sl sl : slices) {
          for (Src so : sl.sources()) {
            ParamValue pv = so.params().get("fisher");
            Object raw = pv == null ? null : pv.resolve("", 0).orElse(null);
            if (raw == null) {
              problem(so.path(), "model '" + so.ref() + "' has no 'fisher' file and there is no " + so.ref() + ".fisher.safetensors beside it",
                  "Run 'graft fisher " + so.ref() + " --task TASK', or give parameters: {fisher: path/to/fisher.safetensors}");
              continue;
            }
            ModelView fv = fishers.apply(raw.toString());
            if (fv == null) {
              problem(so.path() + ".parameters.fisher", "Fisher file '" + raw + "' does not exist", "Compute it with 'graft fisher' or fix the path");
              continue;
            }
            fisherIndex.computeIfAbsent(so.ref(), k -> {
              fisherViews.add(fv);
              return fisherViews.size() - 1;
            });
          }
        }
        if (!problems.isEmpty()) {
          return;
        }
      }
      String tokSource = r.tokenizerSource();
      ModelView vocabFrom = null;
      UnionVocab union = null;
      if (tokSource != null) {
        if (tokSource.equals("union")) {
          List<ModelView> order = new ArrayList<>();
          order.add(reference);
          vs.values().stream().filter(v -> v != reference && !order.contains(v)).forEach(order::add);
          String at = r.source().has("tokenizer_source") ? "tokenizer_source" : "tokenizer.source"; // or the tokenizer: block
          int before = problems.size();
          try {
            union = UnionVocab.build(order, Planner::embeddingRows, r.tokens(), r.padToMultipleOf(), (path, message) -> problem(path, message, ""));
          } catch (dev.graft.InvalidInputException e) {
            problem(at, e.getMessage(), "tokenizer_source: union matches rows by token text; use 'base' or a model to match by id");
            return;
          }
          if (problems.size() > before) {
            return;
          }
          if (union.tokens().size() > union.referenceSize()) {
            warnings.add("tokenizer_source union: " + (union.tokens().size() - union.referenceSize()) + " token(s) added to '" + reference.label()
                + "''s vocabulary of " + union.referenceSize());
          }
        }
        vocabFrom = tokSource.equals("union") ? reference : tokSource.equals("base") ? baseView : vs.get(tokSource);
        if (vocabFrom == null) {
          problem("tokenizer_source", tokSource.equals("base") ? "tokenizer_source is 'base' but the recipe has no base_model"
              : "tokenizer_source '" + tokSource + "' is not one of the recipe's models", "Use 'base' or the name of one of the models");
          return;
        }
      }
      if (r.padToMultipleOf() > 0 && !"union".equals(tokSource)) {
        problem("tokenizer.pad_to_multiple_of", "padding the vocabulary needs tokenizer source 'union' (Graft builds the output's rows by token only there)",
            "Use 'tokenizer: {source: union, pad_to_multiple_of: N}' (union is the default of a tokenizer: block)");
        return;
      }
      if (!r.tokens().isEmpty() && !"union".equals(tokSource)) {
        problem("tokenizer.tokens", "per-token embedding sources need tokenizer source 'union' (Graft matches rows by token only there)",
            "Use 'tokenizer: {source: union, tokens: ...}'");
        return;
      }
      List<TensorTask> tasks = new ArrayList<>();
      Map<String, List<String>> missing = new LinkedHashMap<>();
      Set<String> vocabReported = new java.util.HashSet<>();
      List<String> nonLayer = new ArrayList<>();
      for (String n : reference.tensors().keySet()) {
        if (!ModelView.LAYER.matcher(n).matches()) {
          nonLayer.add(n);
        }
      }
      if (reference.tied()) {
        nonLayer.remove("lm_head.weight");
      }
      List<String> pre = nonLayer.stream().filter(Planner::isPre).toList();
      List<String> post = nonLayer.stream().filter(n -> !isPre(n)).toList();
      Ctx ctx = new Ctx(vs, recipeBase, outDtype, fisherIndex, vocabFrom, missing, vocabReported, tasks, union);
      for (String n : pre) {
        task(ctx, slices.get(0), n, n, 0, 0);
      }
      int outLayer = 0;
      for (Sl sl : slices) {
        int len = sl.sources().get(0).end() - sl.sources().get(0).start();
        String base = sl.base() != null ? sl.base() : recipeBase;
        Src template = sl.sources().stream().filter(x -> x.ref().equals(base)).findFirst().orElse(sl.sources().get(0));
        ModelView tv = vs.get(template.ref());
        for (int k = 0; k < len; k++) {
          double t = len > 1 ? (double) k / (len - 1) : 1.0;
          int layer = template.start() + k;
          for (String n : tv.tensors().keySet()) {
            Matcher m = ModelView.LAYER.matcher(n);
            if (m.matches() && Integer.parseInt(m.group(2)) == layer) {
              String outName = m.group(1) + "." + (outLayer + k) + "." + m.group(3);
              task(ctx, sl, outName, m.group(1) + ".%d." + m.group(3), k, t);
            }
          }
        }
        outLayer += len;
      }
      for (String n : post) {
        task(ctx, slices.get(slices.size() - 1), n, n, 0, 0);
      }
      missing.forEach((model, names) -> problem(pathOf(model), "model '" + model + "' lacks " + names.size() + " tensor(s) the merge needs, e.g. "
          + String.join(", ", names.subList(0, Math.min(3, names.size()))), "Are these models of the same architecture?"));
      if (!problems.isEmpty()) {
        return;
      }
      ObjectNode config = null;
      if (reference.config() != null) {
        config = reference.config().json();
        if (config.has("num_hidden_layers") || outLayer > 0) {
          config.put("num_hidden_layers", outLayer);
        }
        DType od = outDtype != null ? outDtype : tasks.stream().filter(x -> x.copy() == null).map(TensorTask::outDtype).findFirst().orElse(null);
        if (od != null) {
          config.put("torch_dtype", dev.graft.io.Convert.torchName(od));
        }
        for (TensorTask tt : tasks) {
          if (tt.rectifiesRows() && config.has("vocab_size")) {
            config.put("vocab_size", tt.shape().dim(0));
          }
        }
      }
      ModelView tokFrom = vocabFrom != null ? vocabFrom : reference;
      Map<String, TensorMeta> outTensors = new LinkedHashMap<>();
      tasks.forEach(tt -> outTensors.put(tt.name(), new TensorMeta(tt.outDtype(), tt.shape())));
      ModelView output = new ModelView(r.name() == null ? "<output>" : r.name(), null, outTensors,
          config == null ? null : ModelConfig.of(config), tokFrom.auxiliaryFiles());
      result = new MergePlan(r, op, models, fisherViews.stream().map(ModelView::root).toList(), tasks, config, tokFrom, output, warnings, union);
    }

    record Ctx(
        Map<String, ModelView> vs, String recipeBase, DType outDtype, Map<String, Integer> fisherIndex, ModelView vocabFrom,
        Map<String, List<String>> missing, Set<String> vocabReported, List<TensorTask> tasks, UnionVocab union) {}

    /**
     * Plans one output tensor.
     *
     * @param pattern the input name, with {@code %d} standing for the source layer (layer tensors)
     * @param k offset of the layer in the slice
     */
    void task(Ctx c, Sl sl, String outName, String pattern, int k, double t) {
      String base = sl.base() != null ? sl.base() : c.recipeBase();
      Src baseSrc = sl.sources().stream().filter(x -> x.ref().equals(base)).findFirst().orElse(null);
      List<Src> merged = new ArrayList<>();
      for (Src so : sl.sources()) {
        boolean isBase = so.ref().equals(base);
        if (isBase && (spec.base() == BaseUse.REQUIRED || spec.base() == BaseUse.OPTIONAL)) {
          continue;
        }
        merged.add(so);
      }
      // Inputs.
      List<TensorTask.Input> ins = new ArrayList<>();
      List<Params> params = new ArrayList<>();
      for (Src so : merged) {
        TensorTask.Input in = input(c, so.ref(), so.start() + k, pattern);
        if (in != null) {
          ins.add(in);
        }
        params.add(resolvePerModel(so, sl, outName, t));
      }
      TensorTask.Input baseIn = null;
      if (base != null && spec.base() != BaseUse.UNUSED) {
        int baseLayer = (baseSrc != null ? baseSrc.start() : sl.sources().get(0).start()) + k;
        baseIn = input(c, base, baseLayer, pattern);
      }
      if (ins.size() != merged.size() || (base != null && spec.base() != BaseUse.UNUSED && baseIn == null)) {
        return;
      }
      int baseIndex = -1;
      if (spec.base() == BaseUse.ONE_OF_INPUTS) {
        for (int i = 0; i < merged.size(); i++) {
          if (merged.get(i).ref().equals(base)) {
            baseIndex = i;
          }
        }
      }
      TensorTask.Input first = baseIn != null ? baseIn : ins.get(0);
      TensorMeta meta = c.vs().get(modelLabel(first)).tensors().get(first.tensor());
      // Integer and bool tensors are copied from the reference input.
      if (!meta.dtype().isFloating()) {
        c.tasks().add(new TensorTask(outName, meta.shape(), meta.dtype(), first, null, List.of(), -1, List.of(), Params.EMPTY, List.of(), null));
        return;
      }
      Shape shape = outShape(c, outName, first, ins, baseIn);
      if (shape == null) {
        return;
      }
      List<TensorTask.Input> fishers = new ArrayList<>();
      if (!c.fisherIndex().isEmpty()) {
        int have = 0;
        for (int i = 0; i < merged.size(); i++) {
          int fi = c.fisherIndex().get(merged.get(i).ref());
          ModelView fv = fisherViews.get(fi);
          TensorMeta fm = fv.tensors().get(ins.get(i).tensor());
          if (fm != null) {
            if (!fm.shape().equals(ins.get(i).shape())) {
              problem(merged.get(i).path() + ".parameters.fisher", "Fisher tensor '" + ins.get(i).tensor() + "' has shape " + fm.shape()
                  + " but the model's tensor has " + ins.get(i).shape(), "Was the Fisher file computed for this model?");
              return;
            }
            have++;
            fishers.add(new TensorTask.Input(fi, ins.get(i).tensor(), fm.shape()));
          }
        }
        if (have != 0 && have != merged.size()) {
          problem("models", "tensor '" + outName + "' has a Fisher in " + have + " of " + merged.size() + " Fisher files",
              "Every model's Fisher file must hold the same tensors (tensors in none are averaged with the plain weights)");
          return;
        }
        if (have == 0) {
          fishers.clear();
        }
      }
      Params global = resolveGlobal(sl, outName, t);
      DType od = c.outDtype() != null ? c.outDtype() : meta.dtype();
      // Rows a model lacks come from the base model first (README, "Vocabulary"), whether or not the operator merges it.
      TensorTask.Input fill = null;
      boolean byToken = c.union() != null && isVocab(outName) && shape.rank() == 2 && shape.dim(0) == c.union().rowCount();
      if (base != null && baseIn == null && (byToken || all(ins, baseIn).stream().anyMatch(i -> !i.shape().equals(shape)))) {
        fill = input(c, base, (baseSrc != null ? baseSrc.start() : sl.sources().get(0).start()) + k, pattern);
      }
      if (byToken) { // rows matched by token: each input reads its rows through its model's map
        UnionVocab u = c.union();
        ins = ins.stream().map(i -> i.withRows(u.rows().get(modelLabel(i)))).toList();
        baseIn = baseIn == null ? null : baseIn.withRows(u.rows().get(modelLabel(baseIn)));
        fill = fill == null ? null : fill.withRows(u.rows().get(modelLabel(fill)));
      }
      c.tasks().add(new TensorTask(outName, shape, od, null, baseIn, ins, baseIndex, params, global, fishers, fill));
    }

    static List<TensorTask.Input> all(List<TensorTask.Input> ins, TensorTask.Input baseIn) {
      List<TensorTask.Input> a = new ArrayList<>(ins);
      if (baseIn != null) {
        a.add(0, baseIn);
      }
      return a;
    }

    String modelLabel(TensorTask.Input in) {
      return models.get(in.model()).label();
    }

    TensorTask.Input input(Ctx c, String ref, int layer, String pattern) {
      ModelView v = c.vs().get(ref);
      String want = pattern.contains("%d") ? String.format(java.util.Locale.ROOT, pattern, layer) : pattern;
      String have = v.resolveName(want);
      if (have == null) {
        c.missing().computeIfAbsent(ref, x -> new ArrayList<>()).add(want);
        return null;
      }
      return new TensorTask.Input(index(v), have, v.tensors().get(have).shape());
    }

    /** The output shape; vocabulary row mismatches are resolved by tokenizer_source or reported. */
    Shape outShape(Ctx c, String outName, TensorTask.Input first, List<TensorTask.Input> ins, TensorTask.Input baseIn) {
      List<TensorTask.Input> all = all(ins, baseIn);
      Shape ref = first.shape();
      if (c.union() != null && isVocab(outName) && ref.rank() == 2 && all.stream().allMatch(i -> i.shape().rank() == 2 && i.shape().dim(1) == ref.dim(1))) {
        return Shape.of(c.union().rowCount(), ref.dim(1));
      }
      boolean same = all.stream().allMatch(i -> i.shape().equals(ref));
      if (same && c.vocabFrom() == null) {
        return ref;
      }
      boolean rowsOnly = ref.rank() == 2 && all.stream().allMatch(i -> i.shape().rank() == 2 && i.shape().dim(1) == ref.dim(1));
      if (!rowsOnly || !isVocab(outName)) {
        if (same) {
          return ref;
        }
        StringBuilder b = new StringBuilder();
        for (TensorTask.Input i : all) {
          b.append(b.length() == 0 ? "" : ", ").append(modelLabel(i)).append(' ').append(i.shape());
        }
        problem(pathOf(modelLabel(all.stream().filter(i -> !i.shape().equals(ref)).findFirst().orElse(first))),
            "tensor '" + outName + "' has different shapes: " + b, "Models merged together must share an architecture and size");
        return null;
      }
      if (c.vocabFrom() == null) {
        if (c.vocabReported().add("vocab")) {
          StringBuilder b = new StringBuilder();
          for (TensorTask.Input i : all) {
            b.append(b.length() == 0 ? "" : ", ").append(modelLabel(i)).append(' ').append(i.shape().dim(0));
          }
          problem("", "vocabulary sizes differ in '" + outName + "' (rows: " + b + "); Graft never truncates embeddings silently",
              "Set 'tokenizer_source: base' (or a model) to choose the output vocabulary: rows a model lacks are filled from the base model, else with the mean of the models that have them; rows beyond it are dropped");
        }
        return null;
      }
      String vocabName = c.vocabFrom().resolveName(outName);
      if (vocabName == null) {
        problem("tokenizer_source", "the tokenizer source '" + c.vocabFrom().label() + "' has no tensor '" + outName + "'", "");
        return null;
      }
      Shape target = c.vocabFrom().tensors().get(vocabName).shape();
      if (!same && c.vocabReported().add(outName)) {
        warnings.add("'" + outName + "': vocabulary rows set to " + target.dim(0) + " from the tokenizer source '" + c.vocabFrom().label() + "'");
      }
      return target;
    }

    Params resolvePerModel(Src so, Sl sl, String tensor, double t) {
      Map<String, Object> out = new LinkedHashMap<>();
      for (ParamSpec ps : spec.params()) {
        if (ps.scope() != ParamSpec.Scope.PER_MODEL) {
          continue;
        }
        Object v = first(ps, tensor, t, List.of(so.params(), sl.params(), r.parameters()));
        if (v == null && ps.required()) {
          problem(so.path(), "model '" + so.ref() + "' has no '" + ps.name() + "' for tensor '" + tensor + "' (required by '" + spec.name() + "')",
              "Give it in the model's parameters, or globally as a default");
          continue;
        }
        out.put(ps.name(), v == null ? ps.defaultValue() : v);
      }
      return new Params(out);
    }

    Params resolveGlobal(Sl sl, String tensor, double t) {
      Map<String, Object> out = new LinkedHashMap<>();
      for (ParamSpec ps : spec.params()) {
        if (ps.scope() != ParamSpec.Scope.GLOBAL) {
          continue;
        }
        Object v = first(ps, tensor, t, List.of(sl.params(), r.parameters()));
        if (v == null && ps.required()) {
          problem("parameters", "missing '" + ps.name() + "' for tensor '" + tensor + "' (required by '" + spec.name() + "': " + ps.description() + ")",
              "Add it under parameters, e.g. " + ps.name() + ": 0.5");
          continue;
        }
        out.put(ps.name(), v == null ? ps.defaultValue() : v);
      }
      return new Params(out);
    }

    /** The first level (in precedence order) that has a value for this tensor, coerced; null when none. */
    Object first(ParamSpec ps, String tensor, double t, List<Map<String, ParamValue>> levels) {
      for (Map<String, ParamValue> m : levels) {
        if (!m.containsKey(ps.name())) {
          continue;
        }
        Optional<Object> v = m.get(ps.name()).resolve(tensor, t);
        if (v.isPresent()) {
          try {
            return ps.coerce(v.get());
          } catch (IllegalArgumentException e) {
            return null; // reported by checkParamNames
          }
        }
      }
      return null;
    }
  }

  /** Embeddings come from the first slice; everything else outside layers from the last. */
  static boolean isPre(String name) {
    return name.contains("embed") || name.startsWith("wte") || name.startsWith("wpe") || name.contains(".wte.") || name.contains(".wpe.");
  }

  /** Rows of a model's input embedding (its first vocabulary tensor), or 0. */
  static int embeddingRows(ModelView v) {
    for (Map.Entry<String, TensorMeta> e : v.tensors().entrySet()) {
      if (isVocab(e.getKey()) && isPre(e.getKey()) && e.getValue().shape().rank() == 2) {
        return (int) e.getValue().shape().dim(0);
      }
    }
    return 0;
  }

  static boolean isVocab(String name) {
    return name.contains("embed_tokens") || name.startsWith("lm_head") || name.contains("wte") || name.contains("word_embeddings")
        || name.contains("embed_out") || name.contains("output.weight");
  }

  /** Opens a Fisher file's header as a view, or null when the file does not exist. */
  public static ModelView fisherView(java.nio.file.Path file) {
    if (!java.nio.file.Files.isRegularFile(file)) {
      return null;
    }
    try (Checkpoint cp = Checkpoint.open(file)) {
      ModelView v = ModelView.of(file.toString(), cp);
      // root is the file itself: a checkpoint's root is the folder of a single file, which may hold other files
      return new ModelView(v.label(), file, v.tensors(), null, List.of());
    }
  }
}
