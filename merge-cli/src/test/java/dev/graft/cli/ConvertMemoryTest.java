package dev.graft.cli;

import static org.assertj.core.api.Assertions.assertThat;

import dev.graft.io.Checkpoint;
import dev.graft.io.DTypeCodec;
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

/** Converting a checkpoint larger than the JVM heap works: a 100 MB checkpoint through a 48 MB heap. */
class ConvertMemoryTest {
  @TempDir Path dir;

  @Test
  void convertsACheckpointLargerThanTheHeap() throws IOException, InterruptedException {
    // ~51 M parameters, 102 MB of bf16, with one 32 MB tensor (the embedding) and shards of 40 MB
    SynthSpec spec = new SynthSpec(16_000, 1024, 2, 8, 4, 2048, false, DType.BF16, 40_000_000, 0, 1, 5);
    Path in = dir.resolve("big");
    SyntheticCheckpoints.writeModel(spec, 0, in, 2, Progress.NONE);
    long inBytes;
    try (Checkpoint cp = Checkpoint.open(in)) {
      inBytes = cp.byteSize();
    }
    int heapMb = 48;
    assertThat(inBytes).isGreaterThan(2L * heapMb << 20);

    Path out = dir.resolve("out");
    GraftProcess.Result r = GraftProcess.run(heapMb, List.of("-XX:MaxDirectMemorySize=32m"),
        List.of("convert", "-q", in.toString(), "-o", out.toString(), "--dtype", "f16", "--shard-size", "30MB", "--threads", "2"));
    assertThat(r.exit()).as(r.log()).isZero();

    try (Checkpoint a = Checkpoint.open(in); Checkpoint b = Checkpoint.open(out)) {
      assertThat(b.files().size()).isGreaterThanOrEqualTo(4);
      assertThat(b.byteSize()).isEqualTo(inBytes);
      for (String name : List.of("model.embed_tokens.weight", "model.layers.1.mlp.down_proj.weight", "lm_head.weight")) {
        try (var ma = a.map(name, a.info(name).numel() - 1000, 1000); var mb = b.map(name, b.info(name).numel() - 1000, 1000)) {
          float[] x = ma.toFloatArray();
          float[] y = mb.toFloatArray();
          for (int i = 0; i < x.length; i++) {
            assertThat(y[i]).isEqualTo(DTypeCodec.roundTo(x[i], DType.F16));
          }
        }
      }
    }
    assertThat(Files.exists(out.resolve("config.json"))).isTrue();
  }
}
