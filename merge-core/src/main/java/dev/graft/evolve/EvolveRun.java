package dev.graft.evolve;

import dev.graft.InvalidInputException;
import dev.graft.eval.Task;
import dev.graft.io.AtomicFiles;
import dev.graft.io.Checkpoint;
import dev.graft.io.ModelConfig;
import dev.graft.model.CausalLm;
import dev.graft.model.ClassifierConfig;
import dev.graft.model.LlamaConfig;
import dev.graft.model.Weights;
import dev.graft.op.OperatorSpec;
import dev.graft.op.Operators;
import dev.graft.plan.MergePlan;
import dev.graft.plan.MergeRunner;
import dev.graft.plan.ModelResolver;
import dev.graft.recipe.ModelRef;
import dev.graft.recipe.Recipe;
import dev.graft.recipe.RecipeReader;
import dev.graft.tensor.Backends;
import dev.graft.tensor.DType;
import dev.graft.tensor.Device;
import dev.graft.tensor.Shape;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Runs an evolve recipe into a run directory: checks everything that can be checked before the first evaluation
 * (tasks, models, shapes, the merge recipe, optimiser and space compatibility), builds the search space and the
 * optimiser, runs the engine, and writes the outputs: {@code run.yml} (the resolved recipe), the record
 * ({@code evaluations.jsonl}, {@code generations.jsonl}, {@code checkpoint.safetensors}), {@code best.yml} (recipe
 * space), {@code best-model/}, {@code summary.json} and the report ({@code report.md} with its plots).
 */
public final class EvolveRun {
  /** The resolved recipe a run directory keeps (what {@code --resume} reads). */
  public static final String RUN_RECIPE = "run.yml";

  private EvolveRun() {}

  /**
   * How to run.
   *
   * @param out the run directory
   * @param resume continue the run in {@code out}
   * @param overwrite replace a run already in {@code out}
   * @param device where models are scored
   * @param listener progress
   */
  public record Options(Path out, boolean resume, boolean overwrite, Device device, Evolution.Listener listener) {}

  /**
   * What a run produced.
   *
   * @param outcome the engine's outcome
   * @param optimizer the optimiser (its final state)
   * @param space the search space
   * @param files files written besides the record
   */
  public record Summary(Evolution.Outcome outcome, Optimizer optimizer, SearchSpace space, List<Path> files) {}

  /**
   * Everything built from a recipe before the first evaluation.
   *
   * @param breeder how the optimiser makes children (to rebuild them from their lineage elsewhere)
   */
  public record Prepared(EvolveSpec spec, TaskSet tasks, SearchSpace space, Breeder breeder, Optimizer optimizer) implements AutoCloseable {
    @Override
    public void close() {
      space.close();
    }
  }

  /** Loads tasks and models and builds the space and the optimiser; every check happens here. */
  public static Prepared prepare(EvolveSpec spec, Device device) {
    List<Task> tasks = new ArrayList<>();
    double[] weights = new double[spec.tasks().size()];
    for (int i = 0; i < weights.length; i++) {
      tasks.add(Task.read(spec.tasks().get(i).path()));
      weights[i] = spec.tasks().get(i).weight();
    }
    List<Task> held = new ArrayList<>();
    for (Path p : spec.heldOutTasks()) {
      held.add(Task.read(p));
    }
    TaskSet ts = new TaskSet(tasks, weights, held);
    SearchSpace space = spec.space().equals("recipe") ? recipeSpace(spec, ts, device) : modelSpace(spec, ts, device);
    try {
      Breeder breeder = breeder(spec, space);
      return new Prepared(spec, ts, space, breeder, optimizer(spec, space, ts, breeder));
    } catch (RuntimeException e) {
      space.close();
      throw e;
    }
  }

  private static String where(EvolveSpec spec) {
    return spec.file() + ": ";
  }

  private static SearchSpace recipeSpace(EvolveSpec spec, TaskSet tasks, Device device) {
    Recipe r = RecipeReader.read(spec.merge()).get(0);
    ModelResolver resolver = ModelResolver.forRecipeWithDownloads(spec.merge(), dev.graft.io.Progress.NONE);
    r = absolute(r, resolver);
    Operators ops = Operators.builtIn();
    List<MergePlan> plans = MergeRunner.prepare(List.of(r), resolver, ops); // headers only: every recipe problem, now
    OperatorSpec op = ops.get(r.mergeMethod()).spec();
    EvolveSpec.GenomeSpec g = spec.genome();
    int groups = 1;
    int per = 0;
    if (g.layerGranularity() > 0) {
      var layers = plans.get(0).config() == null ? null : plans.get(0).config().get("num_hidden_layers");
      if (layers == null || !layers.isIntegralNumber()) {
        throw new InvalidInputException(where(spec) + "genome.layer_granularity needs models with layers (config.json num_hidden_layers);"
            + " these have none. Use layer_granularity: 0 (one group)");
      }
      int n = layers.asInt();
      if (n % g.layerGranularity() != 0) {
        throw new InvalidInputException(where(spec) + "genome.layer_granularity " + g.layerGranularity() + " does not divide the "
            + n + " layers of the models; use a divisor of " + n);
      }
      groups = n / g.layerGranularity();
      per = g.layerGranularity();
    }
    RecipeSpace rs = RecipeSpace.of(r, op, g.parameters(), groups, per, g.filters(), g.bounds());
    if (rs.size() == 0) {
      throw new InvalidInputException(where(spec) + "the genome is empty: " + r.mergeMethod() + " has none of the parameters "
          + g.parameters() + " to evolve for these models");
    }
    return new RecipeSearch(rs, tasks, resolver, spec.backend(), device, spec.seed());
  }

  /** The recipe with every model it names resolved to an absolute path (Hugging Face ids kept when not found locally). */
  static Recipe absolute(Recipe r, ModelResolver res) {
    java.util.function.Function<String, String> path = n -> n == null ? null
        : res.resolve(n).map(p -> p.toAbsolutePath().normalize().toString()).orElse(n);
    java.util.function.Function<ModelRef, ModelRef> abs = m -> new ModelRef(path.apply(m.name()), path.apply(m.lora()));
    List<Recipe.InputModel> ms = r.models().stream().map(m -> new Recipe.InputModel(abs.apply(m.model()), m.parameters())).toList();
    ModelRef base = r.baseModel() == null ? null : abs.apply(r.baseModel());
    return new Recipe(r.name(), r.mergeMethod(), base, ms, List.of(), r.parameters(), r.dtype(), r.outDtype(), r.tokenizerSource(),
        r.chatTemplate(), r.align(), r.source(), r.tokens(), r.padToMultipleOf());
  }

  private static SearchSpace modelSpace(EvolveSpec spec, TaskSet tasks, Device device) {
    EvolveSpec.ModelSpec m = spec.model();
    WeightLayout.Order order = m.layout().equals("jax") ? WeightLayout.Order.JAX : WeightLayout.Order.PYTORCH;
    ModelConfig config;
    Path filesFrom = null;
    List<Genome> seeds = new ArrayList<>();
    WeightLayout layout;
    DType out = DType.F32;
    Genome.Flat base = null;
    if (m.random()) {
      if (m.mlp() != null) {
        int[] s = m.mlp();
        config = ModelConfig.of(ClassifierConfig.mlp(s[0], java.util.Arrays.copyOfRange(s, 1, s.length - 1), s[s.length - 1]).toJson());
      } else {
        Path c = Files.isDirectory(m.config()) ? m.config().resolve("config.json") : m.config();
        config = ModelConfig.read(c);
        filesFrom = c.getParent();
      }
      layout = new WeightLayout(shapes(config, "the model config"), order);
      seeds.addAll(ModelSearch.random(layout, m.count(), m.std(), spec.seed()));
    } else {
      try (Checkpoint first = Checkpoint.open(m.models().get(0))) {
        config = first.config().orElseThrow(() -> new InvalidInputException(m.models().get(0)
            + ": no config.json, so Graft cannot tell what network this is; model space needs it"));
        Map<String, Shape> shapes = ClassifierConfig.isClassifier(config) || isLlama(config) ? shapes(config, m.models().get(0) + "/config.json")
            : checkpointShapes(first);
        layout = new WeightLayout(shapes, order);
        out = first.info(shapes.keySet().iterator().next()).dtype();
        filesFrom = first.root();
      }
      for (Path p : m.models()) {
        try (Checkpoint c = Checkpoint.open(p)) {
          seeds.add(layout.flatten(Weights.of(c)));
        }
      }
    }
    if (m.base() != null) {
      try (Checkpoint c = Checkpoint.open(m.base())) {
        base = layout.flatten(Weights.of(c));
      }
    }
    if (m.outDtype() != null) {
      out = DType.parse(m.outDtype());
    }
    return new ModelSearch(tasks, config, layout, seeds, base, m.random() ? m.std() : 0, filesFrom, out, device,
        Backends.create("reference", Device.CPU));
  }

  private static boolean isLlama(ModelConfig c) {
    return c.modelType().map(t -> List.of("llama", "mistral", "qwen2", "qwen3").contains(t)).orElse(false);
  }

  private static Map<String, Shape> shapes(ModelConfig c, String where) {
    if (ClassifierConfig.isClassifier(c)) {
      return ClassifierConfig.of(c, where).tensors();
    }
    if (isLlama(c)) {
      return CausalLm.expected(LlamaConfig.of(c, where));
    }
    throw new InvalidInputException(where + ": model_type '" + c.modelType().orElse("?")
        + "' is not one Graft can score (graft_mlp, graft_cnn, llama, mistral, qwen2, qwen3)");
  }

  private static Map<String, Shape> checkpointShapes(Checkpoint c) {
    Map<String, Shape> s = new LinkedHashMap<>();
    c.tensors().forEach((k, v) -> s.put(k, v.shape()));
    return s;
  }

  /** The recipe's crossover (none when {@code crossover: none}) and mutation. */
  static Breeder breeder(EvolveSpec spec, SearchSpace space) {
    EvolveSpec.OptimizerSpec o = spec.optimizer();
    Mutation mutation = new Mutation(o.mutation().std(), o.mutation().rate(), space.bounds());
    return new Breeder(o.crossover().equals("none") ? null : space.crossover(o.crossover(), o.crossoverParameters()), mutation);
  }

  static Optimizer optimizer(EvolveSpec spec, SearchSpace space, TaskSet tasks, Breeder breeder) {
    EvolveSpec.OptimizerSpec o = spec.optimizer();
    Bounds bounds = space.bounds();
    Mutation mutation = breeder.mutation();
    Crossover crossover = breeder.crossover();
    boolean crossing = crossover != null;
    return switch (o.method()) {
      case "cmaes" -> {
        CmaEs.Options co = new CmaEs.Options(o.sigma(), o.popsize(), o.diagonal(), o.restarts());
        if (space.start() instanceof Genome.Flat f) { // raw weights, the M2N2 paper's CMA-ES baseline
          if (f.size() > 2000 && !o.diagonal()) {
            throw new InvalidInputException(where(spec) + "cmaes over " + f.size() + " weights with a full covariance would hold "
                + String.format(java.util.Locale.ROOT, "%.1f", 8.0 * f.size() * f.size() / 1e9) + " GB and decompose it in O(n^3);"
                + " set optimizer.diagonal: true (separable CMA-ES) or search recipe space");
          }
          yield new WeightsAsGenes(new CmaEs(co, WeightsAsGenes.genes(f), null));
        }
        yield new CmaEs(co, ((Genome.Genes) space.start()).values(), bounds);
      }
      case "random" -> new RandomSearch(o.batch(), space.start(), space.generator());
      case "m2n2" -> {
        List<String> bad = tasks.fitness().tasksWithoutExampleScores();
        if (!bad.isEmpty()) {
          throw new InvalidInputException(where(spec) + "m2n2 treats examples as resources and needs a per-example score from every fitness task;"
              + " these have none: " + String.join(", ", bad) + ". Use accuracy, acc, acc_norm or exact_match, or another optimizer");
        }
        if (space.seeds().size() > o.archiveSize()) {
          throw new InvalidInputException(where(spec) + "m2n2 starts from " + space.seeds().size() + " models but the archive holds "
              + o.archiveSize() + "; raise optimizer.archive_size");
        }
        yield new M2n2(new M2n2.Options(o.archiveSize(), o.alpha(), o.attraction(), crossing, o.batch()), space.seeds(), crossover, mutation);
      }
      case "ga" -> new GeneticAlgorithm(new GeneticAlgorithm.Options(o.population(), o.tournament(), crossing ? o.crossoverRate() : 0, o.elites()),
          space.seeds(), space.generator(), crossover, mutation);
      case "map_elites" -> {
        double[] r = o.ranges();
        yield new MapElites(new MapElites.Options(o.descriptors(), new double[] {r[0], r[2]}, new double[] {r[1], r[3]}, o.bins(), o.batch(),
            o.initial(), crossing), space.seeds(), space.generator(), crossover, mutation);
      }
      default -> throw new IllegalArgumentException(o.method());
    };
  }

  /** Runs a prepared recipe into {@code options.out()}; writes every output. */
  public static Summary run(Prepared p, Options options) {
    EvolveSpec spec = p.spec();
    Path out = options.out().toAbsolutePath().normalize();
    if (Files.exists(out) && !Files.isDirectory(out)) {
      throw new InvalidInputException(out + " is a file; give a folder for the run");
    }
    if (!options.resume() && RunRecord.exists(out) && !options.overwrite()) {
      throw new InvalidInputException(out + " already holds a run; continue it with --resume, replace it with --overwrite, or choose another folder");
    }
    ClusterEvaluation cluster = checkCluster(spec);
    String runRecipe = RunRecipe.write(spec);
    AtomicFiles.writeString(out.resolve(RUN_RECIPE), runRecipe);
    Evolution.Settings settings = new Evolution.Settings(spec.seed(), spec.evaluations(), spec.seconds(), spec.threads(), spec.checkpointSeconds());
    Evolution.Outcome outcome;
    try (Evolution.HeldOut held = p.space().heldOut()) {
      java.util.function.Supplier<BatchEvaluator> batches = cluster != null
          ? () -> cluster.open(spec.cluster(), runRecipe, options.device(), out)
          : () -> new LocalEvaluation(p.space()::newEvaluator, spec.threads());
      Evolution ev = new Evolution(p.optimizer(), held, p.space()::describe, settings, options.listener(), batches);
      outcome = ev.run(out, options.resume());
    }
    List<Path> files = new ArrayList<>();
    if (outcome.best() != null) {
      Genome best = outcome.best().genome();
      if (p.space() instanceof RecipeSearch rs) {
        Path f = out.resolve("best.yml");
        rs.saveRecipe(best, f);
        files.add(f);
      }
      if (spec.saveBestModel()) {
        Path d = out.resolve("best-model");
        p.space().saveModel(best, d);
        files.add(d);
      }
    }
    files.addAll(EvolveReport.write(out, spec, outcome, p.optimizer(), p.space()));
    return new Summary(outcome, p.optimizer(), p.space(), files);
  }

  /**
   * The cluster provider for a recipe that names a cluster (null otherwise), after checking that the provider is on
   * the class path and the cluster answers: call it before loading models, so a wrong address costs nothing.
   */
  public static ClusterEvaluation checkCluster(EvolveSpec spec) {
    if (spec.cluster() == null) {
      return null;
    }
    ClusterEvaluation c = ClusterEvaluation.find();
    c.check(spec.cluster());
    return c;
  }

  /** The recipe of a run directory (what {@code --resume} continues). */
  public static EvolveSpec recipeOf(Path runDir) {
    Path f = runDir.resolve(RUN_RECIPE);
    if (!Files.isRegularFile(f)) {
      throw new InvalidInputException(runDir + " holds no run (" + RUN_RECIPE + " is missing); start one with graft evolve RECIPE -o " + runDir);
    }
    return EvolveSpec.read(f);
  }

  /** Whether two recipes describe the same run apart from the budget (which a resume may extend). */
  public static boolean sameRun(EvolveSpec a, EvolveSpec b) {
    return RunRecipe.write(a, false).equals(RunRecipe.write(b, false));
  }
}
