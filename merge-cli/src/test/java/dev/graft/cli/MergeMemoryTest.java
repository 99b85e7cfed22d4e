package dev.graft.cli;

import static org.assertj.core.api.Assertions.assertThat;

import dev.graft.io.Checkpoint;
import dev.graft.io.Progress;
import dev.graft.synth.SynthSpec;
import dev.graft.synth.SyntheticCheckpoints;
import dev.graft.tensor.DType;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Merging a family larger than the JVM heap works: three 52 MB models (156 MB of bf16) through a 64 MB heap. */
class MergeMemoryTest {
  @TempDir Path dir;

  /**
   * Writes a family of three 52 MB bf16 models (base, ft-1, ft-2) into {@code dir/fam} and a TIES recipe over it,
   * {@code dir/ties.yml}, which it returns.
   */
  static Path tiesOverAFamily(Path dir) throws IOException {
    SynthSpec spec = new SynthSpec(4000, 256, 24, 8, 4, 1024, false, DType.BF16, 20_000_000, 2, 4, 3);
    SyntheticCheckpoints.writeFamily(spec, dir.resolve("fam"), 2, Progress.NONE);
    Path recipe = dir.resolve("ties.yml");
    Files.writeString(recipe, """
        merge_method: ties
        base_model: fam/base
        models:
          - model: fam/ft-1
            parameters: {weight: 0.5, density: 0.5}
          - model: fam/ft-2
            parameters: {weight: 0.5, density: 0.5}
        dtype: bfloat16
        """);
    return recipe;
  }

  @Test
  void mergesAFamilyLargerThanTheHeap() throws IOException, InterruptedException {
    Path recipe = tiesOverAFamily(dir);
    long total = 0;
    for (String m : List.of("base", "ft-1", "ft-2")) {
      try (Checkpoint cp = Checkpoint.open(dir.resolve("fam").resolve(m))) {
        total += cp.byteSize();
      }
    }
    int heapMb = 64;
    assertThat(total).isGreaterThan(2L * heapMb << 20);
    Path out = dir.resolve("out");
    GraftProcess.Result r = GraftProcess.run(heapMb, List.of(), List.of("merge", "-q", recipe.toString(), "-o", out.toString(), "--backend", "djl",
        "--threads", "2", "--memory", "32MB", "--out-shard-size", "20MB"));
    assertThat(r.exit()).as(r.log()).isZero();
    try (Checkpoint o = Checkpoint.open(out); Checkpoint b = Checkpoint.open(dir.resolve("fam/base"))) {
      assertThat(o.tensors().keySet()).isEqualTo(b.tensors().keySet());
      assertThat(o.byteSize()).isEqualTo(b.byteSize());
      assertThat(o.files().size()).isGreaterThan(1);
    }
  }
}
