package dev.graft.tensor;

import static org.assertj.core.api.Assertions.assertThat;

import dev.graft.backend.reference.ReferenceBackend;
import dev.graft.tensor.spi.Backend;
import org.junit.jupiter.api.Test;

/** The oracle itself, against values worked out by hand; then the shared suite. */
class ReferenceBackendTest extends BackendConformanceTest {
  @Override
  Backend backend() {
    return ReferenceBackend.INSTANCE;
  }

  @Test
  void handComputedValues() {
    try (TensorScope s = TensorScope.root("hand")) {
      Backend b = backend();
      Tensor x = b.fromFloats(s, new float[] {1, -2, 3, -4, 0, 6}, Shape.of(2, 3));
      assertThat(x.sum()).isEqualTo(4.0);
      assertThat(x.norm()).isEqualTo(Math.sqrt(1 + 4 + 9 + 16 + 36));
      assertThat(x.sumAbs()).isEqualTo(16.0);
      assertThat(x.countNonZero()).isEqualTo(5);
      assertThat(x.kthLargestAbs(1)).isEqualTo(6.0);
      assertThat(x.kthLargestAbs(2)).isEqualTo(4.0);
      assertThat(x.kthLargestAbs(6)).isEqualTo(0.0);
      assertThat(x.sign().toFloatArray()).containsExactly(1, -1, 1, -1, 0, 1);
      assertThat(x.transpose().toFloatArray()).containsExactly(1, -4, -2, 0, 3, 6);
      assertThat(x.take(1, new int[] {2, 0}).toFloatArray()).containsExactly(3, 1, 6, -4);
      assertThat(x.take(0, new int[] {1}).toFloatArray()).containsExactly(-4, 0, 6);
      Tensor y = b.fromFloats(s, new float[] {1, 0, 0, 1, 1, 1}, Shape.of(3, 2));
      assertThat(x.matmul(y).toFloatArray()).containsExactly(4, 1, 2, 6);
      assertThat(x.gt(0).where(x, x.neg()).toFloatArray()).containsExactly(1, 2, 3, 4, -0f, 6);
      assertThat(x.clampMin(0.5).toFloatArray()).containsExactly(1, 0.5f, 3, 0.5f, 0.5f, 6);
      assertThat(x.dot(x)).isEqualTo(66.0);
      assertThat(b.fromFloats(s, new float[] {1.00390625f}, Shape.of(1)).cast(DType.BF16).toFloatArray()).containsExactly(1f);
    }
  }
}
