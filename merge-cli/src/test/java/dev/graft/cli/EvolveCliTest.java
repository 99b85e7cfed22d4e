package dev.graft.cli;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** graft evolve and graft quickstart through the command line: outputs, kill -9 and resume, errors. */
class EvolveCliTest {
  @TempDir static Path dir;

  static final String RECIPE = """
      name: tiny
      seed: 5
      space: model
      model: {init: random, mlp: [64, 16, 10], count: 2, std: 0.05}
      tasks: [digits.yaml]
      optimizer: {method: m2n2, archive_size: 8, mutation: {std: 0.02}}
      budget: {evaluations: %d}
      checkpoint_seconds: 0.2
      threads: 2
      """;

  @BeforeAll
  static void files() throws IOException {
    Files.writeString(dir.resolve("digits.yaml"), "name: digits\nkind: classification\ndata: {source: procedural, size: 8, count: 600, seed: 1}\n");
    Files.writeString(dir.resolve("tiny.yml"), RECIPE.formatted(1500));
  }

  static CliTest.Run run(String... args) {
    return CliTest.run(args);
  }

  /** Each candidate of a run's record by id (hash, fitness, lineage); fails on an id recorded twice. */
  static Map<Long, String> record(Path run) throws IOException {
    Map<Long, String> m = new TreeMap<>();
    ObjectMapper om = new ObjectMapper();
    for (String line : Files.readAllLines(run.resolve("evaluations.jsonl"))) {
      JsonNode n = om.readTree(line);
      String v = n.get("hash").asText() + " " + n.get("fitness").asText() + " " + n.get("origin");
      assertThat(m.put(n.get("id").asLong(), v)).as("candidate " + n.get("id") + " recorded twice").isNull();
    }
    return m;
  }

  @Test
  void evolvesWritesEverythingAndAFinishedRunResumesToTheSameResult() throws IOException {
    Path out = dir.resolve("run-a");
    CliTest.Run r = run("evolve", dir.resolve("tiny.yml").toString(), "-o", out.toString(), "-q", "--evaluations", "300");
    assertThat(r.code()).as(r.err()).isZero();
    assertThat(r.out()).contains("tiny: 300 evaluations", "best: candidate", "held-out", "wrote " + out.resolve("report.md"));
    for (String f : List.of("run.yml", "evaluations.jsonl", "generations.jsonl", "checkpoint.safetensors", "report.md", "fitness.png", "lineage.png",
        "summary.json", "best-model/config.json", "best-model/model.safetensors")) {
      assertThat(out.resolve(f)).exists();
    }
    assertThat(Files.readString(out.resolve("report.md"))).contains("## Best candidate", "held-out", "![fitness](fitness.png)", "## Lineage of the best");
    assertThat(Files.readString(out.resolve("run.yml"))).contains("evaluations: 300", dir.resolve("digits.yaml").toString());
    Map<Long, String> before = record(out);
    // the same run folder without --resume is refused; with --resume (no recipe: run.yml) nothing is evaluated again
    CliTest.Run again = run("evolve", dir.resolve("tiny.yml").toString(), "-o", out.toString(), "-q", "--evaluations", "300");
    assertThat(again.code()).isEqualTo(2);
    assertThat(again.err()).contains("already holds a run", "--resume");
    CliTest.Run res = run("evolve", "--resume", "-o", out.toString(), "-q");
    assertThat(res.code()).as(res.err()).isZero();
    assertThat(res.out()).contains("resumed", "tiny: 300 evaluations");
    assertThat(record(out)).isEqualTo(before);
    // a larger budget continues the run
    CliTest.Run more = run("evolve", "--resume", "-o", out.toString(), "-q", "--evaluations", "400");
    assertThat(more.code()).as(more.err()).isZero();
    assertThat(record(out)).hasSize(400);
  }

  @Test
  void aRunKilledWithSigkillResumesWithNoEvaluationLostOrRepeated() throws Exception {
    Path ref = dir.resolve("ref");
    assertThat(run("evolve", dir.resolve("tiny.yml").toString(), "-o", ref.toString(), "-q").code()).isZero();
    Path out = dir.resolve("killed");
    Process p = GraftProcess.start(512, List.of(), List.of("evolve", dir.resolve("tiny.yml").toString(), "-o", out.toString(), "-q"));
    Path ev = out.resolve("evaluations.jsonl");
    long deadline = System.nanoTime() + TimeUnit.MINUTES.toNanos(3);
    while (System.nanoTime() < deadline && p.isAlive() && (!Files.exists(ev) || Files.readAllLines(ev).size() < 500)) {
      Thread.sleep(20);
    }
    assertThat(p.isAlive()).as("the child finished before it could be killed").isTrue();
    p.destroyForcibly(); // SIGKILL: no shutdown hook, no finally block runs
    assertThat(p.waitFor(1, TimeUnit.MINUTES)).isTrue();
    int recorded = Files.readAllLines(ev).size();
    assertThat(recorded).isBetween(500, 1499);
    CliTest.Run res = run("evolve", "--resume", "-o", out.toString(), "-q");
    assertThat(res.code()).as(res.err()).isZero();
    assertThat(res.out()).contains("resumed", "tiny: 1500 evaluations");
    assertThat(record(out)).isEqualTo(record(ref));
    assertThat(Files.readString(out.resolve("summary.json")).replaceAll("\\s", "")).isEqualTo(Files.readString(ref.resolve("summary.json")).replaceAll("\\s", ""));
  }

  @Test
  void badInputExitsWithTwoAndSaysWhatIsWrong() throws IOException {
    CliTest.Run none = run("evolve", "-o", dir.resolve("x").toString());
    assertThat(none.code()).isEqualTo(2);
    assertThat(none.err()).contains("give an evolve RECIPE, or --resume");
    CliTest.Run noRun = run("evolve", "--resume", "-o", dir.resolve("nothing").toString());
    assertThat(noRun.code()).isEqualTo(2);
    assertThat(noRun.err()).contains("holds no run");
    Files.writeString(dir.resolve("bad.yml"), "model: {init: random, mlp: [64, 10]}\ntasks: [digits.yaml]\noptimizer: {method: random, archive_size: 3}\n");
    CliTest.Run bad = run("evolve", dir.resolve("bad.yml").toString(), "-o", dir.resolve("y").toString());
    assertThat(bad.code()).isEqualTo(2);
    assertThat(bad.err()).contains("bad.yml:3:", "random searches gene vectors", "'archive_size' is not a setting of random", "missing budget");
    assertThat(bad.err()).doesNotContain("Exception");
    assertThat(dir.resolve("y")).doesNotExist();
    // resuming with another recipe than the run's
    Path out = dir.resolve("run-b");
    assertThat(run("evolve", dir.resolve("tiny.yml").toString(), "-o", out.toString(), "-q", "--evaluations", "50").code()).isZero();
    Files.writeString(dir.resolve("other.yml"), RECIPE.formatted(50).replace("archive_size: 8", "archive_size: 9"));
    CliTest.Run other = run("evolve", dir.resolve("other.yml").toString(), "-o", out.toString(), "--resume");
    assertThat(other.code()).isEqualTo(2);
    assertThat(other.err()).contains("describes another run");
    CliTest.Run seed = run("evolve", dir.resolve("tiny.yml").toString(), "-o", out.toString(), "--resume", "--seed", "6", "--evaluations", "60");
    assertThat(seed.code()).isEqualTo(2);
  }

  @Test
  void aClusterNeedsTheSparkModuleAndAValidAddress() throws IOException {
    // merge-cli alone does not carry Spark: ./graft adds merge-spark to the class path for --cluster
    CliTest.Run noSpark = run("evolve", dir.resolve("tiny.yml").toString(), "-o", dir.resolve("c1").toString(), "--cluster", "local[2]");
    assertThat(noSpark.code()).isEqualTo(2);
    assertThat(noSpark.err()).contains("needs Graft's Spark module (merge-spark)").doesNotContain("Exception");
    assertThat(dir.resolve("c1")).doesNotExist();
    CliTest.Run badMaster = run("evolve", dir.resolve("tiny.yml").toString(), "-o", dir.resolve("c2").toString(), "--cluster", "my-cluster");
    assertThat(badMaster.code()).isEqualTo(2);
    assertThat(badMaster.err()).contains("--cluster my-cluster is not a cluster address", "spark://HOST:PORT");
    CliTest.Run confAlone = run("evolve", dir.resolve("tiny.yml").toString(), "-o", dir.resolve("c3").toString(), "--spark-conf", "spark.executor.memory=4g");
    assertThat(confAlone.code()).isEqualTo(2);
    assertThat(confAlone.err()).contains("--spark-conf needs a cluster");
    Files.writeString(dir.resolve("bad-cluster.yml"), RECIPE.formatted(50) + "cluster: {master: yarn-ish, conf: {spark.executor.memory: 4g}}\n");
    CliTest.Run inRecipe = run("evolve", dir.resolve("bad-cluster.yml").toString(), "-o", dir.resolve("c4").toString());
    assertThat(inRecipe.code()).isEqualTo(2);
    assertThat(inRecipe.err()).contains("bad-cluster.yml:", "'yarn-ish' is not a cluster address");
  }

  @Test
  void quickstartEvolvesMergesThatBeatTheSpecialistsAndTheAverageOnHeldOutData() throws IOException {
    Path out = dir.resolve("qs");
    CliTest.Run r = run("quickstart", "-o", out.toString(), "-q");
    assertThat(r.code()).as(r.err()).isZero();
    assertThat(r.out()).contains("specialist 0-4", "linear (average)", "ties", "breadcrumbs", "fisher", "aligned average", "CMA-ES recipe", "M2N2 population");
    JsonNode rows = new ObjectMapper().readTree(out.resolve("results.json").toFile()).get("rows");
    Map<String, Double> held = new TreeMap<>();
    rows.forEach(n -> held.put(n.get("method").asText(), n.get("held_out").asDouble()));
    double bar = Math.max(Math.max(held.get("specialist 0-4"), held.get("specialist 5-9")), held.get("linear (average)"));
    assertThat(held.get("CMA-ES recipe")).isGreaterThan(bar);
    assertThat(held.get("M2N2 population")).isGreaterThan(bar);
    for (String f : List.of("report.md", "heldout.png", "runs/cmaes/report.md", "runs/cmaes/fitness.png", "runs/cmaes/best.yml", "runs/m2n2/lineage.png",
        "recipes/evolve-cmaes.yml", "recipes/fisher.yml", "models/specialist-0-4.fisher.safetensors")) {
      assertThat(out.resolve(f)).exists();
    }
  }
}
