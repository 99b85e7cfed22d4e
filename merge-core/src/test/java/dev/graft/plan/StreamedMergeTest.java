package dev.graft.plan;

import static org.assertj.core.api.Assertions.assertThat;

import dev.graft.io.Checkpoint;
import dev.graft.io.Progress;
import dev.graft.op.Operators;
import dev.graft.recipe.Recipe;
import dev.graft.recipe.RecipeReader;
import dev.graft.tensor.DType;
import dev.graft.tensor.spi.Backend;
import java.nio.ByteBuffer;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * Tensors merged as streams (read a window at a time, written per window) have the same bytes as tensors merged whole
 * on the heap, for linear, SLERP, NuSLERP, Model Stock and every streamed configuration of the task-vector family:
 * top-k and band thresholds found over windows and blocks (bf16 task vectors tie a lot at the threshold), Bernoulli
 * masks drawn by position, L1 sums, norms and Gram matrices in the same order, row-wise masks and DELLA's draws made per
 * window of whole rows (also rows longer than a window).
 */
class StreamedMergeTest {
  @TempDir static Path work;

  @BeforeAll
  static void family() {
    // a 4000 × 64 embedding and LM head (256 K entries: several parallel blocks, two windows each); bf16
    MergeFixtures.family(work.resolve("family"), MergeFixtures.spec(DType.BF16, false, 3, 4000, 64));
  }

  @AfterEach
  void restore() {
    MergeExecutor.streamMin = 0;
  }

  @ParameterizedTest
  @ValueSource(strings = {
      "ties|",
      "ties|trim_scope: model",
      "ties|aggregation: mean",
      "dare_ties|",
      "dare_ties|rescale: inverse_density",
      "dare_linear|",
      "breadcrumbs|",
      "breadcrumbs_ties|",
      "task_arithmetic|lambda: 0.8",
      "linear|",
      "linear|normalize: false",
      "ties|trim_scope: row",
      "breadcrumbs|mask_scope: row",
      "breadcrumbs_ties|mask_scope: row, rescale: inverse_density",
      "della|",
      "della|rescale: none",
      "della_linear|",
      "della|rescale: l1",
      "model_stock|",
      "model_stock|filter_wise: true",
      "ties|trim_scope: row, rescale: l1"})
  void streamedTensorsHaveTheBytesOfWholeOnes(String c) {
    String[] mp = c.split("\\|", -1);
    String method = mp[0];
    java.util.function.IntFunction<String> extra = i -> method.equals("model_stock") ? "" : "weight: " + new double[] {1.0, 0.6, -0.4}[i]
        + (method.equals("task_arithmetic") || method.equals("linear") ? "" : ", density: " + new double[] {0.5, 0.3, 0.7}[i])
        + (method.startsWith("breadcrumbs") ? ", gamma: " + new double[] {0.02, 0.01, 0.05}[i] : "")
        + (method.startsWith("della") ? ", epsilon: 0.1" : "");
    String yaml = """
        merge_method: %s
        base_model: family/base
        models:
          - model: family/ft-1
            parameters: {%s}
          - model: family/ft-2
            parameters: {%s}
          - model: family/ft-3
            parameters: {%s}
        parameters: {%s}
        dtype: float32
        out_dtype: float32
        """.formatted(method, extra.apply(0), extra.apply(1), extra.apply(2), mp[1]);
    MergeExecutor.Result streamed = bothWays(yaml, "task-" + c.hashCode());
    if (mp[1].contains("l1") && (method.startsWith("della") || mp[1].contains("row"))) {
      assertThat(streamed.streamed()).as("row-wise masks with L1 sums over the whole tensor: never streamed").isZero();
    } else {
      assertThat(streamed.streamed()).as("tensors streamed").isEqualTo(streamed.tensors());
    }
  }

  /** SLERP: norms and dot product summed over windows in the reference backend's order, then the combination. */
  @org.junit.jupiter.api.Test
  void slerpStreamsWithTheBytesOfWholeTensors() {
    String yaml = """
        merge_method: slerp
        base_model: family/base
        models:
          - model: family/base
          - model: family/ft-2
        parameters: {t: [0.1, 0.9]}
        dtype: float32
        out_dtype: float32
        """;
    MergeExecutor.Result streamed = bothWays(yaml, "slerp");
    assertThat(streamed.streamed()).isEqualTo(streamed.tensors());
  }

  /** NuSLERP: flattened (norms in a first pass), per row, per column (sums in row order), with and without a base. */
  @ParameterizedTest
  @ValueSource(strings = {
      "base_model: family/base|",
      "|",
      "base_model: family/base|nuslerp_flatten: false, nuslerp_row_wise: true",
      "base_model: family/base|nuslerp_flatten: false",
      "|nuslerp_flatten: false"})
  void nuslerpStreamsWithTheBytesOfWholeTensors(String c) {
    String[] bp = c.split("\\|", -1);
    String yaml = """
        merge_method: nuslerp
        %s
        models:
          - model: family/ft-1
            parameters: {weight: 0.3}
          - model: family/ft-2
            parameters: {weight: 0.7}
        parameters: {%s}
        dtype: float32
        out_dtype: float32
        """.formatted(bp[0], bp[1]);
    MergeExecutor.Result streamed = bothWays(yaml, "nu-" + c.hashCode());
    assertThat(streamed.streamed()).isEqualTo(streamed.tensors());
  }

  @ParameterizedTest
  @ValueSource(strings = {"ties|trim_scope: row", "della|", "breadcrumbs|", "ties|"})
  void rowsLongerThanAWindowStream(String c) throws java.io.IOException {
    String[] mp = c.split("\\|", -1);
    Path dir = work.resolve("long");
    if (!java.nio.file.Files.exists(dir.resolve("ft-3"))) {
      int rows = 3;
      int cols = 40_000; // more than one window (32 K entries)
      java.util.Random rnd = new java.util.Random(3);
      float[] base = new float[rows * cols];
      for (int i = 0; i < base.length; i++) {
        base[i] = (float) rnd.nextGaussian();
      }
      for (String name : List.of("base", "ft-1", "ft-2", "ft-3")) {
        float[] v = base.clone();
        if (!name.equals("base")) {
          for (int i = 0; i < v.length; i++) {
            v[i] += (float) (0.01 * Math.round(rnd.nextGaussian() * 8)); // coarse deltas: many ties
          }
        }
        var es = List.of(new dev.graft.io.SafetensorsWriter.Entry("w", DType.F32, dev.graft.tensor.Shape.of(rows, cols)));
        java.nio.file.Files.createDirectories(dir.resolve(name));
        try (var w = dev.graft.io.SafetensorsWriter.createFile(dir.resolve(name + "/model.safetensors"), es, java.util.Map.of())) {
          w.writeFloats("w", 0, v, 0, v.length);
          w.finish();
        }
      }
    }
    String extra = mp[0].startsWith("breadcrumbs") ? ", gamma: 0.02" : mp[0].equals("della") ? ", epsilon: 0.1" : "";
    String yaml = """
        merge_method: %s
        base_model: long/base
        models:
          - model: long/ft-1
            parameters: {weight: 1.0, density: 0.4%s}
          - model: long/ft-2
            parameters: {weight: 0.5, density: 0.6%s}
          - model: long/ft-3
            parameters: {weight: 0.8, density: 0.3%s}
        parameters: {%s}
        """.formatted(mp[0], extra, extra, extra, mp[1]);
    assertThat(bothWays(yaml, "long-" + c.hashCode()).streamed()).isEqualTo(1);
  }

  /**
   * Merges {@code yaml} with streaming on and off; checks that the second streamed nothing and that both wrote the same
   * tensors with the same bytes; returns the streamed run's result.
   */
  private static MergeExecutor.Result bothWays(String yaml, String tag) {
    MergeExecutor.streamMin = 0;
    MergeExecutor.Result streamed = merge(yaml, work.resolve(tag + "-streamed"));
    MergeExecutor.streamMin = Long.MAX_VALUE;
    MergeExecutor.Result whole = merge(yaml, work.resolve(tag + "-whole"));
    assertThat(whole.streamed()).isZero();
    try (Checkpoint a = Checkpoint.open(work.resolve(tag + "-streamed")); Checkpoint b = Checkpoint.open(work.resolve(tag + "-whole"))) {
      assertThat(a.tensors().keySet()).isEqualTo(b.tensors().keySet());
      for (String name : a.tensors().keySet()) {
        assertThat(bytes(a, name)).as(tag + " " + name).isEqualTo(bytes(b, name));
      }
    }
    return streamed;
  }

  private static MergeExecutor.Result merge(String yaml, Path out) {
    List<Recipe> rs = RecipeReader.parse(yaml, "test.yml");
    List<MergePlan> ps = MergeRunner.prepare(rs, MergeFixtures.resolver(work), Operators.builtIn());
    Backend be = dev.graft.backend.reference.ReferenceBackend.INSTANCE;
    return MergeRunner.run(ps, rs, out, new MergeExecutor.Options(be, 5, 1L << 30, 2, 1L << 30), (i, n, p) -> Progress.NONE);
  }

  private static ByteBuffer bytes(Checkpoint cp, String name) {
    try (var m = cp.map(name)) {
      ByteBuffer copy = ByteBuffer.allocate((int) m.segment().byteSize());
      copy.put(m.segment().asByteBuffer());
      return copy.flip();
    }
  }
}
