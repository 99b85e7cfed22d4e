package dev.graft.bench;

import dev.graft.io.DTypeCodec;
import dev.graft.op.MergeInputs;
import dev.graft.op.MergeOperator;
import dev.graft.op.Operators;
import dev.graft.op.ParamSpec;
import dev.graft.op.Params;
import dev.graft.tensor.Backends;
import dev.graft.tensor.DType;
import dev.graft.tensor.Device;
import dev.graft.tensor.Shape;
import dev.graft.tensor.Tensor;
import dev.graft.tensor.TensorScope;
import dev.graft.tensor.spi.Backend;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;
import java.util.concurrent.TimeUnit;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Level;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Param;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.TearDown;
import org.openjdk.jmh.annotations.Warmup;

/**
 * What this measures: one merge operator call on tensors already in the backend (the compute of one output tensor,
 * without I/O), the setting of the targets: one {@code n}×{@code n} float32 tensor, a base and three models
 * (two for slerp). Score: milliseconds per call; nanoseconds per output element = score × 1e6 / n².
 *
 * <p>How to run: {@code ./build -q -DskipTests package -pl benchmarks -am && java --enable-native-access=ALL-UNNAMED
 * -jar benchmarks/target/benchmarks.jar MergeKernel -p backend=djl -p op=ties}.
 */
@State(Scope.Thread)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.MILLISECONDS)
@Warmup(iterations = 2, time = 2)
@Measurement(iterations = 3, time = 3)
@Fork(value = 1, jvmArgsAppend = {"--enable-native-access=ALL-UNNAMED", "--sun-misc-unsafe-memory-access=allow", "-Xmx6g", "-Dai.djl.offline=true",
    "-Dai.djl.pytorch.num_threads=2"})
public class MergeKernelBenchmark {
  @Param({"djl", "reference", "nd4j"})
  public String backend;

  @Param({"linear", "task_arithmetic", "ties", "dare_ties", "breadcrumbs", "della", "slerp"})
  public String op;

  @Param({"4096"})
  public int n;

  /**
   * Values of the inputs: "f32" (random float32, as mergekit's figures were measured), or "bf16" (the same values rounded
   * to bf16, as the tensors of a bf16 checkpoint are when merged in float32: their differences have few distinct
   * magnitudes, which the row sorts and top-k selections exploit).
   */
  @Param({"f32"})
  public String values;

  private Backend be;
  private TensorScope inputs;
  private float[][] data;
  private MergeOperator operator;
  private Shape shape;

  @Setup(Level.Trial)
  public void setup() {
    be = Backends.create(backend, Device.CPU);
    operator = Operators.builtIn().get(op);
    shape = Shape.of(n, n);
    SplittableRandom r = new SplittableRandom(42);
    int models = op.equals("slerp") ? 1 : 3;
    data = new float[models + 1][n * n];
    for (int j = 0; j < n * n; j++) {
      data[0][j] = (float) (0.02 * r.nextGaussian());
    }
    for (int i = 1; i <= models; i++) {
      for (int j = 0; j < n * n; j++) {
        data[i][j] = data[0][j] + (float) (0.002 * r.nextGaussian());
      }
    }
    if (values.equals("bf16")) {
      for (float[] d : data) {
        for (int j = 0; j < d.length; j++) {
          d[j] = DTypeCodec.roundTo(d[j], DType.BF16);
        }
      }
    } else if (!values.equals("f32")) {
      throw new IllegalArgumentException("values must be f32 or bf16, not " + values);
    }
  }

  @TearDown(Level.Trial)
  public void tearDown() {
    be.close();
  }

  private Params params(ParamSpec.Scope scope, Map<String, Object> over) {
    return Params.withDefaults(operator.spec(), scope, over);
  }

  @Benchmark
  public double merge() {
    // Inputs are handed over as the merge executor hands them (Backend.adopt): without a copy on the reference
    // backend (whose fused kernels never modify their inputs), uploaded on the others (the 'upload' benchmark measures
    // that part alone). The result's array goes back to the pool, as the executor returns it once written.
    try (TensorScope scope = TensorScope.root("bench")) {
      Tensor base = be.adopt(scope, data[0], shape);
      List<Tensor> ms = new ArrayList<>();
      List<Params> ps = new ArrayList<>();
      if (op.equals("slerp")) {
        ms.add(base);
        ms.add(be.adopt(scope, data[1], shape));
        ps.add(Params.EMPTY);
        ps.add(Params.EMPTY);
      } else {
        for (int i = 1; i < data.length; i++) {
          ms.add(be.adopt(scope, data[i], shape));
          ps.add(params(ParamSpec.Scope.PER_MODEL, Map.of("weight", 0.4, "density", 0.5, "gamma", 0.01, "epsilon", 0.1)));
        }
      }
      Params g = params(ParamSpec.Scope.GLOBAL, Map.of("t", 0.3));
      Tensor out = operator.merge(new MergeInputs("model.layers.0.mlp.up_proj.weight", op.equals("linear") ? null : base, ms, ps, g, List.of(), 7, be, scope));
      double s = out.shape().numel();
      dev.graft.internal.FloatArrays.give(out.heapArray());
      return s;
    }
  }

  @Benchmark
  public double upload() {
    try (TensorScope scope = TensorScope.root("bench")) {
      double s = 0;
      for (float[] d : data) {
        s += be.fromFloats(scope, d, shape).shape().numel();
      }
      return s;
    }
  }
}
