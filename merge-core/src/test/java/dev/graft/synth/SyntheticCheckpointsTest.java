package dev.graft.synth;

import static org.assertj.core.api.Assertions.assertThat;

import dev.graft.io.Checkpoint;
import dev.graft.io.Progress;
import dev.graft.tensor.DType;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class SyntheticCheckpointsTest {
  @TempDir Path dir;

  private static final SynthSpec SPEC = new SynthSpec(300, 32, 2, 4, 2, 48, false, DType.F32, 30_000, 2, 3, 7);

  @Test
  void sameSpecGivesSameBytesWhateverTheThreadCount() throws IOException {
    SyntheticCheckpoints.writeFamily(SPEC, dir.resolve("a"), 1, Progress.NONE);
    SyntheticCheckpoints.writeFamily(SPEC, dir.resolve("b"), 3, Progress.NONE);
    for (String m : List.of("base", "ft-1", "ft-2")) {
      try (var files = Files.list(dir.resolve("a").resolve(m))) {
        for (Path f : files.toList()) {
          assertThat(Files.readAllBytes(dir.resolve("b").resolve(m).resolve(f.getFileName()))).as(m + "/" + f.getFileName()).isEqualTo(Files.readAllBytes(f));
        }
      }
    }
  }

  @Test
  void fineTunesAreBasePlusStructuredDeltas() {
    SyntheticCheckpoints.writeFamily(SPEC, dir, 2, Progress.NONE);
    try (Checkpoint base = Checkpoint.open(dir.resolve("base"));
        Checkpoint ft1 = Checkpoint.open(dir.resolve("ft-1"));
        Checkpoint ft2 = Checkpoint.open(dir.resolve("ft-2"))) {
      assertThat(base.tensors().keySet()).containsExactlyElementsOf(ft1.tensors().keySet());
      assertThat(base.tensors()).hasSize(2 + 9 * 2 + 1);
      assertThat(base.parameterCount()).isEqualTo(SPEC.parameterCount());
      assertThat(base.files().size()).isGreaterThan(1);
      assertThat(base.config().orElseThrow().integer("num_key_value_heads").getAsInt()).isEqualTo(2);

      String w = "model.layers.1.mlp.down_proj.weight"; // [32, 48]
      float[] b = base.readFloats(w);
      float[] d1 = delta(ft1.readFloats(w), b);
      float[] d2 = delta(ft2.readFloats(w), b);
      double std = std(b);
      assertThat(std).isBetween(0.018, 0.022); // base ~ N(0, 0.02)
      assertThat(std(d1)).isBetween(0.001, 0.02); // deltas small against the weights
      assertThat(Math.abs(corr(d1, d2))).isLessThan(0.2); // different fine-tunes, independent deltas
      // low rank: the delta matrix minus noise has most energy in `rank` directions; check via rows' span
      assertThat(topSingularShare(d1, 32, 48, SPEC.rank())).isGreaterThan(0.7);

      float[] norm = base.readFloats("model.norm.weight");
      assertThat(mean(norm)).isBetween(0.95, 1.05);
    }
  }

  private static float[] delta(float[] a, float[] b) {
    float[] d = new float[a.length];
    for (int i = 0; i < a.length; i++) {
      d[i] = a[i] - b[i];
    }
    return d;
  }

  private static double mean(float[] x) {
    double s = 0;
    for (float v : x) {
      s += v;
    }
    return s / x.length;
  }

  private static double std(float[] x) {
    double m = mean(x);
    double s = 0;
    for (float v : x) {
      s += (v - m) * (v - m);
    }
    return Math.sqrt(s / x.length);
  }

  private static double corr(float[] a, float[] b) {
    double ma = mean(a);
    double mb = mean(b);
    double s = 0;
    double sa = 0;
    double sb = 0;
    for (int i = 0; i < a.length; i++) {
      s += (a[i] - ma) * (b[i] - mb);
      sa += (a[i] - ma) * (a[i] - ma);
      sb += (b[i] - mb) * (b[i] - mb);
    }
    return s / Math.sqrt(sa * sb);
  }

  /** Share of squared Frobenius norm in the top-k singular values (power iteration with deflation on A^T A). */
  private static double topSingularShare(float[] a, int rows, int cols, int k) {
    double[][] g = new double[cols][cols];
    for (int i = 0; i < rows; i++) {
      for (int p = 0; p < cols; p++) {
        for (int q = 0; q < cols; q++) {
          g[p][q] += (double) a[i * cols + p] * a[i * cols + q];
        }
      }
    }
    double total = 0;
    for (int p = 0; p < cols; p++) {
      total += g[p][p];
    }
    double top = 0;
    java.util.Random r = new java.util.Random(1);
    for (int c = 0; c < k; c++) {
      double[] v = new double[cols];
      for (int p = 0; p < cols; p++) {
        v[p] = r.nextGaussian();
      }
      double lambda = 0;
      for (int it = 0; it < 300; it++) {
        double[] w = new double[cols];
        for (int p = 0; p < cols; p++) {
          for (int q = 0; q < cols; q++) {
            w[p] += g[p][q] * v[q];
          }
        }
        double n = 0;
        for (double x : w) {
          n += x * x;
        }
        n = Math.sqrt(n);
        lambda = n;
        for (int p = 0; p < cols; p++) {
          v[p] = w[p] / n;
        }
      }
      top += lambda;
      for (int p = 0; p < cols; p++) {
        for (int q = 0; q < cols; q++) {
          g[p][q] -= lambda * v[p] * v[q];
        }
      }
    }
    return top / total;
  }
}
