package dev.graft.evolve;

import dev.graft.eval.TaskSpec;
import dev.graft.internal.Names;
import dev.graft.op.MergeOperator;
import dev.graft.op.OperatorSpec;
import dev.graft.op.Operators;
import dev.graft.op.ParamSpec;
import dev.graft.recipe.Recipe;
import dev.graft.recipe.RecipeException;
import dev.graft.recipe.RecipeReader;
import dev.graft.recipe.YamlFields;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * An evolve recipe: what to search (a merge recipe's parameters, or models' weights), on which tasks, with which
 * optimiser and budget. Read with every problem reported at once, located by file:line:column; relative paths resolve
 * against the recipe's folder, then the working directory.
 *
 * <pre>
 * name: m2n2-digits
 * seed: 42
 * space: model                       # model | recipe
 * model: {init: random, mlp: [64, 256, 10], count: 2, std: 0.01, layout: jax}   # or models: [a, b], base: c
 * # recipe space instead: merge: ../ties.yml, genome: {parameters: [weight, density], layer_granularity: 0, filters: [mlp]}
 * tasks: [{path: tasks/digits.yaml, weight: 1}]
 * held_out_tasks: [tasks/other.yaml]  # reported only, never optimised on
 * optimizer: {method: m2n2, archive_size: 20, alpha: 1, crossover: slerp_split, mutation: {std: 0.01}}
 * budget: {evaluations: 50000, seconds: 0}
 * </pre>
 */
public record EvolveSpec(
    String name, Path file, long seed, String space, Path merge, GenomeSpec genome, ModelSpec model, List<TaskRef> tasks,
    List<Path> heldOutTasks, OptimizerSpec optimizer, long evaluations, double seconds, int threads, double checkpointSeconds,
    boolean saveBestModel, String backend, ClusterEvaluation.Cluster cluster) {

  static final Set<String> KEYS = Set.of("name", "seed", "space", "merge", "genome", "model", "tasks", "held_out_tasks", "optimizer",
      "budget", "threads", "checkpoint_seconds", "save_best_model", "backend", "cluster");
  static final Set<String> CLUSTER_KEYS = Set.of("master", "conf");
  static final Set<String> GENOME_KEYS = Set.of("parameters", "layer_granularity", "filters", "bounds");
  static final Set<String> MODEL_KEYS = Set.of("models", "base", "init", "mlp", "config", "count", "std", "layout", "out_dtype");
  static final Set<String> TASK_KEYS = Set.of("path", "weight");
  static final Set<String> BUDGET_KEYS = Set.of("evaluations", "seconds");
  static final Set<String> MUTATION_KEYS = Set.of("std", "rate");
  static final Map<String, Set<String>> METHOD_KEYS = Map.of(
      "cmaes", Set.of("sigma", "popsize", "diagonal", "restarts"),
      "m2n2", Set.of("archive_size", "alpha", "attraction", "crossover", "crossover_parameters", "mutation", "batch"),
      "ga", Set.of("population", "tournament", "crossover_rate", "elites", "crossover", "crossover_parameters", "mutation"),
      "map_elites", Set.of("descriptors", "bins", "ranges", "batch", "initial", "crossover", "crossover_parameters", "mutation"),
      "random", Set.of("batch"));

  /**
   * Recipe-space genome settings.
   *
   * @param parameters parameters evolved (evolvable parameters of the merge method; all of them by default)
   * @param layerGranularity layers per group (0 = one group for the whole model)
   * @param filters tensor-name filters with their own genes
   * @param bounds search range per parameter, overriding the defaults
   */
  public record GenomeSpec(List<String> parameters, int layerGranularity, List<String> filters, Map<String, double[]> bounds) {}

  /**
   * Model-space settings.
   *
   * @param models the first models (checkpoint folders), empty when starting from scratch
   * @param base base model of task-vector crossover operators, or null
   * @param random whether the first models are random draws
   * @param mlp layer sizes of a random {@code graft_mlp} (input, hidden..., classes), or null
   * @param config config.json (or a model folder) of a random model of another architecture, or null
   * @param count random models to start from
   * @param std std of random weights (and of random genomes filling a population)
   * @param layout element order of 2-D tensors in the genome ({@code pytorch} or {@code jax})
   * @param outDtype dtype of saved models ({@code float32}, {@code bfloat16}, {@code float16}), or null for the
   *     first model's
   */
  public record ModelSpec(List<Path> models, Path base, boolean random, int[] mlp, Path config, int count, double std, String layout,
      String outDtype) {}

  /**
   * A fitness task.
   *
   * @param path task file
   * @param weight weight in the fitness (0: scored, e.g. as a MAP-Elites descriptor, but not optimised)
   * @param name the task's name (from the file)
   */
  public record TaskRef(Path path, double weight, String name) {}

  /**
   * Gaussian mutation settings.
   *
   * @param std standard deviation (weights: absolute; genes: relative to their range)
   * @param rate probability per element
   */
  public record MutationSpec(double std, double rate) {}

  /**
   * Optimiser settings; fields of other methods keep their defaults.
   *
   * @param method cmaes, m2n2, ga, map_elites or random
   * @param sigma CMA-ES initial step size
   * @param popsize CMA-ES λ (0 = default)
   * @param diagonal separable CMA-ES
   * @param restarts CMA-ES IPOP restarts
   * @param archiveSize M2N2 archive size
   * @param alpha M2N2 competition exponent
   * @param attraction M2N2 attraction-based mate choice
   * @param crossover crossover name ({@code none} for no crossover)
   * @param crossoverParameters fixed parameters of a merge-operator crossover
   * @param mutation mutation, or null for the method's default
   * @param batch proposals per step (M2N2, MAP-Elites, random)
   * @param population GA population
   * @param tournament GA tournament size
   * @param crossoverRate GA crossover probability
   * @param elites GA elites
   * @param descriptors MAP-Elites descriptor task names
   * @param bins MAP-Elites cells per axis
   * @param ranges MAP-Elites descriptor ranges {lo0, hi0, lo1, hi1}
   * @param initial MAP-Elites first-step genomes
   */
  public record OptimizerSpec(String method, double sigma, int popsize, boolean diagonal, int restarts, int archiveSize, double alpha,
      boolean attraction, String crossover, Map<String, Object> crossoverParameters, MutationSpec mutation, int batch, int population,
      int tournament, double crossoverRate, int elites, List<String> descriptors, int bins, double[] ranges, int initial) {}

  /** This recipe with some settings replaced (null keeps the recipe's own): what the command line overrides. */
  public EvolveSpec with(Long seed, Long evaluations, Double seconds, Integer threads) {
    return new EvolveSpec(name, file, seed != null ? seed : this.seed, space, merge, genome, model, tasks, heldOutTasks, optimizer,
        evaluations != null ? evaluations : this.evaluations, seconds != null ? seconds : this.seconds, threads != null ? threads : this.threads,
        checkpointSeconds, saveBestModel, backend, cluster);
  }

  /** This recipe evaluated on {@code cluster} (null: in this process). */
  public EvolveSpec withCluster(ClusterEvaluation.Cluster cluster) {
    return new EvolveSpec(name, file, seed, space, merge, genome, model, tasks, heldOutTasks, optimizer, evaluations, seconds, threads,
        checkpointSeconds, saveBestModel, backend, cluster);
  }

  /** Reads and checks an evolve recipe. */
  public static EvolveSpec read(Path file) {
    YamlFields.Obj o = YamlFields.read(file, "evolve recipe", KEYS);
    Path dir = file.toAbsolutePath().getParent();
    String name = o.string("name", file.getFileName().toString().replaceFirst("\\.ya?ml$", ""), false);
    long seed = o.integer("seed", 0, Long.MIN_VALUE, Long.MAX_VALUE);
    String space = o.choice("space", o.has("merge") ? "recipe" : "model", Set.of("recipe", "model"), false);
    int threads = (int) o.integer("threads", Math.max(1, Runtime.getRuntime().availableProcessors()), 1, 1024);
    double ckpt = o.number("checkpoint_seconds", 30, 0, 1e9);
    boolean saveBest = o.bool("save_best_model", true);
    String backend = o.choice("backend", "auto", Set.of("auto", "reference", "djl", "nd4j"), false);

    // tasks
    List<TaskRef> tasks = new ArrayList<>();
    List<Object> items = o.items("tasks", TASK_KEYS);
    if (items == null || items.isEmpty()) {
      o.problem("tasks", "missing 'tasks': at least one task file to score candidates on", "e.g. tasks: [{path: tasks/digits.yaml, weight: 1}]");
    } else {
      for (int i = 0; i < items.size(); i++) {
        Object it = items.get(i);
        String p = it instanceof String s ? s : ((YamlFields.Obj) it).string("path", null, true);
        double w = it instanceof YamlFields.Obj t ? t.number("weight", 1, 0, 1e9) : 1;
        Path tp = p == null ? null : file(o, "tasks", p, dir);
        if (tp != null) {
          String tn = taskName(o, "tasks", tp);
          tasks.add(new TaskRef(tp, w, tn));
        }
      }
      if (!tasks.isEmpty() && tasks.stream().noneMatch(t -> t.weight() > 0)) {
        o.problem("tasks", "every task has weight 0; fitness needs at least one task of positive weight", "");
      }
      Set<String> seen = new LinkedHashSet<>();
      for (TaskRef t : tasks) {
        if (t.name() != null && !seen.add(t.name())) {
          o.problem("tasks", "two tasks are named '" + t.name() + "'", "Give each task file its own name:");
        }
      }
    }
    List<Path> heldOut = new ArrayList<>();
    List<String> ho = o.strings("held_out_tasks");
    if (ho != null) {
      for (String p : ho) {
        Path tp = file(o, "held_out_tasks", p, dir);
        if (tp != null) {
          taskName(o, "held_out_tasks", tp);
          heldOut.add(tp);
        }
      }
    }

    // space
    Path merge = null;
    GenomeSpec genome = null;
    ModelSpec model = null;
    if (space.equals("recipe")) {
      if (o.has("model")) {
        o.problem("model", "'model' belongs to model space; this run searches recipe space (space: recipe)", "Remove it, or set space: model");
      }
      String m = o.string("merge", null, false);
      if (m == null) {
        o.problem("merge", "recipe space needs 'merge': the mergekit recipe whose parameters are evolved", "e.g. merge: ../ties.yml");
      } else {
        merge = file(o, "merge", m, dir);
      }
      genome = genome(o, merge);
    } else {
      if (o.has("merge") || o.has("genome")) {
        o.problem(o.has("merge") ? "merge" : "genome", "'merge' and 'genome' belong to recipe space; this run searches model space",
            "Remove them, or set space: recipe");
      }
      model = model(o, dir);
    }

    // optimizer
    OptimizerSpec opt = optimizer(o, space, model, tasks);

    // budget
    YamlFields.Obj b = o.object("budget", BUDGET_KEYS);
    long evals = b == null ? 0 : b.integer("evaluations", 0, 0, Long.MAX_VALUE);
    double secs = b == null ? 0 : b.number("seconds", 0, 0, 1e9);
    if (evals == 0 && secs == 0) {
      o.problem("budget", "missing budget: how many evaluations (budget.evaluations) and/or seconds (budget.seconds) the run may spend",
          "e.g. budget: {evaluations: 1000}");
    }
    ClusterEvaluation.Cluster cluster = cluster(o);
    o.fields().done();
    return new EvolveSpec(name, file.toAbsolutePath(), seed, space, merge, genome, model, List.copyOf(tasks), List.copyOf(heldOut), opt, evals,
        secs, threads, ckpt, saveBest, backend, cluster);
  }

  /** {@code cluster: spark://host:7077} or {@code cluster: {master: local[2], conf: {spark.executor.memory: 4g}}}; null when absent. */
  private static ClusterEvaluation.Cluster cluster(YamlFields.Obj o) {
    if (!o.has("cluster")) {
      return null;
    }
    if (!o.isMapping("cluster")) {
      String m = o.string("cluster", null, false);
      return m == null ? null : checkedCluster(o, m, Map.of());
    }
    YamlFields.Obj c = o.object("cluster", CLUSTER_KEYS);
    if (c == null) {
      return null;
    }
    String master = c.string("master", null, true);
    Map<String, String> conf = new java.util.LinkedHashMap<>();
    YamlFields.Obj cf = c.object("conf", null);
    if (cf != null) {
      for (String k : cf.keys()) {
        String v = cf.text(k);
        if (v != null) {
          conf.put(k, v);
        }
      }
    }
    return master == null ? null : checkedCluster(c, master, conf);
  }

  private static ClusterEvaluation.Cluster checkedCluster(YamlFields.Obj o, String master, Map<String, String> conf) {
    if (!ClusterEvaluation.Cluster.valid(master)) {
      o.problem(o.has("master") ? "master" : "cluster", "'" + master + "' is not a cluster address",
          "Use local[N] (threads of this process), local-cluster[W,C,MB] or spark://HOST:PORT (a standalone master)");
      return null;
    }
    return new ClusterEvaluation.Cluster(master, conf);
  }


  /** A path relative to the recipe's folder, else the working directory; null (with a problem) when neither exists. */
  private static Path file(YamlFields.Obj o, String key, String p, Path dir) {
    Path a = dir.resolve(p).normalize();
    if (Files.exists(a)) {
      return a;
    }
    Path b = Path.of(p).toAbsolutePath().normalize();
    if (Files.exists(b)) {
      return b;
    }
    o.problem(key, "'" + p + "' not found (looked at " + a + (a.equals(b) ? "" : " and " + b) + ")",
        "Paths are relative to the evolve recipe's folder, then the working directory");
    return null;
  }

  private static String taskName(YamlFields.Obj o, String key, Path task) {
    try {
      return TaskSpec.read(task).name();
    } catch (RecipeException e) {
      o.problem(key, "task file " + task + " is invalid:\n    " + e.getMessage().replace("\n", "\n    "), "");
      return null;
    } catch (dev.graft.InvalidInputException e) {
      o.problem(key, "task file " + task + ": " + e.getMessage(), "");
      return null;
    }
  }

  private static GenomeSpec genome(YamlFields.Obj o, Path merge) {
    YamlFields.Obj g = o.object("genome", GENOME_KEYS);
    OperatorSpec op = null;
    if (merge != null) {
      try {
        List<Recipe> stages = RecipeReader.read(merge);
        if (stages.size() != 1) {
          o.problem("merge", "recipe space evolves a one-stage recipe; " + merge + " has " + stages.size() + " stages", "");
        } else if (stages.get(0).models().isEmpty()) {
          o.problem("merge", merge + " uses 'slices:'; recipe space needs the 'models:' form (layer groups come from genome.layer_granularity)", "");
        } else {
          op = Operators.builtIn().find(stages.get(0).mergeMethod()).map(MergeOperator::spec).orElse(null);
        }
      } catch (RecipeException e) {
        o.problem("merge", "the merge recipe is invalid:\n    " + e.getMessage().replace("\n", "\n    "), "");
      }
    }
    List<String> evolvable = op == null ? List.of() : op.params().stream().filter(ParamSpec::evolvable).map(ParamSpec::name).toList();
    if (op != null && evolvable.isEmpty()) {
      o.problem("merge", "merge method " + op.name() + " has no evolvable parameters", "Evolve a recipe of linear, slerp, task_arithmetic, ties, dare_ties, ...");
    }
    List<String> params = g == null ? null : g.strings("parameters");
    if (params == null) {
      params = evolvable;
    } else if (op != null) {
      for (String p : params) {
        if (!evolvable.contains(p)) {
          g.problem("parameters", "'" + p + "' is not an evolvable parameter of " + op.name() + " (evolvable: " + String.join(", ", evolvable) + ")",
              Names.didYouMean(p, evolvable));
        }
      }
    }
    int gran = g == null ? 0 : (int) g.integer("layer_granularity", 0, 0, 1 << 20);
    List<String> filters = g == null || g.strings("filters") == null ? List.of() : g.strings("filters");
    Map<String, double[]> bounds = new LinkedHashMap<>();
    if (op != null) {
      for (ParamSpec p : op.params()) {
        if (p.evolvable()) {
          bounds.put(p.name(), RecipeSpace.defaultRange(p));
        }
      }
    }
    YamlFields.Obj bo = g == null ? null : g.object("bounds", null);
    if (bo != null) {
      for (String k : bo.keys()) {
        double[] r = bo.numbers(k, 2);
        ParamSpec p = op == null ? null : op.param(k).orElse(null);
        if (op != null && (p == null || !p.evolvable())) {
          bo.problem(k, "'" + k + "' is not an evolvable parameter of " + op.name(), Names.didYouMean(k, evolvable));
        } else if (r != null && p != null && !(r[0] <= r[1] && r[0] >= p.min() && r[1] <= p.max())) {
          bo.problem(k, "bounds [" + r[0] + ", " + r[1] + "] must be an interval inside " + p.range(), "");
        } else if (r != null) {
          bounds.put(k, r);
        }
      }
    }
    return new GenomeSpec(params, gran, filters, bounds);
  }

  private static ModelSpec model(YamlFields.Obj o, Path dir) {
    YamlFields.Obj m = o.object("model", MODEL_KEYS);
    if (m == null) {
      o.problem("model", "model space needs 'model': the models to start from (models: [a, b]) or random ones (init: random)",
          "e.g. model: {init: random, mlp: [64, 256, 10], count: 2, std: 0.01}");
      return null;
    }
    boolean random = m.choice("init", m.has("models") ? "models" : "random", Set.of("random", "models"), false).equals("random");
    List<Path> models = new ArrayList<>();
    List<String> ms = m.strings("models");
    if (ms != null) {
      for (String p : ms) {
        Path mp = file(m, "models", p, dir);
        if (mp != null) {
          models.add(mp);
        }
      }
    }
    if (!random && (ms == null || ms.isEmpty())) {
      m.problem("models", "init: models needs 'models', the checkpoint folders to start from", "");
    }
    if (random && ms != null) {
      m.problem("models", "give either models (to start from) or init: random, not both", "");
    }
    String basePath = m.string("base", null, false);
    Path base = basePath == null ? null : file(m, "base", basePath, dir);
    int[] mlp = m.ints("mlp");
    String cfg = m.string("config", null, false);
    Path config = cfg == null ? null : file(m, "config", cfg, dir);
    if (random && (mlp == null) == (cfg == null)) {
      m.problem(mlp == null ? "init" : "mlp", "a random start needs the architecture: either mlp: [input, hidden..., classes] or config: a config.json", "");
    }
    if (mlp != null && (mlp.length < 2 || java.util.Arrays.stream(mlp).anyMatch(x -> x < 1))) {
      m.problem("mlp", "mlp needs at least [input, classes], every size >= 1", "");
    }
    int count = (int) m.integer("count", 2, 1, 1 << 20);
    double std = m.number("std", 0.01, 0, 1e6);
    String layout = m.choice("layout", "pytorch", Set.of("pytorch", "jax"), false);
    String outDtype = m.choice("out_dtype", null, Set.of("float32", "bfloat16", "float16"), false);
    return new ModelSpec(List.copyOf(models), base, random, mlp, config, count, std, layout, outDtype);
  }

  private static OptimizerSpec optimizer(YamlFields.Obj o, String space, ModelSpec model, List<TaskRef> tasks) {
    Set<String> all = new LinkedHashSet<>(Set.of("method"));
    METHOD_KEYS.values().forEach(all::addAll);
    YamlFields.Obj p = o.object("optimizer", all);
    if (p == null) {
      o.problem("optimizer", "missing 'optimizer'", "e.g. optimizer: {method: cmaes} (cmaes, m2n2, ga, map_elites, random)");
      return new OptimizerSpec("random", 0, 0, false, 0, 0, 0, false, "none", Map.of(), null, 1, 0, 0, 0, 0, List.of(), 0, null, 0);
    }
    String method = p.choice("method", "random", METHOD_KEYS.keySet(), true);
    for (String k : p.keys()) {
      if (!k.equals("method") && !METHOD_KEYS.get(method).contains(k)) {
        p.problem(k, "'" + k + "' is not a setting of " + method + " (its settings: " + String.join(", ", METHOD_KEYS.get(method).stream().sorted().toList()) + ")", "");
      }
    }
    boolean recipe = space.equals("recipe");
    if (method.equals("random") && !recipe) {
      p.problem("method", "random searches gene vectors: use it with space: recipe (model space: m2n2, ga, map_elites, cmaes)", "");
    }
    boolean scratch = model != null && model.random();
    String defCross = method.equals("m2n2") ? "slerp_split" : recipe ? "blend" : "slerp_split";
    String crossover = p.string("crossover", defCross, false);
    Set<String> crossNames = new LinkedHashSet<>(recipe ? List.of("slerp_split", "slerp", "blend", "none") : List.of("slerp_split", "slerp", "none"));
    if (!recipe) {
      crossNames.addAll(Operators.builtIn().names());
      crossNames.remove("passthrough");
      crossNames.remove("fisher");
      crossNames.remove("model_stock");
    }
    if (!crossNames.contains(crossover)) {
      p.problem("crossover", "'" + crossover + "' is not a crossover of " + space + " space (one of: " + String.join(", ", crossNames) + ")",
          Names.didYouMean(crossover, crossNames));
    }
    Map<String, Object> cp = new LinkedHashMap<>();
    YamlFields.Obj cpo = p.object("crossover_parameters", null);
    if (cpo != null) {
      for (String k : cpo.keys()) {
        cp.put(k, cpo.number(k, 0, -1e9, 1e9));
      }
    }
    MutationSpec mutation = null;
    YamlFields.Obj mo = p.object("mutation", MUTATION_KEYS);
    if (mo != null) {
      mutation = new MutationSpec(mo.number("std", 0.01, 0, 1e6), mo.number("rate", 1, 0, 1));
    } else if (method.equals("m2n2")) {
      mutation = new MutationSpec(scratch ? 0.01 : 0, 1); // the reference mutates only when starting from scratch
    } else {
      mutation = recipe ? new MutationSpec(0.1, 0.2) : new MutationSpec(0.01, 1);
    }
    List<String> desc = p.strings("descriptors");
    if (method.equals("map_elites")) {
      if (desc == null || desc.size() != 2) {
        p.problem("descriptors", "map_elites needs two descriptors: names of tasks whose scores place candidates on the map", "");
        desc = List.of();
      } else {
        List<String> names = tasks.stream().map(TaskRef::name).filter(java.util.Objects::nonNull).toList();
        for (String d : desc) {
          if (!names.contains(d)) {
            p.problem("descriptors", "descriptor '" + d + "' is not one of the tasks (" + String.join(", ", names) + ")",
                Names.didYouMean(d, names).isEmpty() ? "Add the task under tasks: with weight: 0 to use it only as a descriptor" : Names.didYouMean(d, names));
          }
        }
      }
    }
    double[] ranges = null;
    YamlFields.Obj ro = p.object("ranges", null);
    if (ro != null) {
      ranges = new double[] {0, 1, 0, 1};
      for (String k : ro.keys()) {
        double[] r = ro.numbers(k, 2);
        int a = desc == null ? -1 : desc.indexOf(k);
        if (a < 0) {
          ro.problem(k, "'" + k + "' is not a descriptor", "");
        } else if (r != null && !(r[0] < r[1])) {
          ro.problem(k, "a range needs lower < upper", "");
        } else if (r != null) {
          ranges[2 * a] = r[0];
          ranges[2 * a + 1] = r[1];
        }
      }
    }
    int batch = (int) p.integer("batch", method.equals("map_elites") ? 20 : method.equals("random") ? 8 : 1, 1, 1 << 20);
    int population = (int) p.integer("population", 20, 2, 1 << 20);
    int elites = (int) p.integer("elites", 1, 0, 1 << 20);
    if (elites >= population) {
      p.problem("elites", "elites must be fewer than the population (" + population + ")", "");
    }
    return new OptimizerSpec(method, p.number("sigma", 1.0 / 6, 1e-12, 1e6), (int) p.integer("popsize", 0, 0, 1 << 20),
        p.bool("diagonal", false), (int) p.integer("restarts", 0, 0, 100), (int) p.integer("archive_size", 20, 2, 1 << 16),
        p.number("alpha", 1, 0, 100), p.bool("attraction", true), crossover, cp, mutation, batch, population,
        (int) p.integer("tournament", 3, 1, 1 << 16), p.number("crossover_rate", 0.9, 0, 1), elites, desc == null ? List.of() : List.copyOf(desc),
        (int) p.integer("bins", 10, 1, 1000), ranges == null ? new double[] {0, 1, 0, 1} : ranges, (int) p.integer("initial", 20, 1, 1 << 20));
  }
}
