package dev.graft.bench;

import dev.graft.data.Dataset;
import dev.graft.data.ProceduralDigits;
import dev.graft.io.Progress;
import dev.graft.model.CausalLm;
import dev.graft.model.Classifier;
import dev.graft.model.ClassifierConfig;
import dev.graft.synth.SynthSpec;
import dev.graft.synth.SyntheticCheckpoints;
import dev.graft.tensor.DType;
import dev.graft.tensor.Device;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.SplittableRandom;
import java.util.concurrent.TimeUnit;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Level;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.TearDown;
import org.openjdk.jmh.annotations.Warmup;

/**
 * What this measures: the model runtime's two targets. {@code mlpEvaluate}: loss and accuracy of an MLP
 * 64→256→10 over 1,437 prepared 8x8 digits (the M2N2 setting; score in ms per evaluation). {@code llamaForward}:
 * logits of a batch of 4 × 128 tokens through a ~100 M parameter synthetic Llama (vocab 32,000, hidden 768,
 * 8 layers, 12 heads / 4 KV heads, intermediate 2,048, untied); tokens/s = 512 / score in seconds.
 *
 * <p>How to run: {@code ./build -q -DskipTests package -pl benchmarks -am && java --enable-native-access=ALL-UNNAMED
 * -jar benchmarks/target/benchmarks.jar ModelBenchmark}.
 */
@State(Scope.Thread)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.MILLISECONDS)
@Warmup(iterations = 2, time = 3)
@Measurement(iterations = 3, time = 5)
@Fork(value = 1, jvmArgsAppend = {"--enable-native-access=ALL-UNNAMED", "--sun-misc-unsafe-memory-access=allow", "-Xmx6g", "-Dai.djl.offline=true",
    "-Dai.djl.pytorch.num_threads=2"})
public class ModelBenchmark {
  private Classifier mlp;
  private Classifier.Prepared digits;
  private CausalLm lm;
  private Path dir;
  private int[][] batch;

  @Setup(Level.Trial)
  public void setUp() throws IOException {
    Dataset d = ProceduralDigits.generate(8, 1437, 1);
    mlp = Classifier.init(ClassifierConfig.mlp(64, new int[] {256}, 10), 1, Device.CPU);
    digits = mlp.prepare(d);
    dir = Files.createTempDirectory("graft-bench-lm");
    SynthSpec s = new SynthSpec(32_000, 768, 8, 12, 4, 2048, false, DType.BF16, Long.MAX_VALUE, 0, 1, 1);
    SyntheticCheckpoints.writeModel(s, 0, dir, 2, Progress.NONE);
    lm = CausalLm.load(dir, Device.CPU);
    SplittableRandom r = new SplittableRandom(3);
    batch = new int[4][128];
    for (int[] row : batch) {
      for (int i = 0; i < row.length; i++) {
        row[i] = r.nextInt(32_000);
      }
    }
  }

  @TearDown(Level.Trial)
  public void tearDown() throws IOException {
    digits.close();
    mlp.close();
    lm.close();
    try (var files = Files.list(dir)) {
      for (Path p : files.toList()) {
        Files.delete(p);
      }
    }
    Files.delete(dir);
  }

  @Benchmark
  public Classifier.Metrics mlpEvaluate() {
    return mlp.evaluate(digits);
  }

  @Benchmark
  public double llamaForward() {
    int[] lengths = {128, 128, 128, 128};
    return lm.nextTokenLogProbs(batch, lengths)[0][0];
  }
}
