package dev.graft.bench;

import dev.graft.io.DTypeCodec;
import dev.graft.tensor.DType;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
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
 * What this measures: one thread decoding stored elements (off-heap, as from a memory mapping) into a float[], and
 * encoding a float[] into stored elements, per dtype and size. Scores are calls per second; elements per second
 * are the score times {@code n}.
 *
 * <p>How to run: {@code ./build -q -DskipTests package -pl benchmarks -am && java -jar benchmarks/target/benchmarks.jar DTypeCodec}.
 */
@State(Scope.Thread)
@BenchmarkMode(Mode.Throughput)
@OutputTimeUnit(TimeUnit.SECONDS)
@Warmup(iterations = 3, time = 1)
@Measurement(iterations = 5, time = 1)
@Fork(value = 1, jvmArgsAppend = {"--enable-native-access=ALL-UNNAMED"})
public class DTypeCodecBenchmark {

  @Param({"BF16", "F16", "F8_E4M3"})
  public String dtype;

  /** 64 Ki elements stay in cache; 4 Mi elements (24 MB with the floats) stream from memory. */
  @Param({"65536", "4194304"})
  public int n;

  private DType type;
  private Arena arena;
  private MemorySegment stored;
  private float[] floats;

  @Setup(Level.Trial)
  public void setup() {
    type = DType.valueOf(dtype);
    arena = Arena.ofShared();
    stored = arena.allocate((long) n * type.byteSize(), 64);
    floats = new float[n];
    SplittableRandom r = new SplittableRandom(1);
    for (int i = 0; i < n; i++) {
      floats[i] = (float) (r.nextGaussian() * 0.02);
    }
    DTypeCodec.encode(floats, 0, n, type, stored, 0);
  }

  @TearDown(Level.Trial)
  public void tearDown() {
    arena.close();
  }

  /** Elements per second = score (invocations/us) x n; reported per element by dividing in the README table. */
  @Benchmark
  public float[] decode() {
    DTypeCodec.decode(stored, 0, type, floats, 0, n);
    return floats;
  }

  @Benchmark
  public MemorySegment encode() {
    DTypeCodec.encode(floats, 0, n, type, stored, 0);
    return stored;
  }
}
