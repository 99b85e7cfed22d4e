package dev.graft.plan;

import dev.graft.io.Checkpoint;
import dev.graft.io.DTypeCodec;
import dev.graft.io.MappedTensor;
import dev.graft.io.Progress;
import dev.graft.io.SafetensorsWriter;
import dev.graft.op.FisherMerge;
import dev.graft.op.MergeInputs;
import dev.graft.op.Params;
import dev.graft.op.StreamedInputs;
import dev.graft.tensor.DType;
import dev.graft.tensor.Shape;
import dev.graft.tensor.Tensor;
import dev.graft.tensor.TensorScope;
import dev.graft.tensor.spi.Backend;
import dev.graft.tensor.spi.SeededMasks;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.Semaphore;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.Function;

/**
 * Runs a {@link MergePlan}: one task per output tensor, inputs read lazily from memory-mapped shards just before use
 * and freed right after, results written straight into their place in the output shards. Tasks run on
 * {@code threads} workers in plan order (which follows the input files), admitted under a memory budget so that peak
 * memory is a few tensors whatever the model size.
 */
public final class MergeExecutor {
  /**
   * @param backend tensor backend the operators run on
   * @param seed run seed; every random draw derives from it and the tensor name
   * @param shardBytes maximum bytes per output shard
   * @param threads concurrent tensor tasks
   * @param memoryBudget bytes of tensor data in flight across workers (a larger task runs alone)
   */
  public record Options(Backend backend, long seed, long shardBytes, int threads, long memoryBudget) {
    public Options {
      if (threads < 1) {
        throw new IllegalArgumentException("threads must be at least 1, found " + threads);
      }
    }
  }

  /**
   * What a run did.
   *
   * @param streamed how many of the tensors were merged as streams (never held whole)
   */
  public record Result(int tensors, long bytesRead, long bytesWritten, List<Path> files, int streamed) {}

  private MergeExecutor() {}

  /** Where merged tensors go: the output shards, or memory. Called from several worker threads at once. */
  interface Sink {
    /** Stores a merged tensor, computed in float32; the sink converts it to the task's output dtype. */
    void put(TensorTask t, float[] values);

    /** Stores a tensor copied unchanged from an input checkpoint; returns the bytes read. */
    long copy(TensorTask t, Checkpoint from, String tensor);

    /** Whether the sink keeps the arrays given to {@link #put} (else they may be reused once it returns). */
    default boolean keeps() {
      return false;
    }

    /** Whether the sink takes a tensor in ranges ({@link #putRange}), so that it can be merged as a stream. */
    default boolean takesRanges() {
      return false;
    }

    /** Stores {@code values[0, len)} as elements [from, from + len) of a merged tensor. */
    default void putRange(TensorTask t, long from, float[] values, int len) {
      throw new UnsupportedOperationException();
    }
  }

  /**
   * Merges into {@code outDir} (created by the caller): the shards and, when sharded, the index.
   *
   * @param locate the checkpoint path of a model view whose root is null (an earlier stage's output)
   */
  public static Result run(MergePlan plan, Path outDir, Options o, Progress progress, Function<ModelView, Path> locate) {
    List<SafetensorsWriter.Entry> entries = new ArrayList<>();
    for (TensorTask t : plan.tasks()) {
      entries.add(new SafetensorsWriter.Entry(t.name(), t.outDtype(), t.shape()));
    }
    Map<String, String> meta = new LinkedHashMap<>();
    meta.put("format", "pt");
    meta.put("merge_method", plan.recipe().mergeMethod());
    meta.put("producer", "graft");
    try (SafetensorsWriter w = SafetensorsWriter.create(outDir, entries, o.shardBytes(), meta)) {
      Sink sink = new Sink() {
        @Override
        public void put(TensorTask t, float[] values) {
          w.writeFloats(t.name(), 0, values, 0, values.length);
        }

        @Override
        public long copy(TensorTask t, Checkpoint from, String tensor) {
          try (MappedTensor m = from.map(tensor)) {
            w.write(t.name(), 0, m.segment().asByteBuffer());
            return m.segment().byteSize();
          }
        }

        @Override
        public boolean takesRanges() {
          return true;
        }

        @Override
        public void putRange(TensorTask t, long from, float[] values, int len) {
          w.writeFloats(t.name(), from, values, 0, len);
        }
      };
      long[] io = execute(plan, o, progress, locate, sink);
      return new Result(plan.tasks().size(), io[0], io[1], w.finish(), (int) io[2]);
    }
  }

  /**
   * Merges into memory: every output tensor as float32 values, already rounded to its output dtype, so a model built
   * from them computes exactly what the written checkpoint would. Keys follow the plan's order.
   *
   * @param locate the checkpoint path of a model view whose root is null (an earlier stage's output)
   */
  public static Map<String, float[]> runInMemory(MergePlan plan, Options o, Progress progress, Function<ModelView, Path> locate) {
    Map<String, float[]> out = new java.util.concurrent.ConcurrentHashMap<>();
    Sink sink = new Sink() {
      @Override
      public void put(TensorTask t, float[] values) {
        out.put(t.name(), roundTrip(values, t.outDtype()));
      }

      @Override
      public long copy(TensorTask t, Checkpoint from, String tensor) {
        float[] v = from.readFloats(tensor);
        out.put(t.name(), roundTrip(v, t.outDtype()));
        return from.info(tensor).byteSize();
      }

      @Override
      public boolean keeps() {
        return true;
      }
    };
    execute(plan, o, progress, locate, sink);
    Map<String, float[]> ordered = new LinkedHashMap<>();
    for (TensorTask t : plan.tasks()) {
      ordered.put(t.name(), out.get(t.name()));
    }
    return ordered;
  }

  /** {@code values} as they read back after being stored as {@code dtype} (in place; the same array for F32). */
  static float[] roundTrip(float[] values, DType dtype) {
    if (dtype == DType.F32) {
      return values;
    }
    java.lang.foreign.MemorySegment seg = java.lang.foreign.MemorySegment.ofArray(new byte[Math.toIntExact(values.length * (long) dtype.byteSize())]);
    DTypeCodec.encode(values, 0, values.length, dtype, seg, 0);
    DTypeCodec.decode(seg, 0, dtype, values, 0, values.length);
    return values;
  }

  /** Runs every task into {@code sink}; returns {bytes read, bytes written, tensors streamed}. */
  private static long[] execute(MergePlan plan, Options o, Progress progress, Function<ModelView, Path> locate, Sink sink) {
    List<Checkpoint> cps = new ArrayList<>();
    List<Checkpoint> fishers = new ArrayList<>();
    try {
      for (ModelView v : plan.models()) {
        cps.add(Checkpoint.open(v.root() != null ? v.root() : locate.apply(v), v.lora()));
      }
      for (Path f : plan.fisherFiles()) {
        fishers.add(Checkpoint.open(f));
      }
      Map<Integer, Double> fisherNorms = fisherNorms(plan, fishers);
      Map<TensorTask, List<Params>> trims = GlobalTrim.compute(plan, cps);
      long totalBytes = plan.bytesToWrite();
      AtomicLong read = new AtomicLong();
      AtomicLong written = new AtomicLong();
      AtomicInteger done = new AtomicInteger();
      AtomicInteger streamedTasks = new AtomicInteger();
      int n = plan.tasks().size();
      try (TensorScope root = TensorScope.root("merge")) {
        long budget = Math.max(1, o.memoryBudget());
        int total = (int) Math.min(Integer.MAX_VALUE - 1, Math.max(1, budget >> 20));
        Semaphore memory = new Semaphore(total, true);
        AtomicInteger next = new AtomicInteger();
        ExecutorService pool = Executors.newFixedThreadPool(o.threads(), r -> {
          Thread th = new Thread(r, "graft-merge");
          th.setDaemon(true);
          return th;
        });
        try {
          List<Future<?>> fs = new ArrayList<>();
          for (int k = 0; k < o.threads(); k++) {
            fs.add(pool.submit(() -> {
              for (int i = next.getAndIncrement(); i < n; i = next.getAndIncrement()) {
                TensorTask t = plan.tasks().get(i);
                boolean streamed = sink.takesRanges() && streams(plan, t, o.backend().name());
                if (streamed) {
                  streamedTasks.incrementAndGet();
                }
                // A task larger than the whole budget takes all of it and so runs alone; a streamed one holds a
                // few windows per thread.
                int permits = streamed ? 1 : (int) Math.max(1, Math.min(total, estimate(t) >> 20));
                memory.acquireUninterruptibly(permits);
                try {
                  read.addAndGet(streamed ? runStreamed(plan, t, cps, fishers, fisherNorms, trims, sink, o)
                      : runTask(plan, t, cps, fishers, fisherNorms, trims, sink, o, root));
                } finally {
                  memory.release(permits);
                }
                written.addAndGet(t.shape().numel() * t.outDtype().byteSize());
                progress.update(done.incrementAndGet(), n, written.get(), totalBytes);
              }
              return null;
            }));
          }
          for (Future<?> f : fs) {
            f.get();
          }
        } catch (ExecutionException e) {
          pool.shutdownNow();
          Throwable c = e.getCause();
          if (c instanceof RuntimeException re) {
            throw re;
          }
          if (c instanceof Error er) {
            throw er;
          }
          throw new IllegalStateException(c);
        } catch (InterruptedException e) {
          Thread.currentThread().interrupt();
          throw new IllegalStateException("interrupted", e);
        } finally {
          pool.shutdownNow();
        }
        return new long[] {read.get(), written.get(), streamedTasks.get()};
      }
    } finally {
      cps.forEach(Checkpoint::close);
      fishers.forEach(Checkpoint::close);
    }
  }

  /**
   * Bytes of float32 data a streamed task holds at its peak: per thread, a window of every input and Fisher tensor and
   * a few more (the output, masks), whatever the tensor's size.
   */
  public static long streamedEstimate(TensorTask t) {
    return (t.reads().size() + t.fishers().size() + 4L) * dev.graft.op.StreamedInputs.WINDOW * 4L;
  }

  /** Bytes of float32 data a task holds at its peak: its inputs plus a few temporaries of the output's size. */
  public static long estimate(TensorTask t) {
    long in = 0;
    for (TensorTask.Input i : t.reads()) {
      in += i.shape().numel() * 4L;
    }
    return 2 * in + 4 * t.shape().numel() * 4L;
  }

  /** The seed of a tensor's random draws: the run seed mixed with a hash of the name (not with its position). */
  public static long tensorSeed(long runSeed, String name) {
    long h = 0xcbf29ce484222325L;
    for (byte b : name.getBytes(StandardCharsets.UTF_8)) {
      h ^= b & 0xff;
      h *= 0x100000001b3L;
    }
    return SeededMasks.mix(runSeed, h);
  }

  /**
   * Tensors of at least this many elements are merged as streams where the operator and the sink allow it (system
   * property {@code graft.stream.min}; 0, the default, streams every tensor that can be). Not final: tests compare both
   * ways.
   */
  static long streamMin = Long.getLong("graft.stream.min", 0);

  /**
   * Whether a task is merged as a stream ({@link dev.graft.op.MergeOperator#mergeStreamed}) when written to files: on
   * the reference backend (whose floats the streamed kernels reproduce), with a base when the operator needs one,
   * inputs and Fisher tensors of the output's shape (no vocabulary rows to rectify), at most 2^31 - 9 elements
   * (positions are ints), by an operator that streams these parameters. Such a task holds a few windows per thread instead of its inputs.
   */
  public static boolean streams(MergePlan plan, TensorTask t, String backend) {
    boolean baseOk = t.base() != null || plan.operator().spec().base() != dev.graft.op.OperatorSpec.BaseUse.REQUIRED;
    long numel = t.shape().numel();
    return t.copy() == null && backend.equals("reference") && numel >= Math.max(1, streamMin) && numel <= Integer.MAX_VALUE - 8 && baseOk && !t.rectifiesRows()
        && t.fishers().stream().allMatch(f -> f.shape().equals(t.shape())) && plan.operator().streams(t.shape(), t.modelParams(), t.global());
  }

  private static final dev.graft.internal.DirectBuffers STREAM_BUFFER = new dev.graft.internal.DirectBuffers();

  /**
   * A task's per-model parameters as the operator sees them: with the whole-model trim thresholds of {@code trim_scope:
   * model} where computed, or with each model's Fisher norm over the whole merge for the {@code fisher} operator.
   */
  private static List<Params> params(TensorTask t, Map<TensorTask, List<Params>> trims, Map<Integer, Double> fisherNorms) {
    if (t.fishers().isEmpty()) {
      return trims.getOrDefault(t, t.modelParams());
    }
    List<Params> params = new ArrayList<>();
    for (int i = 0; i < t.fishers().size(); i++) {
      params.add(t.modelParams().get(i).with(FisherMerge.NORM, fisherNorms.getOrDefault(t.fishers().get(i).model(), 1.0)));
    }
    return params;
  }

  /** Merges one task as a stream: inputs read a window at a time with positional reads, results written per window. */
  private static long runStreamed(
      MergePlan plan, TensorTask t, List<Checkpoint> cps, List<Checkpoint> fishers, Map<Integer, Double> fisherNorms,
      Map<TensorTask, List<Params>> trims, Sink sink, Options o) {
    TensorTask.Input[] inputs = t.models().toArray(TensorTask.Input[]::new);
    // Positional reads into a small buffer per thread: a mapping would add its resident pages to the process's
    // memory for as long as the task runs, and page faults on every fresh mapping.
    StreamedInputs.Source source = (input, from, len, dst) -> {
      TensorTask.Input in;
      Checkpoint cp;
      if (input >= 0 || input == StreamedInputs.BASE) {
        in = input == StreamedInputs.BASE ? t.base() : inputs[input];
        cp = cps.get(in.model());
      } else {
        in = t.fishers().get(StreamedInputs.fisher(input)); // fisher() is its own inverse
        cp = fishers.get(in.model());
      }
      DType dt = cp.info(in.tensor()).dtype();
      java.nio.ByteBuffer buf = STREAM_BUFFER.get(len * dt.byteSize());
      cp.read(in.tensor(), from, len, buf);
      DTypeCodec.decode(java.lang.foreign.MemorySegment.ofBuffer(buf.flip()), 0, dt, dst, 0, len);
    };
    StreamedInputs in = new StreamedInputs(t.name(), t.shape(), params(t, trims, fisherNorms), t.base() != null, t.baseIndex(), t.global(), tensorSeed(o.seed(), t.name()), source,
        (from, values, len) -> sink.putRange(t, from, values, len));
    try {
      plan.operator().mergeStreamed(in);
    } catch (IllegalArgumentException e) {
      throw badParameters(plan, e);
    }
    long bytes = 0; // each input tensor once, as the whole-tensor path counts them (a base among the models once)
    for (TensorTask.Input i : t.baseIndex() >= 0 ? t.models() : t.reads()) {
      bytes += cps.get(i.model()).info(i.tensor()).byteSize();
    }
    return bytes;
  }

  private static long runTask(
      MergePlan plan, TensorTask t, List<Checkpoint> cps, List<Checkpoint> fishers, Map<Integer, Double> fisherNorms,
      Map<TensorTask, List<Params>> trims, Sink sink, Options o, TensorScope root) {
    if (t.copy() != null) {
      return sink.copy(t, cps.get(t.copy().model()), t.copy().tensor());
    }
    long bytes = 0;
    Backend be = o.backend();
    try (TensorScope scope = root.child(t.name())) {
      // Host arrays first, so vocabulary rows can be rectified before upload.
      List<float[]> data = new ArrayList<>();
      List<Shape> shapes = new ArrayList<>();
      for (TensorTask.Input in : t.models()) {
        data.add(cps.get(in.model()).readFloats(in.tensor()));
        shapes.add(in.shape());
        bytes += cps.get(in.model()).info(in.tensor()).byteSize();
      }
      float[] baseData = null;
      if (t.base() != null) {
        if (t.baseIndex() >= 0) {
          baseData = data.get(t.baseIndex());
        } else {
          baseData = cps.get(t.base().model()).readFloats(t.base().tensor());
          bytes += cps.get(t.base().model()).info(t.base().tensor()).byteSize();
        }
      }
      if (t.rectifiesRows()) {
        float[] fill = baseData;
        Shape fillShape = t.base() != null ? t.base().shape() : null;
        if (fill == null && t.fillBase() != null) {
          fill = cps.get(t.fillBase().model()).readFloats(t.fillBase().tensor());
          fillShape = t.fillBase().shape();
        }
        List<float[]> all = new ArrayList<>(data);
        List<Shape> allShapes = new ArrayList<>(shapes);
        if (baseData != null && t.baseIndex() < 0) {
          all.add(baseData);
          allShapes.add(t.base().shape());
        }
        List<float[]> fixed;
        if (t.unionRows()) {
          List<int[]> rows = new ArrayList<>();
          t.models().forEach(in -> rows.add(in.rows()));
          if (baseData != null && t.baseIndex() < 0) {
            rows.add(t.base().rows());
          }
          int[] fillRows = t.base() != null ? t.base().rows() : t.fillBase() != null ? t.fillBase().rows() : null;
          List<String> labels = new ArrayList<>();
          t.models().forEach(in -> labels.add(plan.models().get(in.model()).label()));
          if (baseData != null && t.baseIndex() < 0) {
            labels.add(plan.models().get(t.base().model()).label());
          }
          TensorTask.Input fillIn = t.base() != null ? t.base() : t.fillBase();
          fixed = Vocab.byToken(all, rows, fill, fillRows, t.shape(), labels, fillIn == null ? null : plan.models().get(fillIn.model()).label(),
              plan.union() == null ? Map.of() : plan.union().overrides());
        } else {
          fixed = Vocab.rectify(all, allShapes, fill, fillShape, t.shape());
        }
        for (int i = 0; i < data.size(); i++) {
          data.set(i, fixed.get(i));
        }
        if (baseData != null) {
          baseData = t.baseIndex() >= 0 ? data.get(t.baseIndex()) : fixed.get(fixed.size() - 1);
        }
      }
      List<Tensor> models = new ArrayList<>();
      Tensor base = null;
      for (int i = 0; i < data.size(); i++) {
        models.add(be.adopt(scope, data.get(i), t.shape())); // freshly read: handed over without a copy where the backend can
        data.set(i, null);
      }
      if (baseData != null) {
        base = t.baseIndex() >= 0 ? models.get(t.baseIndex()) : be.adopt(scope, baseData, t.shape());
      }
      List<Tensor> fs = new ArrayList<>();
      for (TensorTask.Input f : t.fishers()) {
        fs.add(be.adopt(scope, fishers.get(f.model()).readFloats(f.tensor()), t.shape()));
      }
      List<Params> params = params(t, trims, fisherNorms);
      MergeInputs in = new MergeInputs(t.name(), base, models, params, t.global(), fs, tensorSeed(o.seed(), t.name()), be, scope);
      // The inputs' arrays (handed to heap backends without a copy) go back to the pool once the result is stored;
      // noted now, as operators may close their inputs.
      java.util.Set<float[]> done = java.util.Collections.newSetFromMap(new java.util.IdentityHashMap<>());
      for (Tensor x : in.models()) {
        done.add(x.heapArray());
      }
      if (base != null) {
        done.add(base.heapArray());
      }
      for (Tensor f : fs) {
        done.add(f.heapArray());
      }
      Tensor out;
      try {
        out = plan.operator().merge(in);
      } catch (IllegalArgumentException e) {
        throw badParameters(plan, e);
      }
      if (!out.shape().equals(t.shape())) {
        throw new IllegalStateException(plan.operator().spec().name() + " returned shape " + out.shape() + " for " + t.name() + ", expected " + t.shape());
      }
      float[] values = out.heapArray(); // the result's own array where the backend keeps one (nothing else holds it)
      if (values == null) {
        values = out.toFloatArray();
      }
      sink.put(t, values);
      // ... and the result's too, unless the sink keeps it; never the result when an operator returned an input.
      done.remove(values);
      if (!sink.keeps()) {
        done.add(values);
      }
      scope.close();
      done.forEach(dev.graft.internal.FloatArrays::give);
      return bytes;
    }
  }

  /**
   * An operator's {@link IllegalArgumentException} (parameters out of range for a tensor, its message naming it) as
   * bad input: the recipe has to change, so the command exits with code 2. Nothing is left behind: the output is
   * written under a temporary name.
   */
  private static dev.graft.InvalidInputException badParameters(MergePlan plan, IllegalArgumentException e) {
    return new dev.graft.InvalidInputException(plan.operator().spec().name() + ": " + e.getMessage() + " (change the recipe's parameters)", e);
  }

  /** Global L2 norm of each Fisher file over the tensors the plan merges (computed before merging). */
  private static Map<Integer, Double> fisherNorms(MergePlan plan, List<Checkpoint> fishers) {
    Map<Integer, Double> sums = new HashMap<>();
    if (fishers.isEmpty()) {
      return sums;
    }
    java.util.Set<String> seen = new java.util.HashSet<>();
    for (TensorTask t : plan.tasks()) {
      for (TensorTask.Input f : t.fishers()) {
        if (seen.add(f.model() + "/" + f.tensor())) {
          float[] d = fishers.get(f.model()).readFloats(f.tensor());
          double s = 0;
          for (float x : d) {
            s += (double) x * x;
          }
          sums.merge(f.model(), s, Double::sum);
        }
      }
    }
    sums.replaceAll((k, v) -> Math.sqrt(v));
    return sums;
  }
}
