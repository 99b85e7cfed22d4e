package dev.graft.plan;

import com.fasterxml.jackson.databind.ObjectMapper;
import dev.graft.InvalidInputException;
import dev.graft.align.Aligner;
import dev.graft.align.PermutationSpec;
import dev.graft.align.WeightMatching;
import dev.graft.model.Weights;
import dev.graft.internal.Names;
import dev.graft.io.AtomicFiles;
import dev.graft.io.Checkpoint;
import dev.graft.io.Progress;
import dev.graft.op.Operators;
import dev.graft.recipe.Problem;
import dev.graft.recipe.Recipe;
import dev.graft.recipe.RecipeException;
import dev.graft.recipe.RecipeWriter;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.function.Function;
import java.util.stream.Stream;

/**
 * Validates and runs a whole recipe file: one or more stages (YAML documents), later ones naming earlier ones as
 * models. Everything is validated before any weight is read; the output folder appears under its name only when
 * complete (it is written under a temporary sibling name and renamed), intermediate stages are written to another
 * temporary sibling and removed at the end.
 */
public final class MergeRunner {
  /** Name of the normalised recipe written into every output (mergekit's name, so its tools find it). */
  public static final String RECIPE_FILE = "mergekit_config.yml";

  private MergeRunner() {}

  /** Receives progress per stage. */
  public interface Listener {
    Progress stage(int index, int count, MergePlan plan);

    /** Progress of aligning one model of a stage with an {@code align:} step. */
    default WeightMatching.Listener aligning(String model) {
      return WeightMatching.Listener.NONE;
    }
  }

  /**
   * Plans every stage (headers only).
   *
   * @throws RecipeException with every problem found in every stage that could be checked
   */
  public static List<MergePlan> prepare(List<Recipe> stages, ModelResolver resolver, Operators ops) {
    List<Problem> problems = new ArrayList<>();
    Map<String, MergePlan> byName = new LinkedHashMap<>();
    Map<String, ModelView> opened = new HashMap<>();
    List<MergePlan> plans = new ArrayList<>();
    Planner planner = new Planner(ops);
    for (int i = 0; i < stages.size(); i++) {
      Recipe r = stages.get(i);
      boolean last = i == stages.size() - 1;
      if (!last && r.name() == null) {
        problems.add(r.source().problem("", "stage " + (i + 1) + " of " + stages.size() + " has no 'name', so no later stage can use its output",
            "Add 'name: <stage name>' and refer to it as a model in a later stage"));
      }
      if (r.name() != null && byName.containsKey(r.name())) {
        problems.add(r.source().problem("name", "two stages are named '" + r.name() + "'", "Give each stage its own name"));
      }
      List<Problem> local = new ArrayList<>();
      java.util.function.Function<String, ModelView> views = ref -> {
        MergePlan stage = byName.get(ref);
        if (stage != null) {
          return stage.output();
        }
        ModelView v = opened.get(ref);
        if (v != null) {
          return v;
        }
        dev.graft.recipe.ModelRef parsed = dev.graft.recipe.ModelRef.parse(ref);
        String lora = parsed.lora();
        var path = resolver.resolve(parsed.name());
        String where = r.pathOf(ref);
        if (path.isEmpty()) {
          String hint = Names.didYouMean(ref, byName.keySet());
          if (hint.isEmpty()) {
            hint = nearbyPath(parsed.name(), resolver);
          }
          String tried = String.join(", ", resolver.tried(parsed.name()));
          local.add(r.source().problem(where, "model '" + ref + "' not found (looked at: " + tried + ")",
              !hint.isEmpty() ? hint
                  : ModelResolver.looksLikeHubId(ref) ? "Download it first (e.g. 'huggingface-cli download " + ref + "') or give a local path"
                  : "Check the path; relative paths resolve against the working directory, then the recipe's folder"));
          return null;
        }
        Path adapter = null;
        if (lora != null) {
          var a = resolver.resolve(lora);
          if (a.isEmpty()) {
            local.add(r.source().problem(where, "LoRA adapter '" + lora + "' of '" + ref + "' not found (looked at: "
                + String.join(", ", resolver.tried(lora)) + ")", "Give the adapter's folder (adapter_config.json, adapter_model.safetensors) after '+'"));
            return null;
          }
          adapter = a.get();
        }
        try (Checkpoint cp = Checkpoint.open(path.get(), adapter)) { // the adapter checked against the base's headers
          v = ModelView.of(ref, cp).withLora(adapter);
          opened.put(ref, v);
          return v;
        } catch (InvalidInputException e) {
          local.add(r.source().problem(where, "model '" + ref + "' cannot be read: " + e.getMessage(), ""));
          return null;
        }
      };
      java.util.function.Function<String, ModelView> fishers = f -> resolver.resolve(f).map(Planner::fisherView).orElse(null);
      MergePlan p = null;
      List<Problem> stageProblems = new ArrayList<>();
      try {
        p = planner.plan(r, views, fishers);
      } catch (RecipeException e) {
        stageProblems.addAll(e.problems());
      }
      stageProblems.addAll(0, local);
      if (p == null || !stageProblems.isEmpty()) {
        // A failed stage cannot feed later ones: stop here rather than report the consequences.
        problems.addAll(stageProblems);
        break;
      }
      if (r.align() != null) {
        List<Problem> ap = checkAlign(r, p);
        if (!ap.isEmpty()) {
          problems.addAll(ap);
          break;
        }
      }
      plans.add(p);
      if (r.name() != null) {
        byName.put(r.name(), p);
      }
    }
    if (!problems.isEmpty()) {
      throw new RecipeException(problems);
    }
    return plans;
  }

  /** "Did you mean 'dir/x'?" for a relative path whose folder exists and holds a similar name, else empty. */
  static String nearbyPath(String ref, ModelResolver resolver) {
    for (String tried : resolver.tried(ref)) {
      Path p = Path.of(tried.split(" ")[0]);
      Path parent = p.getParent();
      if (parent == null || !Files.isDirectory(parent)) {
        continue;
      }
      try (Stream<Path> s = Files.list(parent)) {
        List<String> names = s.map(x -> x.getFileName().toString()).sorted().toList();
        String c = Names.closest(p.getFileName().toString(), names);
        if (c != null) {
          Path refParent = Path.of(ref).getParent();
          return "Did you mean '" + (refParent == null ? c : refParent.resolve(c)) + "'?";
        }
      } catch (IOException e) {
        // no suggestion
      }
    }
    return "";
  }

  /** Checks that {@code out} may be written: missing, empty, or an earlier model output. */
  public static void checkOutput(Path out) {
    if (!Files.exists(out)) {
      return;
    }
    if (!Files.isDirectory(out)) {
      throw new InvalidInputException("output " + out + " exists and is not a folder; choose a folder name");
    }
    try (Stream<Path> s = Files.list(out)) {
      List<String> names = s.map(p -> p.getFileName().toString()).toList();
      boolean model = names.isEmpty() || names.contains("config.json") || names.contains(RECIPE_FILE)
          || names.stream().anyMatch(n -> n.endsWith(".safetensors"));
      if (!model) {
        throw new InvalidInputException("output folder " + out + " exists and does not look like a model folder (no config.json, no .safetensors); "
            + "refusing to replace it. Choose another folder or empty it");
      }
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  /**
   * Runs every stage; the last one's output becomes {@code out} (replacing an earlier model output there).
   *
   * @return the result of the last stage
   */
  public static MergeExecutor.Result run(List<MergePlan> plans, List<Recipe> stages, Path out, MergeExecutor.Options o, Listener listener) {
    return run(plans, stages, out, o, listener, Sidecars.ALL);
  }

  /**
   * Which files beside the weights the output gets (mergekit-yaml's {@code --copy-tokenizer} and {@code
   * --write-model-card}); {@code config.json} and the normalised recipe always.
   *
   * @param tokenizer the tokenizer files of the base model or {@code tokenizer_source} (and a union vocabulary's)
   * @param modelCard the {@code README.md} model card
   */
  public record Sidecars(boolean tokenizer, boolean modelCard) {
    public static final Sidecars ALL = new Sidecars(true, true);
  }

  /** {@link #run(List, List, Path, MergeExecutor.Options, Listener)}, with the last stage's side files as {@code sidecars} say. */
  public static MergeExecutor.Result run(
      List<MergePlan> plans, List<Recipe> stages, Path out, MergeExecutor.Options o, Listener listener, Sidecars sidecars) {
    checkOutput(out);
    Path abs = out.toAbsolutePath().normalize();
    Path tmp = abs.resolveSibling("." + abs.getFileName() + ".graft-partial");
    Path stageRoot = abs.resolveSibling("." + abs.getFileName() + ".graft-stages");
    deleteTree(tmp);
    deleteTree(stageRoot);
    AtomicFiles.unfinished(tmp);
    AtomicFiles.unfinished(stageRoot);
    Map<String, Path> written = new HashMap<>();
    Function<ModelView, Path> locate = written(written);
    try {
      MergeExecutor.Result last = null;
      for (int i = 0; i < plans.size(); i++) {
        MergePlan p = plans.get(i);
        boolean isLast = i == plans.size() - 1;
        Path dir = isLast ? tmp : stageRoot.resolve(p.recipe().name());
        Files.createDirectories(dir);
        if (p.recipe().align() != null) {
          p = align(p, stageRoot.resolve("align-" + i), o, locate, listener);
        }
        Progress progress = listener.stage(i, plans.size(), p);
        last = MergeExecutor.run(p, dir, o, progress, locate);
        writeSidecars(p, isLast ? stages : List.of(p.recipe()), dir, o.seed(), isLast ? sidecars : Sidecars.ALL);
        if (p.recipe().name() != null) {
          written.put(p.recipe().name(), dir);
        }
      }
      AtomicFiles.replaceDirectory(tmp, abs);
      deleteTree(stageRoot);
      List<Path> files = last.files().stream().map(f -> abs.resolve(f.getFileName())).toList();
      return new MergeExecutor.Result(last.tensors(), last.bytesRead(), last.bytesWritten(), files, last.streamed());
    } catch (IOException e) {
      throw new UncheckedIOException("writing " + out + ": " + e.getMessage(), e);
    } finally {
      deleteTree(tmp);
      deleteTree(stageRoot);
      AtomicFiles.finished(tmp);
      AtomicFiles.finished(stageRoot);
    }
  }

  /** Where an earlier stage's output was written, by the stage's name. */
  private static Function<ModelView, Path> written(Map<String, Path> written) {
    return v -> {
      Path w = written.get(v.label());
      if (w == null) {
        throw new IllegalStateException("stage '" + v.label() + "' was not written before it was used");
      }
      return w;
    };
  }

  /**
   * The last stage's output, held in memory.
   *
   * @param plan the last stage's plan (its {@code config()} and {@code output()} describe the model)
   * @param tensors every output tensor as float32, rounded to its output dtype, in plan order
   */
  public record Merged(MergePlan plan, Map<String, float[]> tensors) {
    /** Each tensor's shape. */
    public Map<String, dev.graft.tensor.Shape> shapes() {
      Map<String, dev.graft.tensor.Shape> m = new LinkedHashMap<>();
      for (TensorTask t : plan.tasks()) {
        m.put(t.name(), t.shape());
      }
      return m;
    }

    /** The folder holding the tokenizer files the merge would copy, or null. */
    public Path tokenizerDir() {
      return plan.output().auxiliaryFiles().stream().filter(f -> f.getFileName().toString().equals("tokenizer.json"))
          .map(Path::getParent).findFirst().orElse(null);
    }
  }

  /**
   * Runs every stage and keeps the last one's output in memory (nothing is written for it); earlier stages of a
   * multi-stage recipe are written to a temporary folder, removed at the end.
   */
  public static Merged runInMemory(List<MergePlan> plans, MergeExecutor.Options o, Listener listener) {
    Path stageRoot = null;
    Map<String, Path> written = new HashMap<>();
    Function<ModelView, Path> locate = written(written);
    try {
      if (plans.size() > 1 || plans.stream().anyMatch(p -> p.recipe().align() != null)) {
        stageRoot = Files.createTempDirectory("graft-stages");
      }
      for (int i = 0; i < plans.size(); i++) {
        MergePlan p = plans.get(i);
        if (p.recipe().align() != null) {
          p = align(p, stageRoot.resolve("align-" + i), o, locate, listener);
        }
        Progress progress = listener.stage(i, plans.size(), p);
        if (i == plans.size() - 1) {
          return new Merged(p, MergeExecutor.runInMemory(p, o, progress, locate));
        }
        Path dir = Files.createDirectories(stageRoot.resolve(p.recipe().name()));
        MergeExecutor.run(p, dir, o, progress, locate);
        writeSidecars(p, List.of(p.recipe()), dir, o.seed(), Sidecars.ALL);
        written.put(p.recipe().name(), dir);
      }
      throw new IllegalArgumentException("no stages to run");
    } catch (IOException e) {
      throw new UncheckedIOException("writing an intermediate stage: " + e.getMessage(), e);
    } finally {
      if (stageRoot != null) {
        deleteTree(stageRoot);
      }
    }
  }

  /** The spec file of an {@code align:} step, relative to the recipe's folder. */
  private static String specOf(Recipe r) {
    String spec = r.align().spec();
    if (Set.of("auto", "mlp", "llama").contains(spec) || Path.of(spec).isAbsolute() || r.source().file() == null) {
      return spec;
    }
    Path dir = Path.of(r.source().file()).toAbsolutePath().getParent();
    return dir == null ? spec : dir.resolve(spec).toString();
  }

  private static ModelView alignReference(Recipe r, MergePlan p) {
    for (ModelView v : p.models()) {
      if (v.label().equals(r.align().reference())) {
        return v;
      }
    }
    return null;
  }

  /** Checks an {@code align:} step from headers: the reference is one of the models, the spec fits every model. */
  static List<Problem> checkAlign(Recipe r, MergePlan p) {
    List<Problem> out = new ArrayList<>();
    ModelView ref = alignReference(r, p);
    if (ref == null) {
      List<String> labels = p.models().stream().map(ModelView::label).toList();
      out.add(r.source().problem("align.reference", "alignment reference '" + r.align().reference() + "' is not one of this stage's models",
          Names.didYouMean(r.align().reference(), labels).isEmpty() ? "Use one of: " + String.join(", ", labels) : Names.didYouMean(r.align().reference(), labels)));
      return out;
    }
    if (!p.fisherFiles().isEmpty()) {
      out.add(r.source().problem("align", "alignment before a Fisher merge is not supported yet (the Fisher files would need the same permutations)",
          "Align with 'graft align' first, then compute each aligned model's Fisher with 'graft fisher'"));
      return out;
    }
    try {
      PermutationSpec spec = Aligner.spec(specOf(r), ref.config(), ref.shapes(), ref.label());
      spec.sizes(ref.shapes(), ref.label());
      for (ModelView v : p.models()) {
        List<String> bad = WeightMatching.mismatches(spec, ref.shapes(), v.shapes());
        if (!bad.isEmpty()) {
          out.add(r.source().problem("align", "model '" + v.label() + "' cannot be aligned to '" + ref.label() + "': tensor " + bad.get(0),
              "Only models of one architecture and size can be aligned"));
        }
      }
    } catch (InvalidInputException e) {
      out.add(r.source().problem("align.spec", e.getMessage(), ""));
    }
    return out;
  }

  /**
   * Runs a stage's {@code align:} step: every model but the reference is aligned to it and written under {@code
   * work}; returns the plan reading the aligned copies.
   */
  static MergePlan align(MergePlan p, Path work, MergeExecutor.Options o, Function<ModelView, Path> locate, Listener listener) throws IOException {
    Recipe r = p.recipe();
    ModelView refView = alignReference(r, p);
    Function<ModelView, Path> where = v -> v.root() != null ? v.root() : locate.apply(v);
    List<ModelView> views = new ArrayList<>();
    try (Checkpoint ref = Checkpoint.open(where.apply(refView), refView.lora())) {
      PermutationSpec spec = Aligner.spec(specOf(r), ref.config().orElse(null), refView.shapes(), refView.label());
      WeightMatching.Options wo = new WeightMatching.Options(r.align().maxSweeps(), 1e-9, o.seed(), dev.graft.tensor.Device.CPU);
      for (int i = 0; i < p.models().size(); i++) {
        ModelView v = p.models().get(i);
        if (v == refView) {
          views.add(v);
          continue;
        }
        try (Checkpoint c = Checkpoint.open(where.apply(v), v.lora())) {
          WeightMatching.Result res = WeightMatching.match(spec, Weights.of(ref), Weights.of(c), wo, listener.aligning(v.label()));
          Path dir = Files.createDirectories(work).resolve("aligned-" + i);
          Aligner.write(c, spec, res.perms(), dir, o.shardBytes(), refView.label());
          views.add(v.withRoot(dir));
        }
      }
    }
    return p.withModels(views);
  }

  private static void writeSidecars(MergePlan p, List<Recipe> recipe, Path dir, long seed, Sidecars sidecars) throws IOException {
    if (p.config() != null) {
      AtomicFiles.writeString(dir.resolve("config.json"), new ObjectMapper().writerWithDefaultPrettyPrinter().writeValueAsString(p.config()) + "\n");
    }
    if (p.tokenizerFrom() != null) {
      for (Path aux : p.tokenizerFrom().auxiliaryFiles()) {
        if (sidecars.tokenizer() || aux.getFileName().toString().equals("generation_config.json")) {
          Files.copy(aux, dir.resolve(aux.getFileName().toString()), StandardCopyOption.REPLACE_EXISTING);
        }
      }
      if (sidecars.tokenizer() && p.union() != null && p.union().tokens().size() > p.union().referenceSize()) { // the reference's tokenizer plus the added tokens
        Path tj = UnionVocab.tokenizerFile(p.tokenizerFrom());
        Path tc = tj.resolveSibling("tokenizer_config.json");
        p.union().write(tj, tc, dir);
      }
    }
    AtomicFiles.writeString(dir.resolve(RECIPE_FILE), RecipeWriter.write(recipe));
    if (sidecars.modelCard()) {
      AtomicFiles.writeString(dir.resolve("README.md"), ModelCard.render(p, recipe, seed));
    }
  }


  static void deleteTree(Path p) {
    AtomicFiles.deleteTree(p);
  }

}
