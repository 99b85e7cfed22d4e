package dev.graft.op;

import dev.graft.tensor.Backends;
import dev.graft.tensor.Device;
import dev.graft.tensor.Shape;
import dev.graft.tensor.Tensor;
import dev.graft.tensor.TensorScope;
import dev.graft.tensor.spi.Backend;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;

public class TopKTiming {
  public static void main(String[] a) {
    String opName = a.length > 0 ? a[0] : "breadcrumbs";
    int n = 4096;
    SplittableRandom r = new SplittableRandom(42);
    float[][] data = new float[4][n * n];
    for (int j = 0; j < n * n; j++) data[0][j] = (float) (0.02 * r.nextGaussian());
    for (int i = 1; i <= 3; i++) for (int j = 0; j < n * n; j++) data[i][j] = data[0][j] + (float) (0.002 * r.nextGaussian());
    MergeOperator op = Operators.builtIn().get(opName);
    Shape shape = Shape.of(n, n);
    try (Backend be = Backends.create("reference", Device.CPU)) {
      for (int rep = 0; rep < 30; rep++) {
        long t0 = System.nanoTime();
        try (TensorScope scope = TensorScope.root("bench")) {
          Tensor base = be.adopt(scope, data[0], shape);
          List<Tensor> ms = new ArrayList<>();
          List<Params> ps = new ArrayList<>();
          for (int i = 1; i < 4; i++) {
            ms.add(be.adopt(scope, data[i], shape));
            ps.add(Params.withDefaults(op.spec(), ParamSpec.Scope.PER_MODEL, Map.of("weight", 0.4, "density", 0.5, "gamma", 0.01, "epsilon", 0.1)));
          }
          Params g = Params.withDefaults(op.spec(), ParamSpec.Scope.GLOBAL, Map.of("t", 0.3));
          Tensor out = op.merge(new MergeInputs("model.layers.0.mlp.up_proj.weight", base, ms, ps, g, List.of(), 7, be, scope));
          dev.graft.internal.FloatArrays.give(out.heapArray());
        }
        System.out.printf("%s %.1f ms%n", opName, (System.nanoTime() - t0) / 1e6);
      }
    }
  }
}
