package dev.graft.op;

import dev.graft.tensor.Shape;
import java.util.List;
import java.util.Objects;

/**
 * One output tensor's inputs as {@link MergeOperator#mergeStreamed} sees them: not as whole tensors but as ranges of
 * entries decoded on demand from the checkpoints, with the result written range by range. Memory is then a few
 * windows per thread whatever the tensor's size, and no input is ever held whole.
 *
 * @param tensor the output tensor's name (for messages and seeds)
 * @param shape the shape of every input and of the output
 * @param modelParams resolved per-model parameters, in recipe order
 * @param hasBase whether there is a base model
 * @param baseIndex which model is the base (SLERP), or -1: then the base, if any, is read as {@link #BASE}
 * @param global resolved global parameters
 * @param seed this tensor's seed, derived from the run seed and the tensor name
 * @param source where entries come from
 * @param sink where merged entries go
 */
public record StreamedInputs(
    String tensor, Shape shape, List<Params> modelParams, boolean hasBase, int baseIndex, Params global, long seed, Source source, Sink sink) {
  /** Entries per window: what a streamed operator reads and writes at a time, per thread. */
  public static final int WINDOW = 1 << 15;

  /** The input number of the base in {@link Source#read}. */
  public static final int BASE = -1;

  /**
   * The input number of model {@code i}'s diagonal Fisher tensor in {@link Source#read} (the {@code fisher} operator);
   * its own inverse: {@code fisher(fisher(i)) == i}.
   */
  public static int fisher(int i) {
    return -2 - i;
  }

  public StreamedInputs {
    Objects.requireNonNull(tensor, "tensor");
    Objects.requireNonNull(shape, "shape");
    modelParams = List.copyOf(modelParams);
    Objects.requireNonNull(source, "source");
    Objects.requireNonNull(sink, "sink");
  }

  /** Reads entries of the inputs. Called from several threads at once. */
  public interface Source {
    /**
     * Decodes entries [from, from + len) (row-major) of model {@code input} ({@link #BASE} for the base) into float32
     * at {@code dst[0, len)}.
     */
    void read(int input, long from, int len, float[] dst);
  }

  /** Takes merged entries. Called from several threads at once, each range once. */
  public interface Sink {
    /** Stores {@code values[0, len)} as entries [from, from + len) of the output. */
    void put(long from, float[] values, int len);
  }

  /** Number of merged models. */
  public int models() {
    return modelParams.size();
  }

  /** The seed of model {@code i}'s random draws for this tensor (as {@link MergeInputs#seed(int)}). */
  public long seed(int i) {
    return dev.graft.tensor.spi.SeededMasks.mix(seed, i);
  }
}
