package dev.graft.spark;

import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.graft.evolve.Breeder;
import dev.graft.evolve.Candidate;
import dev.graft.evolve.ClusterEvaluation;
import dev.graft.evolve.Evaluated;
import dev.graft.evolve.EvolveRun;
import dev.graft.evolve.EvolveSpec;
import dev.graft.evolve.Evolution;
import dev.graft.evolve.Genome;
import dev.graft.evolve.Mutation;
import dev.graft.evolve.Proposal;
import dev.graft.evolve.Result;
import dev.graft.evolve.SlerpCrossover;
import dev.graft.tensor.Device;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.SplittableRandom;
import org.apache.spark.api.java.JavaSparkContext;

/**
 * Figures for benchmarks/README.md (run by benchmarks/cluster.sh, not a test):
 *
 * <ol>
 *   <li>the cluster's overhead per generation of 200 candidates whose evaluation costs nothing (what scheduling,
 *       serialisation and result collection cost), for recipe-sized genomes (16 genes) and for the weights of the
 *       M2N2 paper's MLP (19,210 floats) sent as values or as lineages (children of a pool of 20 parents that changes by
 *       20 per generation, as an M2N2 archive), on {@code local[2]} and on a standalone cluster of two one-core workers;
 *   <li>an evaluation-bound run (recipes/evolve/cmaes-ties-lm.yml on a family of three fine-tunes of a 16M-parameter
 *       Llama: every candidate is merged in memory and scored on perplexity) on one local thread, two local threads,
 *       and the two-worker cluster.
 * </ol>
 */
public final class ClusterBenchmark {
  private ClusterBenchmark() {}

  static void copy(Path from, Path to) throws java.io.IOException {
    try (java.util.stream.Stream<Path> s = Files.walk(from)) {
      for (Path p : s.toList()) {
        Path t = to.resolve(from.relativize(p).toString());
        if (Files.isDirectory(p)) {
          Files.createDirectories(t);
        } else {
          Files.copy(p, t);
        }
      }
    }
  }

  public static void main(String[] args) throws Exception {
    Path dir = Path.of(args.length > 0 ? args[0] : "target/cluster-bench").toAbsolutePath();
    int evaluations = args.length > 1 ? Integer.parseInt(args[1]) : 56;
    Files.createDirectories(dir);
    try (StandaloneCluster cluster = new StandaloneCluster(Files.createTempDirectory(dir, "cluster"), 2)) {
      Map<String, String> conf = Map.of("spark.executor.memory", "2g", "spark.executor.cores", "1",
          "spark.executor.extraJavaOptions", "-Djava.io.tmpdir=" + cluster.dir);
      if (args.length < 3 || !args[2].equals("--no-overhead")) {
        for (String master : List.of("local[2]", cluster.master)) {
          for (Genomes kind : Genomes.values()) {
            overhead(master, conf, kind);
          }
        }
      }
      evaluationBound(dir, evaluations, cluster.master, conf);
    }
  }

  /** How the overhead benchmark's genomes travel. */
  enum Genomes {
    GENES_16, WEIGHTS_19K, LINEAGE_19K
  }

  private static void overhead(String master, Map<String, String> conf, Genomes kind) {
    JavaSparkContext sc = new JavaSparkContext(SparkEvaluation.conf(new ClusterEvaluation.Cluster(master, conf), "overhead"));
    try (SparkBatchEvaluator b = new SparkBatchEvaluator(sc, new SphereSource(0, Double.NaN), true)) {
      SplittableRandom rng = new SplittableRandom(1);
      Breeder breeder = new Breeder(new SlerpCrossover(true, null), new Mutation(0.01, 1, null));
      List<Evaluated> pool = new ArrayList<>(); // an M2N2-like archive of 20 parents, 20 of them replaced per generation
      long ids = 0;
      for (int i = 0; i < 20; i++) {
        pool.add(evaluated(ids++, gaussian(19210, rng)));
      }
      double[] ms = new double[25];
      for (int g = 0; g < ms.length; g++) {
        List<Proposal> batch = new ArrayList<>();
        for (int i = 0; i < 200; i++) {
          ObjectNode o = JsonNodeFactory.instance.objectNode();
          switch (kind) {
            case GENES_16 -> batch.add(new Proposal(new Genome.Genes(rng.doubles(16).toArray()), o));
            case WEIGHTS_19K -> batch.add(new Proposal(gaussian(19210, rng), o));
            case LINEAGE_19K -> {
              Evaluated p1 = pool.get(rng.nextInt(pool.size()));
              Evaluated p2 = pool.get(rng.nextInt(pool.size()));
              Genome child = breeder.mutation().apply(breeder.crossover().cross(p1.genome(), p2.genome(), rng, o), rng, o);
              batch.add(new Proposal(child, o, List.of(p1, p2)));
            }
          }
        }
        double[] evalSeconds = new double[1];
        long t0 = System.nanoTime();
        b.evaluate(batch, (i, r) -> {
          synchronized (evalSeconds) {
            evalSeconds[0] += r.seconds();
          }
        });
        ms[g] = (System.nanoTime() - t0) / 1e6 - evalSeconds[0] * 1e3 / b.parallelism();
        for (int i = 0; i < 20; i++) {
          pool.set(rng.nextInt(pool.size()), evaluated(ids++, batch.get(i).genome()));
        }
      }
      double[] steady = Arrays.copyOfRange(ms, 5, ms.length); // the first generations start executors and load the source
      Arrays.sort(steady);
      System.out.printf(Locale.ROOT, "overhead %-26s %-12s: first generation %.0f ms; later: median %.1f ms, max %.1f ms per 200 candidates (%d partitions; %s)%n",
          master, kind, ms[0], steady[steady.length / 2], steady[steady.length - 1], b.parallelism(), b.traffic());
    }
  }

  private static Genome.Flat gaussian(int size, SplittableRandom rng) {
    float[] w = new float[size];
    for (int k = 0; k < size; k++) {
      w[k] = (float) rng.nextGaussian();
    }
    return new Genome.Flat(w);
  }

  private static Evaluated evaluated(long id, Genome g) {
    return new Evaluated(new Candidate(id, 0, g, JsonNodeFactory.instance.objectNode()), new Result(0, Map.of(), null, null, 0), -1);
  }

  private static void evaluationBound(Path dir, int evaluations, String master, Map<String, String> conf) throws Exception {
    // recipes/evolve/cmaes-ties-lm.yml (CMA-ES over a ties recipe's weights and densities, every candidate merged in
    // memory and scored on perplexity) on a family of 3 fine-tunes of a 16M-parameter Llama
    Path recipes = dir.resolve("recipes");
    if (!Files.exists(recipes.resolve("family"))) {
      copy(Path.of("..", "recipes"), recipes);
      dev.graft.synth.SyntheticCheckpoints.writeFamily(new dev.graft.synth.SynthSpec(4096, 512, 4, 8, 4, 1376, false, dev.graft.tensor.DType.BF16,
          1L << 30, 3, 8, 42), recipes.resolve("family"), 2, dev.graft.io.Progress.NONE);
    }
    compare("cmaes-ties-lm", EvolveSpec.read(recipes.resolve("evolve/cmaes-ties-lm.yml")).with(null, (long) evaluations, null, null).withCluster(null),
        dir, master, conf);
    // model space, compute-bound: a GA over the weights of an MLP 64 -> 512 -> 10 scored on 20,000 procedural digits
    // (about 0.65 G multiply-adds per candidate), children sent as lineages
    Path ga = dir.resolve("ga-digits");
    Files.createDirectories(ga);
    Files.writeString(ga.resolve("digits.yaml"), """
        name: digits-20k
        kind: classification
        data: {source: procedural, size: 8, count: 25000, seed: 3}
        split: {fit: 0.8, seed: 7}
        metric: accuracy
        """);
    Files.writeString(ga.resolve("evolve.yml"), """
        name: ga-digits-big
        seed: 3
        space: model
        model: {init: random, mlp: [64, 512, 10], count: 16, std: 0.1}
        tasks: [digits.yaml]
        optimizer: {method: ga, population: 16, tournament: 3, crossover: slerp_split, mutation: {std: 0.02}}
        budget: {evaluations: 320}
        save_best_model: false
        """);
    compare("ga-digits-mlp512", EvolveSpec.read(ga.resolve("evolve.yml")), dir, master, conf);
  }

  /** One run of {@code spec} on one executor, two executors, one local thread and two; wall times and speed-ups. */
  private static void compare(String what, EvolveSpec spec, Path dir, String master, Map<String, String> conf) throws Exception {
    record Setting(String name, EvolveSpec spec) {}
    Map<String, String> one = new java.util.HashMap<>(conf);
    one.put("spark.cores.max", "1");
    double base = 0;
    for (Setting s : List.of(new Setting("standalone, 1 executor x 1 core", spec.withCluster(new ClusterEvaluation.Cluster(master, one))),
        new Setting("standalone, 2 executors x 1 core", spec.withCluster(new ClusterEvaluation.Cluster(master, conf))),
        new Setting("local, 1 thread (kernels on 2 cores)", spec.with(null, null, null, 1)),
        new Setting("local, 2 threads", spec.with(null, null, null, 2)))) {
      Path out = dir.resolve("run-" + what + "-" + s.name().replaceAll("[^a-z0-9]+", "-"));
      try (EvolveRun.Prepared p = EvolveRun.prepare(s.spec(), Device.CPU)) {
        long t0 = System.nanoTime();
        EvolveRun.Summary sum = EvolveRun.run(p, new EvolveRun.Options(out, false, true, Device.CPU, Evolution.Listener.NONE));
        double sec = (System.nanoTime() - t0) / 1e9;
        com.fasterxml.jackson.databind.ObjectMapper json = new com.fasterxml.jackson.databind.ObjectMapper();
        double evalSec = 0;
        for (String l : Files.readAllLines(out.resolve("evaluations.jsonl"))) {
          evalSec += json.readTree(l).path("seconds").asDouble();
        }
        if (base == 0) {
          base = sec;
        }
        System.out.printf(Locale.ROOT, "evaluation-bound %s: %-32s %d evaluations in %.1f s (%.1f ms per evaluation inside; speed-up over 1 executor %.2f), best %.4f%n",
            what, s.name(), sum.outcome().evaluations(), sec, 1e3 * evalSec / sum.outcome().evaluations(), base / sec, sum.outcome().best().fitness());
        System.out.flush();
      }
    }
  }
}
