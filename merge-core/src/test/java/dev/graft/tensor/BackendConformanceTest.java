package dev.graft.tensor;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.graft.backend.reference.ReferenceBackend;
import dev.graft.tensor.spi.Backend;
import java.util.SplittableRandom;
import java.util.function.BiFunction;
import java.util.function.Function;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * One conformance suite, subclassed once per backend: every operation is checked against the reference backend
 * on random data with special values, with tolerances per kind of operation.
 */
abstract class BackendConformanceTest {
  /** Exact operations: same bits expected (up to NaN payloads). */
  static final double EXACT = 0;
  /** Correctly rounded f32 operations computed by another library: one ulp. */
  static final double ULP_RTOL = 2e-7;
  /** f32 matmul accumulated in float by the engine, in double by the reference. */
  static final double MATMUL_RTOL = 1e-4;
  /** Reductions in double on both sides, summed in different orders. */
  static final double REDUCE_RTOL = 1e-9;

  abstract Backend backend();

  private final Backend ref = ReferenceBackend.INSTANCE;
  private TensorScope scope;
  private SplittableRandom rnd;

  @BeforeEach
  void open() {
    scope = TensorScope.root(getClass().getSimpleName());
    rnd = new SplittableRandom(42);
  }

  @AfterEach
  void noLeaks() {
    scope.close();
    assertThat(scope.liveCountDeep()).isZero();
  }

  private float[] data(int n, boolean special) {
    float[] d = new float[n];
    for (int i = 0; i < n; i++) {
      d[i] = (float) (rnd.nextGaussian() * 2);
    }
    if (special && n > 6) {
      d[0] = 0f;
      d[1] = -0f;
      d[2] = 1e-40f; // subnormal
      d[3] = -3.5f;
      d[4] = 3.5f;
      d[5] = 65519f;
    }
    return d;
  }

  private static final Shape[] SHAPES = {Shape.of(new long[0]), Shape.of(1), Shape.of(17), Shape.of(6, 9), Shape.of(3, 4, 5), Shape.of(70_000)};

  private void assertClose(float[] expected, float[] actual, double rtol, String what) {
    assertThat(actual).as(what + ": length").hasSize(expected.length);
    for (int i = 0; i < expected.length; i++) {
      float e = expected[i];
      float a = actual[i];
      if (Float.isNaN(e)) {
        assertThat(a).as("%s[%d]", what, i).isNaN();
      } else if (rtol == EXACT || Float.isInfinite(e)) {
        assertThat(a).as("%s[%d]", what, i).isEqualTo(e);
      } else {
        assertThat((double) a).as("%s[%d]", what, i).isCloseTo(e, org.assertj.core.data.Offset.offset(Math.abs(e) * rtol + 1e-30));
      }
    }
  }

  private void unary(String name, double rtol, Function<Tensor, Tensor> f) {
    for (Shape s : SHAPES) {
      float[] d = data(s.numelInt(), true);
      try (TensorScope sc = scope.child(name)) {
        Tensor a = backend().fromFloats(sc, d, s);
        Tensor r = f.apply(a);
        Tensor e = f.apply(ref.fromFloats(sc, d, s));
        assertThat(r.shape()).isEqualTo(e.shape());
        assertClose(e.toFloatArray(), r.toFloatArray(), rtol, name + " " + s);
      }
    }
  }

  private void binary(String name, double rtol, BiFunction<Tensor, Tensor, Tensor> f) {
    for (Shape s : SHAPES) {
      float[] x = data(s.numelInt(), true);
      float[] y = data(s.numelInt(), false);
      if (y.length > 3) {
        y[3] = x[3]; // an equal pair for eq/gt
      }
      try (TensorScope sc = scope.child(name)) {
        Tensor r = f.apply(backend().fromFloats(sc, x, s), backend().fromFloats(sc, y, s));
        Tensor e = f.apply(ref.fromFloats(sc, x, s), ref.fromFloats(sc, y, s));
        assertClose(e.toFloatArray(), r.toFloatArray(), rtol, name + " " + s);
      }
    }
  }

  private void reduction(String name, Function<Tensor, Double> f) {
    for (Shape s : SHAPES) {
      float[] d = data(s.numelInt(), true);
      try (TensorScope sc = scope.child(name)) {
        double r = f.apply(backend().fromFloats(sc, d, s));
        double e = f.apply(ref.fromFloats(sc, d, s));
        assertThat(r).as(name + " " + s).isCloseTo(e, org.assertj.core.data.Offset.offset(Math.abs(e) * REDUCE_RTOL + 1e-12));
      }
    }
  }

  @Test
  void roundTripsValues() {
    unary("identity", EXACT, t -> t);
  }

  @Test
  void arithmetic() {
    binary("add", EXACT, Tensor::add);
    binary("sub", EXACT, Tensor::sub);
    binary("mul", EXACT, Tensor::mul);
    binary("div", ULP_RTOL, Tensor::div);
    binary("maximum", EXACT, Tensor::maximum);
    unary("add scalar", EXACT, t -> t.add(0.25));
    unary("mul scalar", EXACT, t -> t.mul(-1.5));
    unary("abs", EXACT, Tensor::abs);
    unary("sign", EXACT, Tensor::sign);
    unary("neg", EXACT, Tensor::neg);
    unary("sqrt", ULP_RTOL, t -> t.abs().sqrt());
    unary("square", EXACT, Tensor::square);
    unary("clampMin", EXACT, t -> t.clampMin(0.5));
  }

  @Test
  void masks() {
    unary("gt", EXACT, t -> t.gt(0.1));
    unary("ge", EXACT, t -> t.ge(3.5));
    unary("lt", EXACT, t -> t.lt(-0.0));
    binary("gt tensor", EXACT, Tensor::gt);
    binary("eq tensor", EXACT, Tensor::eq);
    binary("where", EXACT, (a, b) -> a.gt(0.5).where(a, b));
    unary("where with inf in the other branch", EXACT, t -> t.gt(0).where(t, t.div(t.mul(0))));
  }

  @Test
  void subnormalsAreNotFlushed() {
    try (TensorScope sc = scope.child("subnormal")) {
      Tensor t = backend().fromFloats(sc, new float[] {1e-40f, -1e-40f}, Shape.of(2));
      assertThat(t.gt(0).toFloatArray()).containsExactly(1f, 0f);
      assertThat(t.abs().sum()).isGreaterThan(0.0);
    }
  }

  @Test
  void reductions() {
    reduction("sum", Tensor::sum);
    reduction("mean", Tensor::mean);
    reduction("norm", Tensor::norm);
    reduction("sumAbs", Tensor::sumAbs);
    reduction("dot", t -> t.dot(t.mul(0.5)));
    reduction("countNonZero", t -> (double) t.countNonZero());
    reduction("kthLargestAbs 1", t -> t.kthLargestAbs(1));
    reduction("kthLargestAbs last", t -> t.kthLargestAbs(t.shape().numel()));
    reduction("kthLargestAbs middle", t -> t.kthLargestAbs((t.shape().numel() + 1) / 2));
  }

  @Test
  void sumIsAccurateWhereFloatAccumulationIsNot() {
    // 2^24 + many ones: a float32 accumulator stops at 2^24; double precision does not
    float[] d = new float[3_000_000];
    java.util.Arrays.fill(d, 1f);
    try (TensorScope sc = scope.child("sum")) {
      assertThat(backend().fromFloats(sc, d, Shape.of(d.length)).sum()).isEqualTo(3_000_000.0);
    }
  }

  @Test
  void layout() {
    unary("take axis 0 (permutation)", EXACT, t -> t.shape().rank() >= 1 ? t.take(0, reverse((int) t.shape().dim(0))) : t);
    unary("take last axis (gather with repeats)", EXACT, t -> t.shape().rank() >= 2 ? t.take(t.shape().rank() - 1, new int[] {1, 0, 1}) : t);
    unary("take middle axis", EXACT, t -> t.shape().rank() == 3 ? t.take(1, new int[] {3, 1}) : t);
    unary("transpose", EXACT, t -> t.shape().rank() == 2 ? t.transpose() : t);
    unary("reshape", EXACT, t -> t.reshape(Shape.of(t.shape().numel())));
    for (int[] mkn : new int[][] {{1, 1, 1}, {5, 7, 3}, {64, 130, 33}}) {
      float[] a = data(mkn[0] * mkn[1], false);
      float[] b = data(mkn[1] * mkn[2], false);
      try (TensorScope sc = scope.child("matmul")) {
        Tensor r = backend().fromFloats(sc, a, Shape.of(mkn[0], mkn[1])).matmul(backend().fromFloats(sc, b, Shape.of(mkn[1], mkn[2])));
        Tensor e = ref.fromFloats(sc, a, Shape.of(mkn[0], mkn[1])).matmul(ref.fromFloats(sc, b, Shape.of(mkn[1], mkn[2])));
        assertThat(r.shape()).isEqualTo(Shape.of(mkn[0], mkn[2]));
        float[] rv = r.toFloatArray();
        float[] ev = e.toFloatArray();
        for (int i = 0; i < ev.length; i++) {
          assertThat((double) rv[i]).isCloseTo(ev[i], org.assertj.core.data.Offset.offset(Math.abs(ev[i]) * MATMUL_RTOL + 1e-4));
        }
      }
    }
  }

  private static int[] reverse(int n) {
    int[] p = new int[n];
    for (int i = 0; i < n; i++) {
      p[i] = n - 1 - i;
    }
    return p;
  }

  @Test
  void castRoundsLikeTheJavaCodec() {
    for (DType d : new DType[] {DType.F32, DType.F16, DType.BF16, DType.F8_E4M3, DType.F8_E5M2}) {
      unary("cast " + d, EXACT, t -> t.mul(d == DType.F8_E4M3 ? 10 : 1000).cast(d));
    }
  }

  @Test
  void bernoulliMasksAreIdenticalAcrossBackends() {
    try (TensorScope sc = scope.child("bernoulli")) {
      Tensor m = backend().bernoulli(sc, Shape.of(100, 100), 0.3, 1234);
      Tensor e = ref.bernoulli(sc, Shape.of(100, 100), 0.3, 1234);
      assertClose(e.toFloatArray(), m.toFloatArray(), EXACT, "bernoulli");
      assertThat(m.sum()).isBetween(2800.0, 3200.0);
      Tensor other = backend().bernoulli(sc, Shape.of(100, 100), 0.3, 1235);
      assertThat(other.eq(m).sum()).isLessThan(10_000.0);
    }
  }

  @Test
  void deviceTransferToCpuCopies() {
    try (TensorScope sc = scope.child("to")) {
      Tensor a = backend().fromFloats(sc, new float[] {1, 2, 3}, Shape.of(3));
      Tensor b = a.to(Device.CPU);
      a.close();
      assertThat(b.toFloatArray()).containsExactly(1, 2, 3);
      assertThat(b.device()).isEqualTo(Device.CPU);
    }
  }

  @Test
  void misuseGivesClearErrors() {
    try (TensorScope sc = scope.child("misuse")) {
      Tensor a = backend().fromFloats(sc, new float[6], Shape.of(2, 3));
      Tensor b = backend().fromFloats(sc, new float[6], Shape.of(3, 2));
      assertThatThrownBy(() -> a.add(b)).isInstanceOf(IllegalArgumentException.class).hasMessageContaining("[2, 3] and [3, 2]");
      assertThatThrownBy(() -> a.matmul(a)).isInstanceOf(IllegalArgumentException.class).hasMessageContaining("do not chain");
      assertThatThrownBy(() -> a.take(1, new int[] {3})).hasMessageContaining("out of range");
      assertThatThrownBy(() -> a.kthLargestAbs(0)).hasMessageContaining("k must be in [1, 6]");
      Tensor r = ref.fromFloats(sc, new float[6], Shape.of(2, 3));
      if (!backend().name().equals("reference")) {
        assertThatThrownBy(() -> a.add(r)).hasMessageContaining("different backends");
      }
      a.close();
      assertThatThrownBy(a::abs).isInstanceOf(IllegalStateException.class).hasMessageContaining("used after close");
    }
  }

  @Test
  void scopesOwnResultsAndMoveThem() {
    Tensor kept;
    try (TensorScope outer = scope.child("outer")) {
      try (TensorScope inner = outer.child("inner")) {
        Tensor a = backend().fromFloats(inner, new float[] {1, -2}, Shape.of(2));
        kept = a.abs().mul(2).moveTo(outer);
        assertThat(inner.liveCount()).isEqualTo(2);
      }
      assertThat(kept.isClosed()).isFalse();
      assertThat(kept.toFloatArray()).containsExactly(2, 4);
      TensorScope sealed = outer.child("sealed");
      sealed.seal();
      assertThatThrownBy(() -> backend().fromFloats(sealed, new float[1], Shape.of(1))).hasMessageContaining("sealed");
    }
    assertThat(kept.isClosed()).isTrue();
  }
}
