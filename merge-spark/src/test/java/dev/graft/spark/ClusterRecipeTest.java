package dev.graft.spark;

import static org.assertj.core.api.Assertions.assertThat;

import dev.graft.evolve.EvolveRun;
import dev.graft.evolve.EvolveSpec;
import dev.graft.tensor.Device;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** recipes/evolve/cluster-digits.yml runs as written (its cluster: local[2]), and a resumed run continues it. */
class ClusterRecipeTest {
  @TempDir Path tmp;

  @Test
  void theClusterRecipeRunsOnSparkAndResumes() throws Exception {
    EvolveSpec spec = EvolveSpec.read(Path.of("..", "recipes", "evolve", "cluster-digits.yml"));
    assertThat(spec.cluster().master()).isEqualTo("local[2]");
    assertThat(spec.cluster().conf()).containsEntry("spark.executor.memory", "2g");
    Path out = tmp.resolve("run");
    long first;
    try (EvolveRun.Prepared p = EvolveRun.prepare(spec.with(null, 80L, null, null), Device.CPU)) {
      EvolveRun.Summary s = EvolveRun.run(p, new EvolveRun.Options(out, false, false, Device.CPU, null));
      first = s.outcome().evaluations();
      assertThat(first).isBetween(25L, 80L);
    }
    long candidates;
    try (EvolveRun.Prepared p = EvolveRun.prepare(spec.with(null, 120L, null, null), Device.CPU)) {
      EvolveRun.Summary s = EvolveRun.run(p, new EvolveRun.Options(out, true, false, Device.CPU, null));
      assertThat(s.outcome().resumed()).isTrue();
      assertThat(s.outcome().evaluations()).isBetween(first + 1, 120L);
      candidates = s.outcome().candidates();
    }
    assertThat(Files.readAllLines(out.resolve("evaluations.jsonl"))).hasSize((int) candidates);
    assertThat(out.resolve("best-model/config.json")).exists();
    assertThat(out.resolve(SparkEvaluation.LOG)).exists();
    assertThat(EvolveRun.sameRun(EvolveRun.recipeOf(out), spec)).isTrue();
  }
}
