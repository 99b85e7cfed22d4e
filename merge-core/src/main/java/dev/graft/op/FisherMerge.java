package dev.graft.op;

import static dev.graft.op.ParamSpec.Scope.GLOBAL;
import static dev.graft.op.ParamSpec.Scope.PER_MODEL;

import dev.graft.tensor.Shape;
import dev.graft.tensor.Tensor;
import dev.graft.tensor.TensorScope;
import java.util.List;

/**
 * Fisher-weighted averaging (Matena and Raffel 2022): θ* = Σ cᵢFᵢθᵢ / Σ cᵢFᵢ per element, with Fᵢ the diagonal Fisher
 * of model i read from the file its {@code fisher} parameter names. Floor: Fᵢ ← max(Fᵢ, {@code fisher_floor}) on every
 * model (project default), or on the first model only with {@code favor_target} (the reference's default).
 * With {@code normalize_fishers}, cᵢ is divided by the L2 norm of model i's Fisher over all merged tensors (the
 * planner computes it before merging and passes it as {@code fisher_norm}).
 */
public final class FisherMerge implements MergeOperator {
  /** Internal per-model parameter set by the planner: the global L2 norm of the model's (unfloored) Fisher. */
  public static final String NORM = "fisher_norm";

  private static final OperatorSpec SPEC =
      new OperatorSpec(
          "fisher", "Fisher-weighted averaging", "https://arxiv.org/abs/2111.09832",
          "per-element average weighted by each model's diagonal Fisher information", OperatorSpec.BaseUse.UNUSED, 1,
          Integer.MAX_VALUE,
          List.of(
              ParamSpec.number("weight", PER_MODEL, 0, 100, 1.0, true, "merging coefficient c"),
              ParamSpec.path("fisher", PER_MODEL, "safetensors file of diagonal Fisher tensors with the model's tensor names"),
              ParamSpec.number("fisher_floor", GLOBAL, 0, 1, 1e-6, false, "lower bound applied to Fisher values"),
              ParamSpec.bool("normalize_fishers", GLOBAL, true, "scale each model's Fisher to unit L2 norm over the merged tensors"),
              ParamSpec.bool("favor_target", GLOBAL, false, "apply the floor to the first model only (the reference's default)")));

  @Override
  public OperatorSpec spec() {
    return SPEC;
  }

  @Override
  public Tensor merge(MergeInputs in) {
    int n = in.models().size();
    if (in.fishers().size() != n) {
      throw new IllegalStateException("fisher: " + n + " models but " + in.fishers().size() + " Fisher tensors for " + in.tensor());
    }
    double floor = in.global().number("fisher_floor");
    boolean favor = in.global().bool("favor_target");
    boolean normalize = in.global().bool("normalize_fishers");
    TensorScope scope = in.scope();
    try (TensorScope tmp = scope.child("fisher")) {
      Tensor num = null;
      Tensor den = null;
      for (int i = 0; i < n; i++) {
        double c = coefficient(in.modelParams().get(i), normalize);
        Tensor f = in.fishers().get(i).moveTo(tmp);
        if (!favor || i == 0) {
          f = f.clampMin(floor);
        }
        Tensor cf = f.mul(c);
        Tensor term = cf.mul(in.models().get(i).moveTo(tmp));
        num = num == null ? term : num.add(term);
        den = den == null ? cf : den.add(cf);
      }
      return num.div(den).moveTo(scope);
    }
  }

  @Override
  public boolean streams(Shape shape, List<Params> modelParams, Params global) {
    return true;
  }

  /** Per window: the models and their Fisher tensors, combined with the floats of {@link #merge}. */
  @Override
  public void mergeStreamed(StreamedInputs in) {
    int n = in.models();
    float floor = (float) in.global().number("fisher_floor");
    boolean favor = in.global().bool("favor_target");
    float[] c = new float[n];
    for (int i = 0; i < n; i++) {
      c[i] = (float) coefficient(in.modelParams().get(i), in.global().bool("normalize_fishers"));
    }
    int[] fishers = java.util.stream.IntStream.range(0, n).map(StreamedInputs::fisher).toArray();
    FusedKernels.windows(in, 1, FusedKernels.rowBlocks(in, 1), fishers, (bl, b, xs, fs, len, pos, num) -> {
      float[] den = FusedKernels.scratch(2 + 2 * n, len);
      for (int i = 0; i < n; i++) {
        float[] x = xs[i];
        float[] f = fs[i];
        boolean clamp = !favor || i == 0;
        float ci = c[i];
        for (int k = 0; k < len; k++) {
          float fk = clamp && !Float.isNaN(f[k]) ? Math.max(f[k], floor) : f[k];
          float cf = fk * ci;
          float term = cf * x[k];
          num[k] = i == 0 ? term : num[k] + term;
          den[k] = i == 0 ? cf : den[k] + cf;
        }
      }
      for (int k = 0; k < len; k++) {
        num[k] = num[k] / den[k];
      }
      in.sink().put(pos, num, len);
    });
  }

  /** Model i's merging coefficient c, divided by its Fisher norm when {@code normalize_fishers}. */
  private static double coefficient(Params p, boolean normalize) {
    double c = p.number("weight");
    if (normalize && p.has(NORM)) {
      double norm = p.number(NORM);
      c = norm > 0 ? c / norm : c;
    }
    return c;
  }
}
