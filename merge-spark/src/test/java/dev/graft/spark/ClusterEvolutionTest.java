package dev.graft.spark;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.graft.evolve.Bounds;
import dev.graft.evolve.ClusterEvaluation;
import dev.graft.evolve.CmaEs;
import dev.graft.evolve.EvolveRun;
import dev.graft.evolve.EvolveSpec;
import dev.graft.evolve.Evolution;
import dev.graft.evolve.Genome;
import dev.graft.evolve.RunRecipe;
import dev.graft.tensor.Device;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import org.apache.spark.api.java.JavaSparkContext;
import org.apache.spark.scheduler.SparkListener;
import org.apache.spark.scheduler.SparkListenerExecutorRemoved;
import org.apache.spark.scheduler.SparkListenerTaskStart;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Evolution with candidates scored on Spark: {@code local[2]} inside this JVM, and a real standalone cluster of a
 * Master and two Workers started as separate processes (executors in their own JVMs), with an executor killed in the
 * middle of a generation and a candidate that kills every executor that scores it.
 */
class ClusterEvolutionTest {
  private static final ObjectMapper JSON = new ObjectMapper();

  @TempDir static Path tmp;
  private static StandaloneCluster cluster;

  @BeforeAll
  static void startCluster() throws Exception {
    cluster = new StandaloneCluster(tmp.resolve("cluster"), 2);
  }


  @AfterAll
  static void stopCluster() {
    if (cluster != null) {
      List<ProcessHandle> started = cluster.processes();
      assertThat(started).hasSizeGreaterThanOrEqualTo(3); // a master, two workers (and their executors, if still up)
      cluster.close();
      assertThat(started).as("processes the test started are stopped").noneMatch(ProcessHandle::isAlive);
    }
  }

  private static Map<String, String> conf(int maxFailures) {
    return Map.of("spark.executor.memory", "512m", "spark.task.maxFailures", String.valueOf(maxFailures), "spark.executor.cores", "1",
        "spark.executor.extraJavaOptions", "-Djava.io.tmpdir=" + cluster.dir);
  }

  /** A digits task and a model-space CMA-ES recipe over a small MLP's weights. */
  static Path digitsRecipe(Path dir) throws IOException {
    Files.createDirectories(dir);
    Files.writeString(dir.resolve("digits.yaml"), """
        name: digits
        kind: classification
        data: {source: procedural, size: 8, count: 500, seed: 3}
        split: {fit: 0.8, seed: 7}
        metric: accuracy
        """);
    Path r = dir.resolve("evolve.yml");
    Files.writeString(r, """
        name: tiny-digits
        seed: 5
        space: model
        model: {init: random, mlp: [64, 12, 10], count: 1, std: 0.1}
        tasks: [digits.yaml]
        optimizer: {method: cmaes, sigma: 0.05, popsize: 8, diagonal: true}
        budget: {evaluations: 32}
        threads: 2
        save_best_model: false
        """);
    return r;
  }

  /** The held-out score reported for each generation. */
  static List<String> heldOutPerGeneration(Path run) throws IOException {
    List<String> out = new java.util.ArrayList<>();
    for (String line : Files.readAllLines(run.resolve("generations.jsonl"))) {
      out.add(JSON.readTree(line).path("held_out").toString());
    }
    return out;
  }

  /** Each candidate of a run's record by id: hash, fitness, per-task scores, origin, duplicate (never twice). */
  static Map<Long, String> record(Path run) throws IOException {
    Map<Long, String> m = new TreeMap<>();
    for (String line : Files.readAllLines(run.resolve("evaluations.jsonl"))) {
      JsonNode n = JSON.readTree(line);
      String v = n.get("hash").asText() + " " + n.get("fitness").asText() + " " + n.get("tasks") + " " + n.get("origin") + " "
          + n.get("duplicate_of").asText() + " " + n.path("error").asText("");
      assertThat(m.put(n.get("id").asLong(), v)).as("candidate " + n.get("id") + " recorded twice").isNull();
    }
    return m;
  }

  private static EvolveRun.Summary evolve(EvolveSpec spec, Path out) {
    try (EvolveRun.Prepared p = EvolveRun.prepare(spec, Device.CPU)) {
      return EvolveRun.run(p, new EvolveRun.Options(out, false, false, Device.CPU, Evolution.Listener.NONE));
    }
  }

  @Test
  void aRunOnLocalSparkAndOnAStandaloneClusterRecordsWhatTheLocalRunRecords() throws Exception {
    EvolveSpec spec = EvolveSpec.read(digitsRecipe(tmp.resolve("digits")));
    EvolveRun.Summary local = evolve(spec, tmp.resolve("run-local"));
    EvolveRun.Summary inProcess = evolve(spec.withCluster(new ClusterEvaluation.Cluster("local[2]", Map.of())), tmp.resolve("run-local2"));
    EvolveRun.Summary standalone = evolve(spec.withCluster(new ClusterEvaluation.Cluster(cluster.master, conf(4))), tmp.resolve("run-cluster"));

    Map<Long, String> expected = record(tmp.resolve("run-local"));
    assertThat(expected).hasSize(32);
    assertThat(record(tmp.resolve("run-local2"))).isEqualTo(expected);
    assertThat(record(tmp.resolve("run-cluster"))).isEqualTo(expected);
    for (EvolveRun.Summary s : List.of(inProcess, standalone)) {
      assertThat(s.outcome().best().id()).isEqualTo(local.outcome().best().id());
      assertThat(s.outcome().heldOut()).isEqualTo(local.outcome().heldOut());
    }
    assertThat(Files.readString(tmp.resolve("run-cluster/run.yml"))).contains("master: " + cluster.master);
    String log = Files.readString(tmp.resolve("run-cluster/" + SparkEvaluation.LOG));
    assertThat(log).contains("Connected to Spark cluster");
    long generations = Files.readAllLines(tmp.resolve("run-local/generations.jsonl")).size();
    java.util.regex.Matcher m = java.util.regex.Pattern.compile("(\\d+) held-out scores on executors").matcher(log);
    assertThat(m.find()).isTrue();
    assertThat(Long.parseLong(m.group(1))).as("the best's held-out score computed by executors when it changed").isPositive()
        .isLessThanOrEqualTo(generations);
    assertThat(heldOutPerGeneration(tmp.resolve("run-cluster"))).isEqualTo(heldOutPerGeneration(tmp.resolve("run-local")));
  }

  @Test
  void modelSpaceChildrenTravelAsLineagesAndScoreWhatTheLocalRunScores() throws Exception {
    Path r = digitsRecipe(tmp.resolve("digits-m2n2"));
    Files.writeString(r, Files.readString(r).replace("optimizer: {method: cmaes, sigma: 0.05, popsize: 8, diagonal: true}",
        "optimizer: {method: m2n2, archive_size: 6, batch: 8, crossover: slerp_split, mutation: {std: 0.01}}").replace("count: 1", "count: 2")
        .replace("evaluations: 32", "evaluations: 34"));
    EvolveSpec spec = EvolveSpec.read(r);
    evolve(spec, tmp.resolve("m2n2-local"));
    evolve(spec.withCluster(new ClusterEvaluation.Cluster(cluster.master, conf(4))), tmp.resolve("m2n2-cluster"));

    Map<Long, String> expected = record(tmp.resolve("m2n2-local"));
    assertThat(expected).hasSize(34); // 2 first models, then 4 steps of 8 children
    assertThat(record(tmp.resolve("m2n2-cluster"))).isEqualTo(expected);
    java.util.Set<Long> parents = new java.util.HashSet<>();
    long children = 0;
    for (String line : Files.readAllLines(tmp.resolve("m2n2-local/evaluations.jsonl"))) {
      JsonNode p = JSON.readTree(line).path("origin").path("parents");
      children += p.isEmpty() ? 0 : 1;
      p.forEach(id -> parents.add(id.asLong()));
    }
    java.util.regex.Matcher m = java.util.regex.Pattern.compile("graft: (\\d+) children sent as lineages, (\\d+) genomes as values, (\\d+) parents broadcast")
        .matcher(Files.readString(tmp.resolve("m2n2-cluster/" + SparkEvaluation.LOG)));
    assertThat(m.find()).as("the run's traffic is logged").isTrue();
    assertThat(Long.parseLong(m.group(1))).as("children sent as lineages").isEqualTo(children).isEqualTo(32);
    assertThat(Long.parseLong(m.group(2))).as("only the first models sent as weights").isEqualTo(2);
    assertThat(Long.parseLong(m.group(3))).as("each parent broadcast once while it has children").isBetween((long) parents.size(), 2 * children - 1);
  }

  private static CmaEs cma() {
    return new CmaEs(new CmaEs.Options(0.3, 8, false, 0), new double[] {0.5, -0.5, 0.5, -0.5}, Bounds.uniform(4, -1, 1));
  }

  private static ObjectNode describe(Genome g) {
    ObjectNode n = JSON.createObjectNode();
    if (g instanceof Genome.Genes x) {
      n.put("x0", x.values()[0]);
    }
    return n;
  }

  /** A GA over 50 weights whose children travel as lineages (the breeder SphereSource's executors rebuild them with). */
  private static dev.graft.evolve.Optimizer ga() {
    java.util.List<Genome> seeds = new java.util.ArrayList<>();
    java.util.SplittableRandom r = new java.util.SplittableRandom(3);
    for (int i = 0; i < 8; i++) {
      float[] w = new float[50];
      for (int k = 0; k < w.length; k++) {
        w[k] = (float) r.nextGaussian();
      }
      seeds.add(new Genome.Flat(w));
    }
    return new dev.graft.evolve.GeneticAlgorithm(new dev.graft.evolve.GeneticAlgorithm.Options(8, 3, 0.9, 1), seeds, null,
        new dev.graft.evolve.SlerpCrossover(true, null), new dev.graft.evolve.Mutation(0.01, 1, null));
  }

  private static Evolution.Outcome sphere(java.util.function.Supplier<dev.graft.evolve.Optimizer> optimizer, Path out, long evaluations,
      Evolution.Listener listener, java.util.function.Supplier<dev.graft.evolve.BatchEvaluator> batch) {
    return new Evolution(optimizer.get(), null, ClusterEvolutionTest::describe, new Evolution.Settings(11, evaluations, 0, 2, 0), listener, batch)
        .run(out, false);
  }

  private static java.util.function.Supplier<dev.graft.evolve.BatchEvaluator> local(SphereSource s) {
    return () -> new dev.graft.evolve.LocalEvaluation(s.open().evaluators(), 2);
  }

  @Test
  void anExecutorKilledInTheMiddleOfAGenerationCostsNothing() throws Exception {
    SparkBatchEvaluator batch = killedMidGeneration("sphere", ClusterEvolutionTest::cma);
    assertThat(record(tmp.resolve("sphere-cluster"))).hasSize(40); // five generations of CMA-ES's 8
    long driver = ProcessHandle.current().pid();
    Set<Long> pids = new HashSet<>();
    batch.executors().values().forEach(x -> {
      pids.add(x.pid());
      assertThat(x.loads()).as("each executor loads the run once").isEqualTo(1);
    });
    assertThat(pids).doesNotContain(driver).hasSizeGreaterThanOrEqualTo(2);
  }

  @Test
  void childrenSentAsLineagesSurviveAKilledExecutor() throws Exception {
    SparkBatchEvaluator batch = killedMidGeneration("lineage", ClusterEvolutionTest::ga);
    assertThat(batch.traffic().lineages()).as("children sent as lineages").isPositive();
    assertThat(batch.traffic().broadcasts()).isPositive();
  }

  /**
   * Runs {@code optimizer} on the standalone cluster for up to 40 evaluations, killing (SIGKILL) the executor of the
   * first task that starts after generation 1, and checks that the record is the local run's, every candidate once.
   */
  private SparkBatchEvaluator killedMidGeneration(String name, java.util.function.Supplier<dev.graft.evolve.Optimizer> optimizer) throws Exception {
    SphereSource src = new SphereSource(120, Double.NaN);
    Evolution.Outcome here = sphere(optimizer, tmp.resolve(name + "-local"), 40, null, local(src));

    JavaSparkContext sc = new JavaSparkContext(SparkEvaluation.conf(new ClusterEvaluation.Cluster(cluster.master, conf(4)), "kill test"));
    SparkBatchEvaluator batch = new SparkBatchEvaluator(sc, src, true);
    AtomicBoolean armed = new AtomicBoolean();
    AtomicLong killed = new AtomicLong(-1);
    AtomicInteger removed = new AtomicInteger();
    sc.sc().addSparkListener(new SparkListener() {
      @Override
      public void onTaskStart(SparkListenerTaskStart e) {
        SparkBatchEvaluator.Executor x = batch.executors().get(e.taskInfo().executorId());
        if (x != null && armed.compareAndSet(true, false)) {
          ProcessHandle.of(x.pid()).ifPresent(ProcessHandle::destroyForcibly); // SIGKILL
          killed.set(x.pid());
        }
      }

      @Override
      public void onExecutorRemoved(SparkListenerExecutorRemoved e) {
        removed.incrementAndGet();
      }
    });
    Evolution.Listener arm = new Evolution.Listener() {
      @Override
      public void generation(Evolution.Generation g) {
        if (g.index() == 1) {
          armed.set(true);
        }
      }
    };
    Evolution.Outcome o = sphere(optimizer, tmp.resolve(name + "-cluster"), 40, arm, () -> batch);

    assertThat(killed.get()).as("an executor was killed while it ran a task").isPositive();
    assertThat(removed.get()).isGreaterThanOrEqualTo(1);
    assertThat(record(tmp.resolve(name + "-cluster"))).hasSizeGreaterThan(30).isEqualTo(record(tmp.resolve(name + "-local")));
    assertThat(o.evaluations()).isEqualTo(here.evaluations());
    return batch;
  }

  @Test
  void aClusterThatCannotGiveAnExecutorStopsTheRunWithTheReason() {
    Map<String, String> tooBig = new java.util.HashMap<>(conf(4));
    tooBig.put("spark.executor.memory", "64g"); // the workers offer 3g each
    JavaSparkContext sc = new JavaSparkContext(SparkEvaluation.conf(new ClusterEvaluation.Cluster(cluster.master, tooBig), "no executor"));
    System.setProperty("graft.cluster.wait.seconds", "3");
    try (SparkBatchEvaluator b = new SparkBatchEvaluator(sc, new SphereSource(0, Double.NaN), true)) {
      org.assertj.core.api.Assertions.assertThatThrownBy(() -> b.evaluate(List.of(new dev.graft.evolve.Proposal(new Genome.Genes(new double[] {1, 2}), com.fasterxml.jackson.databind.node.JsonNodeFactory.instance.objectNode())), (i, r) -> { }))
          .isInstanceOf(IllegalStateException.class).hasMessageContaining("no executor joined the run in 3 s")
          .hasMessageContaining("spark.executor.memory=64g");
    } finally {
      System.clearProperty("graft.cluster.wait.seconds");
    }
  }

  @Test
  void aCandidateThatKillsEveryExecutorScoringItIsRecordedAsFailedAndTheRunGoesOn() throws Exception {
    Path ref = tmp.resolve("poison-local");
    sphere(ClusterEvolutionTest::cma, ref, 16, null, local(new SphereSource(0, Double.NaN)));
    JsonNode third = JSON.readTree(Files.readAllLines(ref.resolve("evaluations.jsonl")).stream()
        .filter(l -> l.contains("\"id\":3,")).findFirst().orElseThrow());
    double poison = third.get("x0").asDouble();

    JavaSparkContext sc = new JavaSparkContext(SparkEvaluation.conf(new ClusterEvaluation.Cluster(cluster.master, conf(2)), "poison test"));
    Evolution.Outcome o = sphere(ClusterEvolutionTest::cma, tmp.resolve("poison-cluster"), 16, null, () -> new SparkBatchEvaluator(sc, new SphereSource(0, poison), true));

    Map<Long, String> got = record(tmp.resolve("poison-cluster"));
    Map<Long, String> want = record(ref);
    assertThat(got).hasSize(16);
    JsonNode failed = JSON.readTree(Files.readAllLines(tmp.resolve("poison-cluster/evaluations.jsonl")).stream()
        .filter(l -> l.contains("\"id\":3,")).findFirst().orElseThrow());
    assertThat(failed.get("error").asText()).contains("ended the executor process").contains("ExecutorLostFailure");
    for (long id = 0; id < 8; id++) { // the first generation: everything but the poison scored as in the local run
      if (id != 3) {
        assertThat(got.get(id)).isEqualTo(want.get(id));
      }
    }
    assertThat(o.evaluations()).isEqualTo(16);
  }
}
