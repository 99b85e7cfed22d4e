package dev.graft.op;

import static dev.graft.op.ParamSpec.Scope.GLOBAL;
import static dev.graft.op.ParamSpec.Scope.PER_MODEL;

import dev.graft.tensor.Shape;
import dev.graft.tensor.Tensor;
import dev.graft.tensor.TensorScope;
import java.util.ArrayList;
import java.util.List;

/**
 * The task-vector family (mergekit's generalized task arithmetic): task arithmetic, TIES, DARE, Model Breadcrumbs
 * and DELLA are one algorithm configured by a sparsifier and a sign-consensus rule.
 *
 * <pre>
 *   δᵢ = sparsify(θᵢ − θ₀);  uᵢ = wᵢ·δᵢ
 *   no consensus:  θ* = θ₀ + λ·Σuᵢ / (normalize ? Σwᵢ : 1)
 *   consensus:     s = sign(Σuᵢ) (ties to +), mᵢ = [sign(uᵢ) = s];
 *                  θ* = θ₀ + λ·Σuᵢmᵢ / (weighted: Σwᵢmᵢ if normalize; mean: Σ[uᵢmᵢ ≠ 0]; sum: 1), zero divisors → 1
 * </pre>
 *
 * <p>Sparsifiers: {@code magnitude} keeps the top ⌊d·n⌋ entries by |δ| (TIES trim; per tensor or per row);
 * {@code bernoulli} keeps each entry with probability d (DARE); {@code outliers} keeps the middle magnitude band,
 * removing the top ⌊γ·n⌋ and the bottom n − ⌊d·n⌋ − ⌊γ·n⌋ (Breadcrumbs; when ⌊γ·n⌋ = 0 the top band is kept, unlike
 * mergekit, which zeroes the task vector there); {@code della} keeps entries with a probability that rises with their
 * rank in the row from d − ε to d + ε. Rescaling: {@code l1} scales the kept entries so the tensor's L1 norm is
 * unchanged (mergekit), {@code inverse_density} divides by the keep probability (DARE paper, DELLA), {@code none}.
 */
public final class TaskArithmetic implements MergeOperator {
  /** How a task vector is sparsified. */
  public enum Sparsifier {
    NONE,
    MAGNITUDE,
    BERNOULLI,
    OUTLIERS,
    DELLA
  }

  /** How signs are elected. */
  public enum Consensus {
    NONE,
    SUM,
    COUNT
  }

  /** Hidden per-model parameter of {@code trim_scope: model}: the magnitude key of the model-wide threshold. */
  public static final String TRIM_KEY = "_trim_key";
  /** Hidden per-model parameter of {@code trim_scope: model}: the first position in this tensor of a tie kept. */
  public static final String TRIM_FROM = "_trim_from";

  private final OperatorSpec spec;
  private final Sparsifier sparsifier;
  private final Consensus consensus;

  private TaskArithmetic(OperatorSpec spec, Sparsifier sparsifier, Consensus consensus) {
    this.spec = spec;
    this.sparsifier = sparsifier;
    this.consensus = consensus;
  }

  /**
   * A preset of the family.
   *
   * @param defaultNormalize default of {@code normalize}
   * @param defaultRescale default of {@code rescale} ({@code none}, {@code l1} or {@code inverse_density})
   */
  public static TaskArithmetic preset(
      String name, String title, String paper, String summary, Sparsifier sparsifier, Consensus consensus,
      boolean defaultNormalize, String defaultRescale) {
    List<ParamSpec> ps = new ArrayList<>();
    ps.add(ParamSpec.number("weight", PER_MODEL, -100, 100, null, true, "scale of the model's task vector"));
    if (sparsifier != Sparsifier.NONE) {
      ps.add(ParamSpec.number("density", PER_MODEL, 0, 1, 1.0, true, "fraction of task-vector entries kept"));
    }
    if (sparsifier == Sparsifier.OUTLIERS) {
      ps.add(ParamSpec.number("gamma", PER_MODEL, 0, 1, 0.01, true, "fraction of largest-magnitude entries removed"));
      ps.add(ParamSpec.choice("mask_scope", GLOBAL, "tensor", List.of("tensor", "row"), "rank entries over the whole tensor (mergekit) or per row (official code)"));
    }
    if (sparsifier == Sparsifier.DELLA) {
      ps.add(ParamSpec.number("epsilon", PER_MODEL, 0, 0.5, 0.15, true, "half-width of the keep-probability range around density"));
    }
    if (sparsifier == Sparsifier.MAGNITUDE) {
      ps.add(ParamSpec.choice("trim_scope", GLOBAL, "tensor", List.of("tensor", "row", "model"),
          "top-k over the whole tensor (mergekit), per row, or over the whole model (TIES paper: one threshold per model)"));
    }
    ps.add(ParamSpec.number("lambda", GLOBAL, -100, 100, 1.0, true, "scale of the merged task vector"));
    ps.add(ParamSpec.bool("normalize", GLOBAL, defaultNormalize, "divide by the sum of (agreeing) weights"));
    if (sparsifier != Sparsifier.NONE) {
      ps.add(ParamSpec.choice("rescale", GLOBAL, defaultRescale, List.of("true", "false", "l1", "inverse_density", "none"),
          "rescale kept entries: l1 (keep the L1 norm), inverse_density (1/keep probability), none; true = "
              + defaultRescale + ", false = none"));
    }
    if (consensus != Consensus.NONE) {
      ps.add(ParamSpec.choice("aggregation", GLOBAL, "weighted", List.of("weighted", "mean", "sum"),
          "disjoint merge: weighted (mergekit), mean (TIES paper), sum"));
    }
    ps.add(ParamSpec.bool("int8_mask", GLOBAL, false, "accepted for mergekit compatibility; no effect"));
    OperatorSpec spec = new OperatorSpec(name, title, paper, summary, OperatorSpec.BaseUse.REQUIRED, 2, Integer.MAX_VALUE, ps);
    return new TaskArithmetic(spec, sparsifier, consensus);
  }

  @Override
  public OperatorSpec spec() {
    return spec;
  }

  @Override
  public Tensor merge(MergeInputs in) {
    Tensor base = in.base();
    if (base == null) {
      throw new IllegalArgumentException(spec.name() + " needs a base model");
    }
    TensorScope scope = in.scope();
    Params g = in.global();
    String rescale = rescale(g);
    float[][] heap = base.heapArray() == null ? null : FusedKernels.heap(in.models());
    if (heap != null) {
      return in.backend().adopt(scope, fused(in, base.heapArray(), heap, g, rescale), base.shape());
    }
    int n = in.models().size();
    double weightSum = 0;
    List<Tensor> weighted = new ArrayList<>(n);
    List<Double> weights = new ArrayList<>(n);
    for (int i = 0; i < n; i++) {
      Params p = in.modelParams().get(i);
      double w = p.number("weight");
      weights.add(w);
      weightSum += w;
      // Each model's temporaries live in a child scope closed as soon as its weighted task vector exists; the
      // input tensor is consumed (moved there) too, so peak memory is base + n task vectors + a few temporaries.
      try (TensorScope t = scope.child("model-" + i)) {
        Tensor delta = in.models().get(i).moveTo(t).sub(base);
        weighted.add(sparsify(delta, p, g, rescale, in.seed(i), in.tensor()).mul(w).moveTo(scope));
      }
    }
    try (TensorScope tmp = scope.child("combine")) {
      weighted.forEach(u -> u.moveTo(tmp));
      Tensor mixed;
      if (consensus == Consensus.NONE) {
        mixed = sum(weighted);
        if (g.bool("normalize")) {
          mixed = mixed.mul(1.0 / (Math.abs(weightSum) < 1e-8 ? 1.0 : weightSum));
        }
      } else {
        Tensor votes = consensus == Consensus.SUM ? sum(weighted) : sum(weighted.stream().map(Tensor::sign).toList());
        Tensor elected = votes.ge(0).mul(2).add(-1);
        String agg = g.text("aggregation");
        Tensor acc = null;
        Tensor divisor = null;
        for (int i = 0; i < n; i++) {
          Tensor agree = weighted.get(i).sign().eq(elected);
          Tensor kept = weighted.get(i).mul(agree);
          acc = acc == null ? kept : acc.add(kept);
          Tensor d = switch (agg) {
            case "mean" -> kept.abs().gt(0);
            case "weighted" -> agree.mul(weights.get(i));
            default -> null;
          };
          if (d != null) {
            divisor = divisor == null ? d : divisor.add(d);
          }
        }
        mixed = acc;
        if (divisor != null && (agg.equals("mean") || g.bool("normalize"))) {
          Tensor zero = divisor.eq(in.backend().zeros(tmp, divisor.shape()));
          mixed = mixed.div(zero.where(in.backend().full(tmp, divisor.shape(), 1f), divisor));
        }
      }
      double lambda = g.number("lambda");
      if (lambda != 1.0) {
        mixed = mixed.mul(lambda);
      }
      return base.add(mixed.moveTo(scope)).moveTo(scope);
    }
  }

  /** The whole merge in one pass over heap arrays ({@link FusedKernels}): the same floats as the code above. */
  private float[] fused(MergeInputs in, float[] b, float[][] x, Params g, String rescale) {
    List<FusedKernels.Part> parts = new ArrayList<>();
    List<float[]> temporaries = new ArrayList<>(); // masks and probabilities, back to the pool at the end
    double weightSum = 0;
    Shape shape = in.base().shape();
    long[][] ks = new long[x.length][];
    for (int i = 0; i < x.length; i++) {
      ks[i] = topKs(in.modelParams().get(i), g, shape);
    }
    FusedKernels.TopK[][] tops = FusedKernels.topK(FusedKernels.Entries.of(x, b), ks);
    for (int i = 0; i < x.length; i++) {
      Params p = in.modelParams().get(i);
      weightSum += p.number("weight");
      parts.add(part(in.tensor(), shape, p, g, rescale, in.seed(i), tops[i], FusedKernels.Entries.of(x[i], b), x[i], b, temporaries));
    }
    float[] out = FusedKernels.taskArithmetic(b, parts, consensusCode(), aggregationCode(g), g.bool("normalize"), weightSum, g.number("lambda"));
    temporaries.forEach(dev.graft.internal.FloatArrays::give);
    return out;
  }

  /**
   * Every configuration streams, except row-wise masks (trim or mask scope {@code row}, DELLA) with {@code l1}
   * rescaling, whose sums over the whole tensor would need every row's mask drawn twice.
   */
  @Override
  public boolean streams(Shape shape, List<Params> modelParams, Params global) {
    boolean rows = shape.rank() >= 1;
    boolean rowWise = switch (sparsifier) {
      case MAGNITUDE -> rows && global.text("trim_scope").equals("row");
      case OUTLIERS -> rows && global.text("mask_scope").equals("row");
      case DELLA -> true;
      default -> false;
    };
    return !rowWise || (!rescale(global).equals("l1") && FusedKernels.rowFits(cols(shape)));
  }

  /** The rescale mode in force: {@code none}, {@code l1} or {@code inverse_density}. */
  private String rescale(Params g) {
    return spec.param("rescale").isPresent() ? rescaleMode(g.text("rescale"), spec.param("rescale").get().defaultValue().toString()) : "none";
  }

  @Override
  public void mergeStreamed(StreamedInputs in) {
    Params g = in.global();
    String rescale = rescale(g);
    int m = in.models();
    // the top-k thresholds of every model that needs one, in passes that read the base once for all of them
    long[][] ks = new long[m][];
    int[] needing = java.util.stream.IntStream.range(0, m).filter(i -> (ks[i] = topKs(in.modelParams().get(i), g, in.shape())).length > 0).toArray();
    FusedKernels.TopK[][] found = FusedKernels.topK(FusedKernels.Entries.of(in, needing, true),
        java.util.Arrays.stream(needing).mapToObj(i -> ks[i]).toArray(long[][]::new));
    FusedKernels.TopK[][] tops = new FusedKernels.TopK[m][0];
    for (int q = 0; q < needing.length; q++) {
      tops[needing[q]] = found[q];
    }
    List<FusedKernels.Part> parts = new ArrayList<>();
    double weightSum = 0;
    for (int i = 0; i < m; i++) {
      Params p = in.modelParams().get(i);
      weightSum += p.number("weight");
      parts.add(part(in.tensor(), in.shape(), p, g, rescale, in.seed(i), tops[i], FusedKernels.Entries.of(in, new int[] {i}, true), null, null, null));
    }
    FusedKernels.Combination c = new FusedKernels.Combination(parts, consensusCode(), aggregationCode(g), g.bool("normalize"), weightSum, g.number("lambda"));
    if (parts.stream().anyMatch(p -> p.mask() instanceof FusedKernels.Mask.Rows)) {
      FusedKernels.taskArithmeticRows(in, parts, c, cols(in.shape()));
    } else {
      FusedKernels.taskArithmetic(in, parts, c);
    }
  }

  private int consensusCode() {
    return consensus == Consensus.NONE ? 0 : consensus == Consensus.SUM ? 1 : 2;
  }

  private int aggregationCode(Params g) {
    return consensus == Consensus.NONE ? 0 : switch (g.text("aggregation")) {
      case "mean" -> 1;
      case "sum" -> 2;
      default -> 0;
    };
  }

  /**
   * The top-k sets a model's mask needs, as counts: TIES's top ⌊d·n⌋ over the tensor, or the two of a Breadcrumbs band
   * (the top {@code keep + top}, less the top {@code top}); none for other masks, or when nothing is kept.
   */
  private long[] topKs(Params p, Params g, Shape shape) {
    long numel = shape.numel();
    double d = sparsifier == Sparsifier.NONE ? 1 : p.number("density");
    if (d >= 1 || numel == 0) {
      return new long[0];
    }
    boolean rows = shape.rank() >= 1;
    return switch (sparsifier) {
      case MAGNITUDE -> g.text("trim_scope").equals("model") || (rows && g.text("trim_scope").equals("row")) ? new long[0]
          : new long[] {Math.max(1, (long) (d * numel))};
      case OUTLIERS -> {
        if (rows && g.text("mask_scope").equals("row")) {
          yield new long[0];
        }
        int[] band = outlierBand(numel, d, p.number("gamma"));
        long keep = numel - band[0] - band[1];
        yield keep <= 0 ? new long[0] : new long[] {band[1] + keep, band[1]};
      }
      default -> new long[0];
    };
  }

  /**
   * One model's part of a fused merge: its mask and rescale, from its top-k sets {@code top} ({@link #topKs}) and its
   * entries {@code src}. {@code x} and {@code b} are the whole arrays when the tensor is on the heap, null when it is
   * streamed (row-wise masks are then drawn per window: {@link FusedKernels.Mask.Rows}); temporaries made here go to
   * {@code temporaries}.
   */
  private FusedKernels.Part part(
      String tensor, Shape shape, Params p, Params g, String rescale, long seed, FusedKernels.TopK[] top, FusedKernels.Entries src, float[] x,
      float[] b, List<float[]> temporaries) {
    double w = p.number("weight");
    long numel = shape.numel();
    FusedKernels.Mask mask = new FusedKernels.Mask.All();
    float[] probability = null;
    double d = sparsifier == Sparsifier.NONE ? 1 : p.number("density");
    if (d < 1 && numel > 0) {
      switch (sparsifier) {
        case MAGNITUDE -> {
          if (g.text("trim_scope").equals("model")) {
            double[] kf = modelTrim(p, tensor);
            mask = new FusedKernels.Mask.Top(new FusedKernels.TopK((int) kf[0], (int) kf[1]));
          } else if (g.text("trim_scope").equals("row") && shape.rank() >= 1) {
            int cols = cols(shape);
            int k = Math.max(1, (int) (d * cols));
            mask = x == null ? rows(new int[] {cols - k, 0})
                : new FusedKernels.Mask.Array(temporary(temporaries, rowBand(x, b, cols, c -> new int[] {c - k, 0})));
          } else {
            mask = new FusedKernels.Mask.Top(top[0]);
          }
        }
        case BERNOULLI -> mask = new FusedKernels.Mask.Bernoulli(seed, d);
        case OUTLIERS -> {
          double gamma = p.number("gamma");
          if (g.text("mask_scope").equals("row") && shape.rank() >= 1) {
            mask = x == null ? rows(outlierBand(cols(shape), d, gamma))
                : new FusedKernels.Mask.Array(temporary(temporaries, rowBand(x, b, cols(shape), c -> outlierBand(c, d, gamma))));
          } else {
            mask = top.length == 0 ? new FusedKernels.Mask.Zero() : new FusedKernels.Mask.Band(top[0], top[1]);
          }
        }
        case DELLA -> {
          double eps = p.number("epsilon");
          if (d - eps <= 0 || d + eps >= 1) {
            throw new IllegalArgumentException("tensor " + tensor + ": della needs 0 < density - epsilon and density + epsilon < 1, found density "
                + d + ", epsilon " + eps);
          }
          if (x == null) { // streamed: drawn per window of rows
            HostMasks.Keep keep = new HostMasks.Keep(cols(shape), d, eps);
            boolean divisors = rescale.equals("inverse_density");
            mask = new FusedKernels.Mask.Rows((xw, bw, len, cols, pos, sort, out) -> {
              for (int off = 0; off < len; off += cols) {
                HostMasks.dellaRow(xw, bw, off, cols, keep, seed, pos, sort, out, divisors);
              }
            }, divisors);
          } else if (rescale.equals("inverse_density")) { // the default: kept entries divided by their probability
            probability = temporary(temporaries, HostMasks.dellaDivisors(x, b, cols(shape), d, eps, seed)); // +∞ where dropped
          } else {
            float[] delta = delta(x, b);
            float[][] mp = HostMasks.della(delta, cols(shape), d, eps, seed);
            dev.graft.internal.FloatArrays.give(delta);
            mask = new FusedKernels.Mask.Array(temporary(temporaries, mp[0]));
            probability = temporary(temporaries, mp[1]);
          }
        }
        default -> throw new AssertionError(sparsifier);
      }
    }
    boolean scaled = false;
    double factor = 1;
    float[] divide = null;
    if (d < 1 && numel > 0 && sparsifier != Sparsifier.NONE) {
      if (rescale.equals("l1")) {
        // on the heap, DARE's mask is drawn once, in the pass that sums, and read back by the merge
        float[] drawn = x != null && mask instanceof FusedKernels.Mask.Bernoulli ? temporary(temporaries, dev.graft.internal.FloatArrays.take(x.length)) : null;
        double[] l1 = FusedKernels.l1(src, mask, drawn);
        if (drawn != null) {
          mask = new FusedKernels.Mask.Array(drawn); // the same 0/1 values, drawn once
        }
        scaled = !(l1[0] < 1e-7 || l1[1] < 1e-7);
        factor = scaled ? l1[0] / l1[1] : 1;
      } else if (rescale.equals("inverse_density")) {
        if (probability != null) {
          divide = probability;
        } else if (!(mask instanceof FusedKernels.Mask.Rows r && r.divisors())) { // else the divisors come per window
          scaled = true;
          factor = 1.0 / d;
        }
      }
    }
    return new FusedKernels.Part(x, w, mask, scaled, factor, divide);
  }

  /** A streamed row-wise band: in every row, the entries of ascending magnitude rank in [band[0], cols - band[1]). */
  private static FusedKernels.Mask rows(int[] band) {
    return new FusedKernels.Mask.Rows((xw, bw, len, cols, pos, w, out) -> {
      for (int off = 0; off < len; off += cols) {
        HostMasks.rowBand(xw, bw, off, cols, band, w, out);
      }
    }, false);
  }

  private static float[] temporary(List<float[]> temporaries, float[] a) {
    temporaries.add(a);
    return a;
  }

  private static float[] rowBand(float[] x, float[] b, int cols, java.util.function.IntFunction<int[]> band) {
    float[] delta = delta(x, b);
    float[] mask = HostMasks.rowBand(delta, cols, band);
    dev.graft.internal.FloatArrays.give(delta);
    return mask;
  }

  private static float[] delta(float[] x, float[] b) {
    float[] d = dev.graft.internal.FloatArrays.take(x.length); // every element written below
    for (int e = 0; e < d.length; e++) {
      d[e] = x[e] - b[e];
    }
    return d;
  }

  /** The model-wide threshold the executor's pre-pass found ({@code trim_scope: model}): {key, first tie kept here}. */
  private static double[] modelTrim(Params p, String tensor) {
    if (!p.has(TRIM_KEY)) {
      throw new IllegalArgumentException("tensor " + tensor + ": trim_scope: model needs the whole-model threshold, which the merge executor "
          + "computes before merging; this call came without it");
    }
    return new double[] {p.number(TRIM_KEY), p.number(TRIM_FROM)};
  }

  private static String rescaleMode(String v, String def) {
    return switch (v) {
      case "true" -> def;
      case "false" -> "none";
      default -> v;
    };
  }

  private Tensor sparsify(Tensor delta, Params p, Params g, String rescale, long seed, String tensor) {
    if (sparsifier == Sparsifier.NONE) {
      return delta;
    }
    double d = p.number("density");
    if (d >= 1) {
      return delta;
    }
    Shape shape = delta.shape();
    long numel = shape.numel();
    if (numel == 0) {
      return delta;
    }
    TensorScope outer = delta.scope();
    try (TensorScope t = outer.child("sparsify")) {
      return sparsify(delta.moveTo(t), d, shape, numel, p, g, rescale, seed, tensor).moveTo(outer);
    }
  }

  private Tensor sparsify(Tensor delta, double d, Shape shape, long numel, Params p, Params g, String rescale, long seed, String tensor) {
    Tensor mask;
    Tensor probability = null;
    switch (sparsifier) {
      case MAGNITUDE -> {
        if (g.text("trim_scope").equals("model")) {
          double[] kf = modelTrim(p, tensor);
          float[] v = delta.toFloatArray();
          float[] m = new float[v.length];
          for (int e = 0; e < v.length; e++) {
            int key = MagnitudeRank.key(v[e]);
            m[e] = key > kf[0] || (key == kf[0] && e >= kf[1]) ? 1f : 0f;
          }
          mask = delta.backend().fromFloats(delta.scope(), m, shape);
        } else if (g.text("trim_scope").equals("row") && shape.rank() >= 1) {
          int cols = cols(shape);
          int k = Math.max(1, (int) (d * cols));
          mask = delta.backend().fromFloats(delta.scope(), HostMasks.rowBand(delta.toFloatArray(), cols, c -> new int[] {c - k, 0}), shape);
        } else {
          long k = Math.max(1, (long) (d * numel));
          mask = exact(delta, delta.abs().ge(delta.kthLargestAbs(k)), k, new int[] {(int) (numel - k), 0});
        }
      }
      case BERNOULLI -> mask = delta.backend().bernoulli(delta.scope(), shape, d, seed);
      case OUTLIERS -> {
        double gamma = p.number("gamma");
        boolean row = g.text("mask_scope").equals("row") && shape.rank() >= 1;
        if (row) {
          mask = delta.backend().fromFloats(delta.scope(), HostMasks.rowBand(delta.toFloatArray(), cols(shape), c -> outlierBand(c, d, gamma)), shape);
        } else {
          int[] band = outlierBand(numel, d, gamma);
          long keep = numel - band[0] - band[1];
          if (keep <= 0) {
            mask = delta.backend().zeros(delta.scope(), shape);
          } else {
            // The band is the top (top + keep) minus the top (top). Both thresholds must select exactly their
            // count (no magnitude tie across a cut) for the masks to be the rank band; else ranks on the host.
            Tensor abs = delta.abs();
            Tensor low = abs.ge(delta.kthLargestAbs(band[1] + keep));
            boolean exact = low.countNonZero() == band[1] + keep;
            if (band[1] > 0) {
              Tensor high = abs.ge(delta.kthLargestAbs(band[1]));
              exact &= high.countNonZero() == band[1];
              low = low.mul(high.neg().add(1));
            }
            mask = exact ? low : delta.backend().fromFloats(delta.scope(), HostMasks.rowBand(delta.toFloatArray(), (int) numel, c -> band), shape);
          }
        }
      }
      case DELLA -> {
        double eps = p.number("epsilon");
        if (d - eps <= 0 || d + eps >= 1) {
          throw new IllegalArgumentException(
              "tensor " + tensor + ": della needs 0 < density - epsilon and density + epsilon < 1, found density " + d + ", epsilon " + eps);
        }
        float[][] mp = HostMasks.della(delta.toFloatArray(), cols(shape), d, eps, seed);
        mask = delta.backend().fromFloats(delta.scope(), mp[0], shape);
        probability = delta.backend().fromFloats(delta.scope(), mp[1], shape);
      }
      default -> throw new AssertionError(sparsifier);
    }
    Tensor kept = delta.mul(mask);
    switch (rescale) {
      case "l1" -> {
        double before = delta.sumAbs();
        double after = kept.sumAbs();
        return before < 1e-7 || after < 1e-7 ? kept : kept.mul(before / after);
      }
      case "inverse_density" -> {
        return probability != null ? kept.div(probability) : kept.mul(1.0 / d);
      }
      default -> {
        return kept;
      }
    }
  }

  /**
   * A threshold mask is exact unless magnitudes tie at a threshold (common in bf16 checkpoints). Then the band is
   * recomputed on the host with ties ranked by index (a later entry ranks higher), so exactly {@code keep} entries are
   * kept, as mergekit's sort-based selection does.
   */
  private static Tensor exact(Tensor delta, Tensor mask, long keep, int[] band) {
    if (mask.countNonZero() == keep) {
      return mask;
    }
    int n = (int) delta.shape().numel();
    return delta.backend().fromFloats(delta.scope(), HostMasks.rowBand(delta.toFloatArray(), n, c -> band), delta.shape());
  }

  /** {bottom, top} counts of removed entries for n entries (mergekit's magnitude_outliers arithmetic). */
  static int[] outlierBand(long n, double density, double gamma) {
    long keep = (long) (density * n);
    long top = (long) (gamma * n);
    long bottom = n - keep - top;
    if (bottom < 0) {
      top += bottom;
      bottom = 0;
    }
    return new int[] {(int) bottom, (int) top};
  }

  private static int cols(Shape s) {
    return s.rank() == 0 ? 1 : (int) s.dim(s.rank() - 1);
  }

  private static Tensor sum(List<Tensor> ts) {
    Tensor acc = ts.get(0);
    for (int i = 1; i < ts.size(); i++) {
      acc = acc.add(ts.get(i));
    }
    return acc;
  }
}
