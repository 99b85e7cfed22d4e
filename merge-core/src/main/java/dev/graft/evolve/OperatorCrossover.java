package dev.graft.evolve;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.graft.op.MergeInputs;
import dev.graft.op.MergeOperator;
import dev.graft.op.OperatorSpec;
import dev.graft.op.ParamSpec;
import dev.graft.op.Params;
import dev.graft.tensor.Tensor;
import dev.graft.tensor.TensorScope;
import dev.graft.tensor.spi.Backend;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;

/**
 * Crossover through a merge operator (GENOME's idea, any registered operator): the parents are merged tensor by
 * tensor as two fine-tunes of the base model (for operators that need one) with a drawn mixing ratio {@code w ~ U(0,
 * 1)}: per-model {@code weight} (w, 1 - w), or SLERP's {@code t = 1 - w}; other parameters as the evolve recipe gives
 * them. Random operators (DARE, DELLA) draw from a seed taken from the step's generator and kept in the lineage.
 */
public final class OperatorCrossover implements Crossover {
  private final MergeOperator op;
  private final WeightLayout layout;
  private final Genome.Flat base;
  private final Map<String, Object> values;
  private final Backend backend;

  /**
   * @param base the base model's weights (operators that merge task vectors), or null
   * @param values fixed parameter values (global and per model) besides the drawn ratio
   */
  public OperatorCrossover(MergeOperator op, WeightLayout layout, Genome.Flat base, Map<String, Object> values, Backend backend) {
    OperatorSpec s = op.spec();
    if ((s.base() == OperatorSpec.BaseUse.REQUIRED) && base == null) {
      throw new IllegalArgumentException("crossover by " + s.name() + " merges task vectors and needs the base model (model.base)");
    }
    this.op = op;
    this.layout = layout;
    this.base = base;
    this.values = Map.copyOf(values);
    this.backend = backend;
  }

  @Override
  public String name() {
    return op.spec().name();
  }

  @Override
  public void draw(int size, SplittableRandom rng, ObjectNode origin) {
    double w = rng.nextDouble();
    long seed = rng.nextLong();
    origin.put("crossover", name()).put("ratio", w).put("crossover_seed", seed);
  }

  @Override
  public Genome apply(Genome a, Genome b, JsonNode origin) {
    double w = origin.get("ratio").asDouble();
    long seed = origin.get("crossover_seed").asLong();
    OperatorSpec s = op.spec();
    Map<String, Object> v1 = new java.util.HashMap<>(values);
    Map<String, Object> v2 = new java.util.HashMap<>(values);
    v1.put("weight", w);
    v2.put("weight", 1 - w);
    Map<String, Object> global = new java.util.HashMap<>(values);
    global.put("t", 1 - w);
    Params p1 = Params.withDefaults(s, ParamSpec.Scope.PER_MODEL, v1);
    Params p2 = Params.withDefaults(s, ParamSpec.Scope.PER_MODEL, v2);
    Params g = Params.withDefaults(s, ParamSpec.Scope.GLOBAL, global);
    float[] x = ((Genome.Flat) a).values();
    float[] y = ((Genome.Flat) b).values();
    float[] out = new float[x.length];
    int t = 0;
    for (Map.Entry<String, dev.graft.tensor.Shape> e : layout.shapes().entrySet()) {
      String name = e.getKey();
      try (TensorScope scope = TensorScope.root("crossover")) {
        Tensor ta = backend.fromFloats(scope, layout.tensor(x, name), e.getValue());
        Tensor tb = backend.fromFloats(scope, layout.tensor(y, name), e.getValue());
        Tensor tbase = base == null ? null : backend.fromFloats(scope, layout.tensor(base.values(), name), e.getValue());
        Tensor r = op.merge(new MergeInputs(name, s.base() == OperatorSpec.BaseUse.ONE_OF_INPUTS ? ta : tbase, List.of(ta, tb),
            List.of(p1, p2), g, List.of(), dev.graft.tensor.spi.SeededMasks.mix(seed, t), backend, scope));
        layout.put(out, name, r.toFloatArray());
      }
      t++;
    }
    return new Genome.Flat(out);
  }
}
