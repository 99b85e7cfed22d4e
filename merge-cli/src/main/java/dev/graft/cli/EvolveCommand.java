package dev.graft.cli;

import dev.graft.InvalidInputException;
import dev.graft.evolve.Evaluated;
import dev.graft.evolve.EvolveRun;
import dev.graft.evolve.EvolveSpec;
import dev.graft.evolve.Evolution;
import java.io.PrintWriter;
import java.nio.file.Path;
import java.util.Locale;
import java.util.concurrent.Callable;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

/** {@code graft evolve}: breed merge recipes or whole models, scored in memory, reported on held-out data. */
@Command(
    name = "evolve",
    mixinStandardHelpOptions = true,
    description = {
      "Evolve merges, scoring every candidate in memory.",
      "Recipe space: the genome is a merge recipe's parameters (weights, densities,",
      "t, ... per layer group and tensor filter), searched with CMA-ES, a GA,",
      "MAP-Elites or random search. Model space: the genome is the weights,",
      "bred with M2N2 (natural niches), a GA, MAP-Elites or CMA-ES; crossover by",
      "SLERP with a split point or any merge operator.",
      "Candidates are scored on the tasks' fit splits; the best is also scored on",
      "the held-out splits every generation, which the optimizer never sees.",
      "",
      "RUN_DIR gets run.yml (the resolved recipe), evaluations.jsonl (every",
      "candidate), generations.jsonl, checkpoint.safetensors, best.yml (recipe",
      "space), best-model/, report.md with fitness.png (map.png, lineage.png) and",
      "summary.json. A run killed at any point continues with --resume: no",
      "evaluation is lost or repeated. Examples: recipes/evolve/.",
      "",
      "With --cluster (or 'cluster:' in the recipe) candidates are scored on the",
      "executors of an Apache Spark cluster instead of threads of this process;",
      "the run folder, its record and --resume are the same. Every node must see",
      "the recipe's files at the same paths. Starting a standalone cluster:",
      "bin/graft-spark master / worker (README, Evolution on a cluster)."
    },
    exitCodeListHeading = "%nExit codes:%n",
    exitCodeList = {"0:success", "1:failure at run time", "2:bad input (recipe, task, model, run folder)"})
final class EvolveCommand implements Callable<Integer> {
  @CommandLine.Spec CommandLine.Model.CommandSpec spec;

  @Parameters(paramLabel = "RECIPE", arity = "0..1", description = "Evolve recipe (YAML). Optional with --resume (RUN_DIR/run.yml is used).")
  Path recipe;

  @Option(names = {"-o", "--output"}, required = true, paramLabel = "RUN_DIR", description = "Run folder.")
  Path out;

  @Option(names = "--resume", description = "Continue the run in RUN_DIR (after a crash, a kill, or with a larger budget).")
  boolean resume;

  @Option(names = "--overwrite", description = "Replace a run already in RUN_DIR.")
  boolean overwrite;

  @Option(names = "--seed", paramLabel = "N", description = "Run seed (default: the recipe's seed).")
  Long seed;

  @Option(names = "--evaluations", paramLabel = "N", description = "Evaluation budget (default: the recipe's).")
  Long evaluations;

  @Option(names = "--seconds", paramLabel = "S", description = "Time budget in seconds (default: the recipe's).")
  Double seconds;

  @Option(names = "--threads", paramLabel = "N", description = "Evaluation workers (default: the recipe's, else all cores).")
  Integer threads;

  @Option(names = "--cluster", paramLabel = "MASTER", description = {
      "Score candidates on Spark: local[N] (N threads of this process),",
      "local-cluster[W,C,MB] or spark://HOST:PORT (a standalone master).",
      "Default: the recipe's cluster, else threads of this process."})
  String cluster;

  @Option(names = "--no-cluster", description = "Score in this process even when the recipe or the run names a cluster (e.g. to resume a cluster run here).")
  boolean noCluster;

  @Option(names = "--spark-conf", paramLabel = "KEY=VALUE", description = "A Spark setting for --cluster (repeatable), e.g. spark.executor.memory=4g.")
  java.util.Map<String, String> sparkConf;

  @CommandLine.Mixin DeviceOption device;

  @CommandLine.Mixin QuietOption quiet;

  @Override
  public Integer call() {
    PrintWriter o = spec.commandLine().getOut();
    PrintWriter err = spec.commandLine().getErr();
    EvolveSpec s = specification();
    EvolveRun.checkCluster(s); // a missing Spark module or an unreachable master, before models are loaded
    long t0 = System.nanoTime();
    try (EvolveRun.Prepared p = EvolveRun.prepare(s, device.device())) {
      err.printf(Locale.ROOT, "prepared %s (%s space, %s) in %.1f s%s%n", s.name(), s.space(), s.optimizer().method(), (System.nanoTime() - t0) / 1e9,
          s.cluster() == null ? "" : "; scoring on the Spark cluster " + s.cluster().master() + " (log: " + out.resolve("spark.log") + ")");
      ProgressLine.Evolution listener = ProgressLine.evolution(err, quiet);
      EvolveRun.Summary sum = EvolveRun.run(p, new EvolveRun.Options(out, resume, overwrite, device.device(), listener));
      listener.finish();
      Evolution.Outcome oc = sum.outcome();
      if (oc.resumed()) {
        o.println("resumed the run in " + out);
      }
      o.printf(Locale.ROOT, "%s: %d evaluations (%d candidates); stopped: %s%n", s.name(), oc.evaluations(), oc.candidates(), oc.stopReason());
      Evaluated best = oc.best();
      if (best != null) {
        o.printf(Locale.ROOT, "best: candidate %d, fitness %.4f%s%n", best.id(), best.fitness(),
            oc.heldOut() == null ? "" : String.format(Locale.ROOT, ", held-out %.4f", oc.heldOut().fitness()));
        o.printf("%-28s %12s %12s%n", "task", "fit", "held-out");
        java.util.Set<String> names = new java.util.LinkedHashSet<>(best.result().tasks().keySet());
        if (oc.heldOut() != null) {
          names.addAll(oc.heldOut().tasks().keySet());
        }
        for (String t : names) {
          Double f = best.result().tasks().get(t);
          Double h = oc.heldOut() == null ? null : oc.heldOut().tasks().get(t);
          o.printf(Locale.ROOT, "%-28s %12s %12s%n", t, f == null ? "-" : String.format(Locale.ROOT, "%.4f", f),
              h == null ? "-" : String.format(Locale.ROOT, "%.4f", h));
        }
      }
      for (Path f : sum.files()) {
        o.println("wrote " + f);
      }
      o.flush();
      return 0;
    }
  }

  /** The recipe to run, with the command line's overrides, checked against the run folder when resuming. */
  private EvolveSpec specification() {
    EvolveSpec s;
    if (recipe == null) {
      if (!resume) {
        throw new GraftCommand.UsageException("give an evolve RECIPE, or --resume to continue the run in " + out);
      }
      s = EvolveRun.recipeOf(out);
    } else {
      s = EvolveSpec.read(recipe);
    }
    s = s.with(seed, evaluations, seconds, threads);
    if (noCluster) {
      if (cluster != null || sparkConf != null) {
        throw new GraftCommand.UsageException("--no-cluster cannot be combined with --cluster or --spark-conf");
      }
      s = s.withCluster(null);
    } else if (cluster != null || sparkConf != null) {
      String master = cluster != null ? cluster : s.cluster() != null ? s.cluster().master() : null;
      if (master == null) {
        throw new GraftCommand.UsageException("--spark-conf needs a cluster: add --cluster MASTER (or 'cluster:' in the recipe)");
      }
      if (!dev.graft.evolve.ClusterEvaluation.Cluster.valid(master)) {
        throw new GraftCommand.UsageException("--cluster " + master + " is not a cluster address; " + dev.graft.evolve.ClusterEvaluation.Cluster.FORMS);
      }
      java.util.Map<String, String> conf = new java.util.LinkedHashMap<>(s.cluster() == null ? java.util.Map.of() : s.cluster().conf());
      if (sparkConf != null) {
        conf.putAll(sparkConf);
      }
      s = s.withCluster(new dev.graft.evolve.ClusterEvaluation.Cluster(master, conf));
    }
    if (s.evaluations() < 0 || s.seconds() < 0 || s.threads() < 1 || s.evaluations() == 0 && s.seconds() == 0) {
      throw new GraftCommand.UsageException("the run needs a budget (--evaluations N and/or --seconds S, positive) and --threads >= 1");
    }
    if (resume && recipe != null && java.nio.file.Files.isRegularFile(out.resolve(EvolveRun.RUN_RECIPE))) {
      EvolveSpec before = EvolveRun.recipeOf(out);
      if (!EvolveRun.sameRun(before, s)) {
        throw new InvalidInputException(recipe + " describes another run than the one in " + out + " (compare with "
            + out.resolve(EvolveRun.RUN_RECIPE) + "); resume with the same recipe (only the budget may change), or start a new run elsewhere");
      }
    }
    return s;
  }
}
