package dev.graft.op;

import static org.assertj.core.api.Assertions.assertThat;

import dev.graft.tensor.Backends;
import dev.graft.tensor.Device;
import dev.graft.tensor.Shape;
import dev.graft.tensor.Tensor;
import dev.graft.tensor.TensorScope;
import dev.graft.tensor.spi.Backend;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;
import java.util.function.Function;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * Every operator on every backend against the double-precision formulas of {@link Oracle}: float32 compute may differ
 * from the oracle by float rounding only.
 */
class OperatorGoldenTest {
  static final Operators OPS = Operators.builtIn();
  static final int ROWS = 24;
  static final int COLS = 40;
  static final Shape SHAPE = Shape.of(ROWS, COLS);
  static final long SEED = 1234;
  static final Map<String, Backend> BACKENDS = new HashMap<>();

  @BeforeAll
  static void open() {
    for (String b : List.of("reference", "djl", "nd4j")) {
      BACKENDS.put(b, Backends.create(b, Device.CPU));
    }
  }

  @AfterAll
  static void close() {
    BACKENDS.values().forEach(Backend::close);
  }

  /** Base plus three fine-tunes: base + a dense delta with a few large outliers. */
  static float[][] inputs(long seed, int models) {
    SplittableRandom r = new SplittableRandom(seed);
    float[][] x = new float[models + 1][ROWS * COLS];
    for (int j = 0; j < ROWS * COLS; j++) {
      x[0][j] = (float) r.nextGaussian();
    }
    for (int i = 1; i <= models; i++) {
      for (int j = 0; j < ROWS * COLS; j++) {
        double d = 0.05 * r.nextGaussian() + (r.nextInt(50) == 0 ? r.nextGaussian() : 0);
        x[i][j] = (float) (x[0][j] + d);
      }
    }
    return x;
  }

  static double[] dbl(float[] a) {
    double[] d = new double[a.length];
    for (int i = 0; i < a.length; i++) {
      d[i] = a[i];
    }
    return d;
  }

  /** Resolved parameters: the spec's defaults, overridden; the planner's Fisher norm passes through. */
  static Params params(OperatorSpec spec, ParamSpec.Scope scope, Map<String, Object> over) {
    Params p = Params.withDefaults(spec, scope, over);
    return over.containsKey(FisherMerge.NORM) && scope == ParamSpec.Scope.PER_MODEL ? p.with(FisherMerge.NORM, over.get(FisherMerge.NORM)) : p;
  }

  /** Runs an operator on a backend: base (or null), models, per-model overrides, global overrides. */
  static float[] run(String backend, String op, float[] base, List<float[]> models, List<Map<String, Object>> perModel,
      Map<String, Object> global, List<float[]> fishers) {
    Backend be = BACKENDS.get(backend);
    MergeOperator o = OPS.get(op);
    try (TensorScope scope = TensorScope.root("test")) {
      Tensor b = base == null ? null : be.fromFloats(scope, base, SHAPE);
      List<Tensor> ms = new ArrayList<>();
      List<Params> ps = new ArrayList<>();
      for (int i = 0; i < models.size(); i++) {
        ms.add(models.get(i) == base ? b : be.fromFloats(scope, models.get(i), SHAPE));
        ps.add(params(o.spec(), ParamSpec.Scope.PER_MODEL, perModel.get(i)));
      }
      List<Tensor> fs = fishers.stream().map(f -> be.fromFloats(scope, f, SHAPE)).toList();
      Tensor out = o.merge(new MergeInputs("model.layers.0.mlp.up_proj.weight", b, ms, ps, params(o.spec(), ParamSpec.Scope.GLOBAL, global), fs, SEED, be, scope));
      float[] r = out.toFloatArray();
      assertThat(out.shape()).isEqualTo(SHAPE);
      scope.close();
      assertThat(scope.liveCountDeep()).isZero();
      return r;
    }
  }

  static void assertClose(float[] actual, double[] expected, String what) {
    assertThat(actual).hasSize(expected.length);
    int bad = 0;
    String first = null;
    for (int i = 0; i < expected.length; i++) {
      double tol = 2e-5 + 2e-5 * Math.abs(expected[i]);
      if (!(Math.abs(actual[i] - expected[i]) <= tol)) {
        bad++;
        if (first == null) {
          first = "index " + i + ": " + actual[i] + " vs " + expected[i];
        }
      }
    }
    assertThat(bad).as(what + " mismatches (first: " + first + ")").isZero();
  }

  static List<Map<String, Object>> per(Map<String, Object>... ms) {
    return List.of(ms);
  }

  @ParameterizedTest
  @ValueSource(strings = {"reference", "djl", "nd4j"})
  void linear(String backend) {
    float[][] x = inputs(1, 3);
    float[] r = run(backend, "linear", null, List.of(x[1], x[2], x[3]), per(Map.of("weight", 0.5), Map.of("weight", 0.3), Map.of("weight", 0.2)),
        Map.of(), List.of());
    assertClose(r, Oracle.linear(new double[][] {dbl(x[1]), dbl(x[2]), dbl(x[3])}, new double[] {0.5, 0.3, 0.2}, true), "linear");
  }

  @ParameterizedTest
  @ValueSource(strings = {"reference", "djl", "nd4j"})
  void taskArithmetic(String backend) {
    float[][] x = inputs(2, 3);
    double[] w = {0.7, -0.2, 0.4};
    float[] r = run(backend, "task_arithmetic", x[0], List.of(x[1], x[2], x[3]), per(Map.of("weight", w[0]), Map.of("weight", w[1]), Map.of("weight", w[2])),
        Map.of("lambda", 0.8), List.of());
    double[][] d = deltas(x);
    assertClose(r, Oracle.combine(dbl(x[0]), d, w, false, false, 0.8), "task_arithmetic");
  }

  static double[][] deltas(float[][] x) {
    double[][] d = new double[x.length - 1][];
    for (int i = 1; i < x.length; i++) {
      d[i - 1] = Oracle.sub(dbl(x[i]), dbl(x[0]));
    }
    return d;
  }

  @ParameterizedTest
  @ValueSource(strings = {"reference", "djl", "nd4j"})
  void ties(String backend) {
    float[][] x = inputs(3, 3);
    double[] w = {1.0, 0.6, 0.8};
    double[] dens = {0.5, 0.3, 0.7};
    float[] r = run(backend, "ties", x[0], List.of(x[1], x[2], x[3]),
        per(Map.of("weight", w[0], "density", dens[0]), Map.of("weight", w[1], "density", dens[1]), Map.of("weight", w[2], "density", dens[2])),
        Map.of(), List.of());
    double[][] d = deltas(x);
    for (int i = 0; i < 3; i++) {
      d[i] = Oracle.magnitude(d[i], dens[i], d[i].length);
    }
    assertClose(r, Oracle.combine(dbl(x[0]), d, w, true, true, 1.0), "ties");
    // per-row trim
    float[] rr = run(backend, "ties", x[0], List.of(x[1], x[2], x[3]),
        per(Map.of("weight", w[0], "density", dens[0]), Map.of("weight", w[1], "density", dens[1]), Map.of("weight", w[2], "density", dens[2])),
        Map.of("trim_scope", "row"), List.of());
    double[][] dr = deltas(x);
    for (int i = 0; i < 3; i++) {
      dr[i] = Oracle.magnitude(dr[i], dens[i], COLS);
    }
    assertClose(rr, Oracle.combine(dbl(x[0]), dr, w, true, true, 1.0), "ties per row");
  }

  @ParameterizedTest
  @ValueSource(strings = {"reference", "djl", "nd4j"})
  void dare(String backend) {
    float[][] x = inputs(4, 2);
    double[] w = {0.6, 0.9};
    double dens = 0.4;
    long[] seeds = {dev.graft.tensor.spi.SeededMasks.mix(SEED, 0), dev.graft.tensor.spi.SeededMasks.mix(SEED, 1)};
    double[][] d = deltas(x);
    double[][] kept = new double[2][];
    for (int i = 0; i < 2; i++) {
      kept[i] = Oracle.l1Rescale(d[i], Oracle.bernoulli(d[i], dens, seeds[i]));
    }
    List<Map<String, Object>> pm = per(Map.of("weight", w[0], "density", dens), Map.of("weight", w[1], "density", dens));
    assertClose(run(backend, "dare_ties", x[0], List.of(x[1], x[2]), pm, Map.of(), List.of()),
        Oracle.combine(dbl(x[0]), kept, w, true, false, 1.0), "dare_ties");
    assertClose(run(backend, "dare_linear", x[0], List.of(x[1], x[2]), pm, Map.of(), List.of()),
        Oracle.combine(dbl(x[0]), kept, w, false, false, 1.0), "dare_linear");
    // the paper's 1/density rescale
    double[][] inv = new double[2][];
    for (int i = 0; i < 2; i++) {
      inv[i] = java.util.Arrays.stream(Oracle.bernoulli(d[i], dens, seeds[i])).map(v -> v / dens).toArray();
    }
    assertClose(run(backend, "dare_linear", x[0], List.of(x[1], x[2]), pm, Map.of("rescale", "inverse_density"), List.of()),
        Oracle.combine(dbl(x[0]), inv, w, false, false, 1.0), "dare_linear inverse_density");
  }

  @ParameterizedTest
  @ValueSource(strings = {"reference", "djl", "nd4j"})
  void breadcrumbs(String backend) {
    float[][] x = inputs(5, 2);
    double[] w = {1.0, 0.5};
    List<Map<String, Object>> pm = per(Map.of("weight", w[0], "density", 0.6, "gamma", 0.05), Map.of("weight", w[1], "density", 0.3, "gamma", 0.1));
    double[][] d = deltas(x);
    double[][] t = {Oracle.outliers(d[0], 0.6, 0.05, d[0].length), Oracle.outliers(d[1], 0.3, 0.1, d[1].length)};
    assertClose(run(backend, "breadcrumbs", x[0], List.of(x[1], x[2]), pm, Map.of(), List.of()),
        Oracle.combine(dbl(x[0]), t, w, false, false, 1.0), "breadcrumbs");
    assertClose(run(backend, "breadcrumbs_ties", x[0], List.of(x[1], x[2]), pm, Map.of(), List.of()),
        Oracle.combine(dbl(x[0]), t, w, true, false, 1.0), "breadcrumbs_ties");
    double[][] tr = {Oracle.outliers(d[0], 0.6, 0.05, COLS), Oracle.outliers(d[1], 0.3, 0.1, COLS)};
    assertClose(run(backend, "breadcrumbs", x[0], List.of(x[1], x[2]), pm, Map.of("mask_scope", "row"), List.of()),
        Oracle.combine(dbl(x[0]), tr, w, false, false, 1.0), "breadcrumbs per row");
    // gamma·n rounds to 0: the top band is kept (mergekit would zero the whole task vector)
    List<Map<String, Object>> tiny = per(Map.of("weight", 1.0, "density", 0.5, "gamma", 0.0001), Map.of("weight", 1.0, "density", 0.5, "gamma", 0.0));
    double[][] tz = {Oracle.outliers(d[0], 0.5, 0.0001, d[0].length), Oracle.outliers(d[1], 0.5, 0.0, d[1].length)};
    assertThat(java.util.Arrays.stream(tz[0]).filter(v -> v != 0).count()).isEqualTo(ROWS * COLS / 2);
    assertClose(run(backend, "breadcrumbs", x[0], List.of(x[1], x[2]), tiny, Map.of(), List.of()),
        Oracle.combine(dbl(x[0]), tz, new double[] {1, 1}, false, false, 1.0), "breadcrumbs gamma 0");
  }

  @ParameterizedTest
  @ValueSource(strings = {"reference", "djl", "nd4j"})
  void della(String backend) {
    float[][] x = inputs(6, 2);
    double[] w = {0.7, 0.5};
    List<Map<String, Object>> pm = per(Map.of("weight", w[0], "density", 0.5, "epsilon", 0.2), Map.of("weight", w[1], "density", 0.4, "epsilon", 0.1));
    double[][] d = deltas(x);
    double[][] t = {Oracle.della(d[0], 0.5, 0.2, dev.graft.tensor.spi.SeededMasks.mix(SEED, 0), COLS),
        Oracle.della(d[1], 0.4, 0.1, dev.graft.tensor.spi.SeededMasks.mix(SEED, 1), COLS)};
    assertClose(run(backend, "della", x[0], List.of(x[1], x[2]), pm, Map.of(), List.of()),
        Oracle.combine(dbl(x[0]), t, w, true, true, 1.0), "della");
    assertClose(run(backend, "della_linear", x[0], List.of(x[1], x[2]), pm, Map.of(), List.of()),
        Oracle.combine(dbl(x[0]), t, w, false, false, 1.0), "della_linear");
  }

  @ParameterizedTest
  @ValueSource(strings = {"reference", "djl", "nd4j"})
  void slerp(String backend) {
    float[][] x = inputs(7, 1);
    SplittableRandom r = new SplittableRandom(9);
    float[] other = new float[x[0].length];
    for (int i = 0; i < other.length; i++) {
      other[i] = (float) r.nextGaussian();
    }
    for (double t : new double[] {0, 0.3, 1}) {
      assertClose(run(backend, "slerp", x[0], List.of(x[0], other), per(Map.of(), Map.of()), Map.of("t", t), List.of()),
          Oracle.slerp(t, dbl(x[0]), dbl(other)), "slerp t=" + t);
    }
    // nearly parallel: linear interpolation
    assertClose(run(backend, "slerp", x[0], List.of(x[0], x[1]), per(Map.of(), Map.of()), Map.of("t", 0.4), List.of()),
        Oracle.slerp(0.4, dbl(x[0]), dbl(x[1])), "slerp parallel");
  }

  @ParameterizedTest
  @ValueSource(strings = {"reference", "djl", "nd4j"})
  void nuslerp(String backend) {
    float[][] x = inputs(8, 2);
    double[][] d = deltas(x);
    double t = 0.75 / (0.25 + 0.75);
    double[] s = Oracle.slerp(t, d[0], d[1]);
    double[] expected = new double[s.length];
    for (int i = 0; i < s.length; i++) {
      expected[i] = s[i] + x[0][i];
    }
    assertClose(run(backend, "nuslerp", x[0], List.of(x[1], x[2]), per(Map.of("weight", 0.25), Map.of("weight", 0.75)), Map.of(), List.of()),
        expected, "nuslerp with base");
    // row-wise, no base
    float[] rr = run(backend, "nuslerp", null, List.of(x[1], x[2]), per(Map.of("weight", 1.0), Map.of("weight", 1.0)),
        Map.of("nuslerp_flatten", false, "nuslerp_row_wise", true), List.of());
    double[] er = new double[x[1].length];
    for (int row = 0; row < ROWS; row++) {
      double[] a = java.util.Arrays.copyOfRange(dbl(x[1]), row * COLS, (row + 1) * COLS);
      double[] b = java.util.Arrays.copyOfRange(dbl(x[2]), row * COLS, (row + 1) * COLS);
      System.arraycopy(Oracle.slerp(0.5, a, b), 0, er, row * COLS, COLS);
    }
    assertClose(rr, er, "nuslerp row-wise");
  }

  @ParameterizedTest
  @ValueSource(strings = {"reference", "djl", "nd4j"})
  void modelStock(String backend) {
    float[][] x = inputs(9, 3);
    assertClose(run(backend, "model_stock", x[0], List.of(x[1], x[2], x[3]), per(Map.of(), Map.of(), Map.of()), Map.of(), List.of()),
        Oracle.modelStock(dbl(x[0]), new double[][] {dbl(x[1]), dbl(x[2]), dbl(x[3])}), "model_stock");
  }

  @ParameterizedTest
  @ValueSource(strings = {"reference", "djl", "nd4j"})
  void passthroughAndFisher(String backend) {
    float[][] x = inputs(10, 2);
    double[] scaled = java.util.Arrays.stream(dbl(x[1])).map(v -> 0.5 * v).toArray();
    assertClose(run(backend, "passthrough", null, List.of(x[1]), per(Map.of("scale", 0.5)), Map.of(), List.of()), scaled, "passthrough");
    SplittableRandom r = new SplittableRandom(11);
    float[][] f = new float[2][x[0].length];
    for (int i = 0; i < f[0].length; i++) {
      f[0][i] = (float) Math.abs(r.nextGaussian());
      f[1][i] = r.nextInt(4) == 0 ? 0f : (float) Math.abs(r.nextGaussian());
    }
    double n0 = Oracle.norm(dbl(f[0]));
    double n1 = Oracle.norm(dbl(f[1]));
    float[] got = run(backend, "fisher", null, List.of(x[1], x[2]),
        per(Map.of("weight", 1.0, FisherMerge.NORM, n0), Map.of("weight", 2.0, FisherMerge.NORM, n1)), Map.of(), List.of(f[0], f[1]));
    assertClose(got, Oracle.fisher(new double[][] {dbl(x[1]), dbl(x[2])}, new double[][] {dbl(f[0]), dbl(f[1])}, new double[] {1 / n0, 2 / n1}, 1e-6),
        "fisher");
  }

  /** Merging identical models returns the model, for every operator that averages. */
  @ParameterizedTest
  @ValueSource(strings = {"reference", "djl", "nd4j"})
  void identicalModelsGiveTheModel(String backend) {
    float[][] x = inputs(12, 1);
    float[] m = x[1];
    Function<float[], double[]> id = OperatorGoldenTest::dbl;
    for (String op : List.of("linear", "ties", "dare_ties", "breadcrumbs_ties", "model_stock", "della")) {
      boolean withBase = !op.equals("linear");
      Map<String, Object> p = op.equals("linear") ? Map.of("weight", 1.0) : op.equals("model_stock") ? Map.of() : Map.of("weight", 1.0, "density", 0.5);
      float[] got = run(backend, op, withBase ? m : null, List.of(m.clone(), m.clone(), m.clone()), per(p, p, p), Map.of(), List.of());
      assertClose(got, id.apply(m), op + " of identical models");
    }
  }

  /** Model order does not matter for symmetric operators. */
  @ParameterizedTest
  @ValueSource(strings = {"reference", "djl"})
  void orderDoesNotMatter(String backend) {
    float[][] x = inputs(13, 3);
    for (String op : List.of("linear", "task_arithmetic", "ties", "model_stock", "breadcrumbs")) {
      boolean withBase = !op.equals("linear");
      Map<String, Object> p = op.equals("model_stock") ? Map.of() : op.equals("linear") || op.equals("task_arithmetic") ? Map.of("weight", 0.4)
          : Map.of("weight", 0.4, "density", 0.5);
      float[] a = run(backend, op, withBase ? x[0] : null, List.of(x[1], x[2], x[3]), per(p, p, p), Map.of(), List.of());
      float[] b = run(backend, op, withBase ? x[0] : null, List.of(x[3], x[1], x[2]), per(p, p, p), Map.of(), List.of());
      assertClose(a, dbl(b), op + " permuted");
    }
  }

  /** Density d keeps int(d·n) entries per task vector (continuous data, so no ties at the threshold). */
  @ParameterizedTest
  @ValueSource(strings = {"reference", "djl", "nd4j"})
  void densityKeepsTheStatedCount(String backend) {
    float[][] x = inputs(14, 1);
    int n = ROWS * COLS;
    for (double d : new double[] {0.1, 0.37, 0.9}) {
      float[] got = run(backend, "ties", x[0], List.of(x[1]), per(Map.of("weight", 1.0, "density", d)), Map.of(), List.of());
      long changed = 0;
      for (int i = 0; i < n; i++) {
        if (got[i] != x[0][i]) {
          changed++;
        }
      }
      assertThat(changed).as("ties density " + d).isEqualTo((long) (d * n));
      float[] bc = run(backend, "breadcrumbs", x[0], List.of(x[1]), per(Map.of("weight", 1.0, "density", d, "gamma", 0.05)), Map.of(), List.of());
      long kept = 0;
      for (int i = 0; i < n; i++) {
        if (bc[i] != x[0][i]) {
          kept++;
        }
      }
      assertThat(kept).as("breadcrumbs density " + d).isEqualTo(Math.min((long) (d * n), n - (long) (0.05 * n)));
    }
    // DARE keeps each entry with probability d: the count is within 5 standard deviations of d·n
    float[] dare = run(backend, "dare_linear", x[0], List.of(x[1]), per(Map.of("weight", 1.0, "density", 0.3)), Map.of(), List.of());
    long kept = 0;
    for (int i = 0; i < n; i++) {
      if (dare[i] != x[0][i]) {
        kept++;
      }
    }
    assertThat((double) kept).isCloseTo(0.3 * n, org.assertj.core.data.Offset.offset(5 * Math.sqrt(n * 0.3 * 0.7)));
  }

  /**
   * The reference backend merges with fused single-pass kernels; DJL runs the tensor-layer formulation. Both must
   * give the same bytes (the kernels repeat the same float operations in the same order), including masks at
   * magnitude ties: the inputs are rounded to bf16 so that many task-vector entries tie.
   */
  @Test
  void fusedKernelsGiveTheBytesOfTheTensorLayer() {
    float[][] x = inputs(77, 3);
    for (float[] a : x) {
      for (int j = 0; j < a.length; j++) {
        a[j] = dev.graft.io.DTypeCodec.roundTo(a[j], dev.graft.tensor.DType.BF16);
      }
    }
    Map<String, Object> pm = Map.of("weight", 0.7, "density", 0.4, "gamma", 0.05, "epsilon", 0.1);
    List<Map<String, Object>> per = List.of(pm, Map.of("weight", 0.2, "density", 0.6, "gamma", 0.02, "epsilon", 0.2), pm);
    List<Map<String, Object>> globals = List.of(Map.of(), Map.of("lambda", 1.3), Map.of("normalize", false), Map.of("aggregation", "mean"),
        Map.of("aggregation", "sum"), Map.of("trim_scope", "row"), Map.of("mask_scope", "row"), Map.of("rescale", "inverse_density"),
        Map.of("rescale", "l1"), Map.of("rescale", "none"));
    int compared = 0;
    for (String op : List.of("task_arithmetic", "ties", "dare_ties", "dare_linear", "breadcrumbs", "breadcrumbs_ties", "della", "della_linear")) {
      OperatorSpec spec = OPS.get(op).spec();
      for (Map<String, Object> g : globals) {
        if (!g.keySet().stream().allMatch(k -> spec.param(k).isPresent())) {
          continue;
        }
        float[] ref = run("reference", op, x[0], List.of(x[1], x[2], x[3]), per, g, List.of());
        float[] djl = run("djl", op, x[0], List.of(x[1], x[2], x[3]), per, g, List.of());
        assertThat(ref).as(op + " " + g).containsExactly(djl);
        compared++;
      }
    }
    assertThat(compared).isGreaterThan(30);
    List<Map<String, Object>> lin = List.of(Map.of("weight", 0.5), Map.of("weight", 0.3), Map.of("weight", 0.4));
    for (Map<String, Object> g : List.of(Map.<String, Object>of(), Map.<String, Object>of("normalize", false))) {
      assertThat(run("reference", "linear", null, List.of(x[1], x[2], x[3]), lin, g, List.of()))
          .containsExactly(run("djl", "linear", null, List.of(x[1], x[2], x[3]), lin, g, List.of()));
    }
    List<Map<String, Object>> none = List.of(Map.of(), Map.of());
    assertThat(run("reference", "slerp", x[0], List.of(x[0], x[1]), none, Map.of("t", 0.3), List.of()))
        .containsExactly(run("djl", "slerp", x[0], List.of(x[0], x[1]), none, Map.of("t", 0.3), List.of()));
  }

  @Test
  void linearTimeTopKMatchesASortWithTiesRankedByPosition() {
    SplittableRandom r = new SplittableRandom(5);
    for (int trial = 0; trial < 200; trial++) {
      int n = 1 + r.nextInt(trial < 100 ? 50 : 300_000);
      float[] v = new float[n];
      int distinct = 1 + r.nextInt(trial % 3 == 0 ? 4 : 10_000); // few distinct magnitudes: many ties
      for (int i = 0; i < n; i++) {
        v[i] = (r.nextBoolean() ? 1 : -1) * (r.nextInt(distinct) * 0.25f) + (trial % 7 == 0 && r.nextInt(100) == 0 ? Float.NaN : 0);
      }
      long k = r.nextLong(n + 2);
      FusedKernels.TopK t = FusedKernels.topK(v, null, k);
      float[] expected = HostMasks.rowBand(v, n, c -> new int[] {(int) Math.max(0, c - k), 0});
      long count = 0;
      for (int i = 0; i < n; i++) {
        boolean in = t.contains(MagnitudeRank.key(v[i]), i);
        assertThat(in).as("trial " + trial + ", n " + n + ", k " + k + ", entry " + i).isEqualTo(expected[i] == 1f);
        count += in ? 1 : 0;
      }
      assertThat(count).isEqualTo(Math.min(k, n));
    }
  }
}
