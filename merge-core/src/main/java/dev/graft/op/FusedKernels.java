package dev.graft.op;

import dev.graft.internal.Parallel;
import dev.graft.tensor.Tensor;
import dev.graft.tensor.spi.SeededMasks;
import java.util.List;

/**
 * Single-pass kernels over heap float arrays for the operators that dominate merge time, used when every input lives
 * on the heap (the reference backend, Graft's default on CPU). Each computes exactly the float32 operations, in the
 * same order, as the operator's tensor-layer formulation, so the bytes do not depend on the path (tested against the
 * other backends); what changes is that there are no temporaries, one pass instead of ten or twenty, both cores, and
 * a top-k selection linear in the tensor size (one or two histogram passes on the magnitudes' bits) instead of a sort.
 *
 * <p>The same kernels run on streamed tensors ({@link StreamedInputs}): over windows of entries decoded from the
 * checkpoints into per-thread scratch arrays, positions shifted by the window's start, the result written per window.
 * Passes that need the whole tensor (top-k histograms, L1 sums, norms) visit the windows in the blocks and order the
 * whole-array path uses, so the bytes are the same either way ({@code StreamedMergeTest}).
 */
final class FusedKernels {
  private FusedKernels() {}

  /** The heap arrays of {@code ts} when every one has them, else null. */
  static float[][] heap(List<Tensor> ts) {
    float[][] out = new float[ts.size()][];
    for (int i = 0; i < out.length; i++) {
      out[i] = ts.get(i).heapArray();
      if (out[i] == null) {
        return null;
      }
    }
    return out;
  }

  /**
   * The k entries of largest magnitude, ties ranked by position (a later entry ranks higher, as {@link
   * HostMasks#rowBand} ranks them): the entries whose key is above {@code key}, and those whose key equals it from
   * position {@code from} on.
   *
   * @param key magnitude key of the k-th largest entry
   * @param from first position of an entry with that key in the set
   */
  record TopK(int key, int from) {
    static final TopK NONE = new TopK(Integer.MAX_VALUE, Integer.MAX_VALUE);
    static final TopK ALL = new TopK(-1, 0);

    /** Whether the entry at position {@code i} with key {@code k} is in the set. */
    boolean contains(int k, int i) {
      return k > key || (k == key && i >= from);
    }
  }

  /**
   * The top {@code k} entries by magnitude of {@code x - b} (or of {@code x} when {@code b} is null), in linear
   * time: a histogram of the keys' upper 15 bits finds the bucket of the k-th largest, a histogram of the lower 16
   * bits within it finds its key, and a scan from the end finds where its ties start. The first histogram also counts
   * the keys with a non-zero lower half; the rest of a bucket all have its smallest key, so when the k-th largest is
   * among them the second pass is skipped. Differences of bf16 weights have at most 8 significant bits unless one of
   * the two is much smaller, so for bf16 checkpoints that is the common case (TIES on a bf16 family: 3 passes over the
   * inputs become 2).
   */
  static TopK topK(float[] x, float[] b, long k) {
    return topK(x, b, new long[] {k})[0];
  }

  /** {@link #topK(float[], float[], long)} for several k at once, sharing the passes over the data. */
  static TopK[] topK(float[] x, float[] b, long[] ks) {
    return topK(Entries.of(x, b), new long[][] {ks})[0];
  }

  /**
   * The top-k sets of {@code ks[q]} over model {@code q} of {@code src}, for every model at once (one pass reads the
   * base once for all of them), whose entries are viewed a window at a time: the same passes and the same blocks, so
   * the same result, whether the values are whole arrays or decoded from a checkpoint per window.
   */
  static TopK[][] topK(Entries src, long[][] ks) {
    int n = src.size();
    int models = ks.length;
    TopK[][] out = new TopK[models][];
    int blocks = Parallel.blocks(n);
    boolean[] needs = new boolean[models];
    boolean any = false;
    for (int q = 0; q < models; q++) {
      out[q] = new TopK[ks[q].length];
      for (int j = 0; j < ks[q].length; j++) {
        long k = ks[q][j];
        if (k <= 0) {
          out[q][j] = TopK.NONE;
        } else if (k >= n) {
          out[q][j] = TopK.ALL;
        } else {
          needs[q] = any = true;
        }
      }
    }
    if (!any) {
      return out;
    }
    // pass 1, per block and model: a histogram of the keys' upper 15 bits, each counter packing the entries (low 32
    // bits) and, above them, the "fine" entries among them, whose key has a non-zero lower half
    long[][][] high = highHistograms(src, blocks, needs);
    long[][] count = new long[models][];
    long[][] fine = new long[models][];
    for (int q = 0; q < models; q++) {
      if (needs[q]) {
        count[q] = new long[1 << 15];
        fine[q] = new long[1 << 15];
        for (int bl = 0; bl < blocks; bl++) {
          long[] h = high[bl][q];
          for (int i = 0; i < h.length; i++) {
            count[q][i] += h[i] & 0xFFFFFFFFL;
            fine[q][i] += h[i] >>> 32;
          }
        }
      }
    }
    // per model: the bucket of the upper 15 key bits holding each k-th largest, and the count above it. Within a
    // bucket every coarse key (lower half zero: bf16 differences, mostly) is the bucket's smallest key, so when the
    // k-th largest lies below the bucket's fine entries its key is known now and pass 2 is not needed for it
    int[][] bucket = new int[models][];
    long[][] above = new long[models][];
    int[][] wanted = new int[models][];
    byte[][] slot = new byte[models][]; // which histogram an upper-bits bucket goes to (0: none)
    boolean[] needsLow = new boolean[models];
    boolean anyLow = false;
    for (int q = 0; q < models; q++) {
      bucket[q] = new int[ks[q].length];
      above[q] = new long[ks[q].length];
      java.util.TreeSet<Integer> w = new java.util.TreeSet<>();
      for (int j = 0; j < ks[q].length; j++) {
        if (out[q][j] == null) {
          long[] a = {0};
          int bk = MagnitudeRank.descend(count[q], ks[q][j], a);
          bucket[q][j] = bk;
          above[q][j] = a[0];
          long rank = ks[q][j] - a[0]; // of the k-th largest within its bucket, from the top (1 = the largest)
          if (rank > fine[q][bk]) { // coarse ties kept: the last rank - fine ones by position
            int qq = q;
            out[q][j] = lastOf(src, q, blocks, bk << 16, rank - fine[q][bk], bl -> coarse(high[bl][qq][bk]));
          } else {
            w.add(bk);
          }
        }
      }
      wanted[q] = w.stream().mapToInt(Integer::intValue).toArray();
      if (wanted[q].length > 0) {
        needsLow[q] = anyLow = true;
        slot[q] = new byte[1 << 15];
        for (int i = 0; i < wanted[q].length; i++) {
          slot[q][wanted[q][i]] = (byte) (i + 1);
        }
      }
    }
    for (long[][] hs : high) {
      for (long[] h : hs) {
        if (h != null) {
          HISTOGRAMS_15.push(h);
        }
      }
    }
    if (!anyLow) {
      return out;
    }
    // pass 2, for the models whose k-th largest is a fine key: a histogram of the lower 16 bits within its bucket
    int[][][][] perBlock = new int[blocks][models][][];
    forWindows(src, needsLow, blocks, bl -> {
      for (int q = 0; q < models; q++) {
        perBlock[bl][q] = new int[wanted[q].length][];
        for (int w = 0; w < wanted[q].length; w++) {
          perBlock[bl][q][w] = histogram();
        }
      }
    }, (bl, q, x, b, from, to) -> {
      int[][] hs = perBlock[bl][q];
      if (wanted[q].length == 1) { // one k-th largest (TIES): one comparison instead of a table lookup per entry
        int only = wanted[q][0];
        int[] h = hs[0];
        for (int i = from; i < to; i++) {
          int kk = MagnitudeRank.key(b == null ? x[i] : x[i] - b[i]);
          if (kk >>> 16 == only) {
            h[kk & 0xFFFF]++;
          }
        }
      } else {
        byte[] sl = slot[q];
        for (int i = from; i < to; i++) {
          int kk = MagnitudeRank.key(b == null ? x[i] : x[i] - b[i]);
          int w = sl[kk >>> 16];
          if (w != 0) {
            hs[w - 1][kk & 0xFFFF]++;
          }
        }
      }
    });
    for (int q = 0; q < models; q++) {
      java.util.Map<Integer, long[]> lows = new java.util.HashMap<>();
      for (int w = 0; w < wanted[q].length; w++) {
        int[][] hs = new int[blocks][];
        for (int bl = 0; bl < blocks; bl++) {
          hs[bl] = perBlock[bl][q][w];
        }
        lows.put(wanted[q][w], merge(hs));
      }
      for (int j = 0; j < ks[q].length; j++) {
        if (out[q][j] != null) {
          continue;
        }
        long[] a = {above[q][j]};
        int l = MagnitudeRank.descend(lows.get(bucket[q][j]), ks[q][j], a);
        int w = java.util.Arrays.binarySearch(wanted[q], bucket[q][j]);
        int qq = q;
        // entries with exactly this key that are in the set: the last ks - a ones by position
        out[q][j] = lastOf(src, q, blocks, bucket[q][j] << 16 | l, ks[q][j] - a[0], bl -> perBlock[bl][qq][w][l]);
      }
    }
    for (int[][][] qs : perBlock) {
      for (int[][] hs : qs) {
        for (int[] h : hs) {
          HISTOGRAMS_16.push(h);
        }
      }
    }
    return out;
  }

  /** The part of a pass over windows that works on one model's entries {@code x[from, to)} (and the base's). */
  interface WindowBody {
    void run(int block, int model, float[] x, float[] b, int from, int to);
  }

  /**
   * A pass over {@code src} in {@code blocks} parallel blocks: per block, {@code start} once, then for every window
   * {@code body} for every model that {@code needs} it.
   */
  private static void forWindows(Entries src, boolean[] needs, int blocks, java.util.function.IntConsumer start, WindowBody body) {
    Parallel.forBlocks(src.size(), blocks, (bl, lo, end) -> {
      start.accept(bl);
      Window win = src.window();
      for (int c = lo, len; c < end; c += len) {
        len = Math.min(src.stretch(), end - c);
        src.view(win, c, len);
        for (int q = 0; q < needs.length; q++) {
          if (needs[q]) {
            body.run(bl, q, win.x[q], win.b, win.off, win.off + len);
          }
        }
      }
    });
  }

  /**
   * The top-k set whose smallest key is {@code key}, of which the last {@code need} entries by position are in the set:
   * the per-block counts of that key ({@code inBlock}) say which block holds the need-th one from the end, and only
   * that block is scanned.
   */
  private static TopK lastOf(Entries src, int q, int blocks, int key, long need, java.util.function.IntToLongFunction inBlock) {
    int n = src.size();
    int bl = blocks - 1;
    for (long c; (c = inBlock.applyAsLong(bl)) < need; bl--) {
      need -= c;
    }
    return new TopK(key, lastTies(src, q, Parallel.blockStart(n, blocks, bl), Parallel.blockStart(n, blocks, bl + 1), key, new long[] {need}));
  }

  /**
   * The position of the {@code need}-th entry of model {@code q} with magnitude key {@code key} counted from {@code hi}
   * down, within [lo, hi) ({@code hi} when there are fewer), read one window at a time from the end.
   */
  private static int lastTies(Entries src, int q, int lo, int hi, int key, long[] need) {
    Window win = src.window();
    int from = hi;
    for (int end = hi; end > lo && need[0] > 0; ) {
      int len = Math.min(src.stretch(), end - lo);
      src.view(win, end - len, len);
      int i = MagnitudeRank.lastTies(win.x[q], win.b, win.off, win.off + len, key, need);
      if (i < win.off + len) {
        from = i - win.off + end - len;
      }
      end -= len;
    }
    return from;
  }

  /**
   * Some models' entries, each {@code x - b} when they have a base, over positions [0, size()), seen through windows
   * of at most {@link #stretch()} entries: whole arrays are viewed in place; a tensor read from a checkpoint is decoded
   * into the window's buffers (this thread's scratch arrays, so a thread uses one window at a time).
   */
  abstract static class Entries {
    /** Number of entries. */
    abstract int size();

    /** Most entries one window shows. */
    abstract int stretch();

    /** A window for one thread. */
    abstract Window window();

    /** Points {@code w} at entries [from, from + len) ({@code len <= stretch()}). */
    abstract void view(Window w, int from, int len);

    /** A whole array, viewed in place. */
    static Entries of(float[] x, float[] b) {
      return of(new float[][] {x}, b);
    }

    /** Whole arrays of the same length, viewed in place. */
    static Entries of(float[][] x, float[] b) {
      return new Entries() {
        @Override
        int size() {
          return x[0].length;
        }

        @Override
        int stretch() {
          return Integer.MAX_VALUE;
        }

        @Override
        Window window() {
          Window w = new Window();
          w.x = x;
          w.b = b;
          return w;
        }

        @Override
        void view(Window w, int from, int len) {
          w.off = from;
        }
      };
    }

    /** Models {@code models} (minus the base when {@code withBase}) of a streamed tensor, decoded per window. */
    static Entries of(StreamedInputs in, int[] models, boolean withBase) {
      int n = Math.toIntExact(in.shape().numel());
      return new Entries() {
        @Override
        int size() {
          return n;
        }

        @Override
        int stretch() {
          return STREAM_CHUNK;
        }

        @Override
        Window window() {
          Window w = new Window();
          w.x = new float[models.length][];
          for (int q = 0; q < models.length; q++) {
            w.x[q] = scratch(q);
          }
          w.b = withBase ? scratch(models.length) : null;
          return w;
        }

        @Override
        void view(Window w, int from, int len) {
          for (int q = 0; q < models.length; q++) {
            in.source().read(models[q], from, len, w.x[q]);
          }
          if (withBase) {
            in.source().read(StreamedInputs.BASE, from, len, w.b);
          }
          w.off = 0;
        }
      };
    }
  }

  /**
   * Entries of one view: position {@code p} of the viewed range [from, from + len) is {@code x[q][off + p - from]}
   * for model {@code q}, and {@code b[off + p - from]} of the base.
   */
  static final class Window {
    float[][] x;
    float[] b;
    int off;
  }

  /** Entries per window when a tensor is streamed from its checkpoint: a few windows per thread stay in cache. */
  static final int STREAM_CHUNK = StreamedInputs.WINDOW;

  private static final ThreadLocal<java.util.ArrayList<float[]>> SCRATCH = ThreadLocal.withInitial(java.util.ArrayList::new);

  private static final ThreadLocal<float[][]> CHUNK_SCRATCH = ThreadLocal.withInitial(() -> new float[0][]);

  /** This thread's first {@code count} scratch arrays of {@link #CHUNK} floats (the combination's temporaries). */
  static float[][] chunkScratch(int count) {
    float[][] s = CHUNK_SCRATCH.get();
    if (s.length < count) {
      float[][] grown = java.util.Arrays.copyOf(s, count);
      for (int i = s.length; i < count; i++) {
        grown[i] = new float[CHUNK];
      }
      CHUNK_SCRATCH.set(grown);
      s = grown;
    }
    return s;
  }

  /**
   * This thread's scratch array number {@code i} of {@link #STREAM_CHUNK} floats, contents undefined: streamed windows
   * are decoded into them instead of into fresh arrays (which fault their pages in again on this machine kind). A
   * thread works on one window (or one merge step) at a time, so the numbers never collide.
   */
  static float[] scratch(int i) {
    return scratch(i, STREAM_CHUNK);
  }

  /** {@link #scratch(int)} of at least {@code size} floats (a window of rows longer than {@link #STREAM_CHUNK}). */
  static float[] scratch(int i, int size) {
    java.util.ArrayList<float[]> s = SCRATCH.get();
    while (s.size() <= i) {
      s.add(new float[STREAM_CHUNK]);
    }
    if (s.get(i).length < size) {
      s.set(i, new float[size]);
    }
    return s.get(i);
  }

  /**
   * Replaces this thread's scratch arrays longer than {@link #STREAM_CHUNK} (made for a window of long rows) with
   * standard ones, so that one tensor with rows of millions of entries does not leave tens of MB per slot behind on
   * every thread of the pool.
   */
  static void releaseOversized() {
    java.util.ArrayList<float[]> s = SCRATCH.get();
    for (int i = 0; i < s.size(); i++) {
      if (s.get(i).length > STREAM_CHUNK) {
        s.set(i, new float[STREAM_CHUNK]);
      }
    }
  }

  /**
   * Histograms of 2^15 and 2^16 counters kept for reuse: a top-k takes up to 48 of them per call, and fresh arrays fault
   * their pages in again on every call on this machine kind (see {@link dev.graft.internal.FloatArrays}). The pools
   * hold what the most concurrent calls took at once.
   */
  private static final java.util.concurrent.ConcurrentLinkedDeque<long[]> HISTOGRAMS_15 = new java.util.concurrent.ConcurrentLinkedDeque<>();
  private static final java.util.concurrent.ConcurrentLinkedDeque<int[]> HISTOGRAMS_16 = new java.util.concurrent.ConcurrentLinkedDeque<>();

  /** A zeroed histogram of 2^16 counters. */
  private static int[] histogram() {
    int[] h = HISTOGRAMS_16.poll();
    if (h == null) {
      return new int[1 << 16];
    }
    java.util.Arrays.fill(h, 0);
    return h;
  }

  /** A zeroed histogram of 2^15 packed counters ({@link #highHistograms}). */
  private static long[] packedHistogram() {
    long[] h = HISTOGRAMS_15.poll();
    if (h == null) {
      return new long[1 << 15];
    }
    java.util.Arrays.fill(h, 0);
    return h;
  }

  /** Entries of a packed upper-bits counter whose key has a zero lower half. */
  private static long coarse(long packed) {
    return (packed & 0xFFFFFFFFL) - (packed >>> 32);
  }

  /**
   * Per block and model that {@code needs} it: 2^15 counters of the keys' upper 15 bits, each the number of entries in
   * its low 32 bits plus, shifted by 32, the number whose key has a non-zero lower half (one increment per entry; a
   * block holds fewer than 2^31 entries, so neither half overflows).
   */
  private static long[][][] highHistograms(Entries src, int blocks, boolean[] needs) {
    int models = needs.length;
    long[][][] hi = new long[blocks][models][];
    forWindows(src, needs, blocks, bl -> {
      for (int q = 0; q < models; q++) {
        if (needs[q]) {
          hi[bl][q] = packedHistogram();
        }
      }
    }, (bl, q, x, b, from, to) -> {
      long[] h = hi[bl][q];
      for (int i = from; i < to; i++) {
        int kk = MagnitudeRank.key(b == null ? x[i] : x[i] - b[i]);
        h[kk >>> 16] += 1L + ((long) (((kk & 0xFFFF) + 0xFFFF) >>> 16) << 32);
      }
    });
    return hi;
  }

  /** The per-block histograms summed. */
  private static long[] merge(int[][] hs) {
    long[] out = new long[hs[0].length];
    for (int[] h : hs) {
      for (int i = 0; i < out.length; i++) {
        out[i] += h[i];
      }
    }
    return out;
  }

  /** Linear: {@code Σ x_i · w_i}, then times {@code scale} when {@code normalize} (the operator's order of floats). */
  static float[] linear(float[][] x, double[] w, boolean normalize, double scale) {
    int n = x[0].length;
    float[] out = dev.graft.internal.FloatArrays.take(n); // every element written below
    float[] fw = floats(w);
    float fs = (float) scale;
    Parallel.forBlocks(n, Parallel.blocks(n), (bl, lo, hi) -> linear(x, fw, normalize, fs, lo, hi, out));
    return out;
  }

  /** {@link #linear(float[][], double[], boolean, double)} over a streamed tensor, a window at a time per thread. */
  static void linear(StreamedInputs in, double[] w, boolean normalize, double scale) {
    float[] fw = floats(w);
    float fs = (float) scale;
    rowWindows(in, 1, (b, xs, len, pos, out) -> linear(xs, fw, normalize, fs, 0, len, out));
  }

  /** The linear combination of indices [lo, hi) of {@code x} into the same indices of {@code out}. */
  private static void linear(float[][] x, float[] fw, boolean normalize, float fs, int lo, int hi, float[] out) {
    float[] x0 = x[0];
    float f0 = fw[0];
    for (int e = lo; e < hi; e++) {
      out[e] = x0[e] * f0;
    }
    for (int i = 1; i < x.length; i++) {
      float[] xi = x[i];
      float fi = fw[i];
      for (int e = lo; e < hi; e++) {
        out[e] = out[e] + xi[e] * fi;
      }
    }
    if (normalize) {
      for (int e = lo; e < hi; e++) {
        out[e] = out[e] * fs;
      }
    }
  }

  private static float[] floats(double[] w) {
    float[] f = new float[w.length];
    for (int i = 0; i < w.length; i++) {
      f[i] = (float) w[i];
    }
    return f;
  }

  /** SLERP's last step: {@code a · s0 + b · s1}. */
  static float[] combine(float[] a, double s0, float[] b, double s1) {
    float f0 = (float) s0;
    float f1 = (float) s1;
    float[] out = dev.graft.internal.FloatArrays.take(a.length); // every element written below
    Parallel.forBlocks(a.length, Parallel.blocks(a.length), (bl, lo, hi) -> combine(a, f0, b, f1, lo, hi, out));
    return out;
  }

  /** {@code out[e] = a[e] · f0 + b[e] · f1} for the indices [lo, hi): a whole array's block, or a streamed window. */
  static void combine(float[] a, float f0, float[] b, float f1, int lo, int hi, float[] out) {
    for (int e = lo; e < hi; e++) {
      out[e] = a[e] * f0 + b[e] * f1;
    }
  }

  /**
   * One window of a streamed tensor, at indices [0, len) of each array, its first entry at position {@code pos}: the
   * base ({@code b}, null when there is none or it is one of the models), the models, the extra inputs asked for, and
   * an output array of the window's size.
   */
  interface StreamWindow {
    void run(int block, float[] b, float[][] xs, float[][] extra, int len, int pos, float[] out);
  }

  /**
   * Reads a streamed tensor in windows of whole rows of {@code cols} entries ({@code cols = 1}: windows of any entries;
   * otherwise one row at least, however long), in {@code blocks} blocks of rows run in parallel (one block: on the
   * calling thread, in order). Every window holds the base (when it is not one of the models), every model and the
   * inputs {@code extra}, decoded into this thread's scratch arrays; scratch numbers from {@code 2 + models +
   * extra.length} on are free for {@code body}.
   */
  static void windows(StreamedInputs in, int cols, int blocks, int[] extra, StreamWindow body) {
    int n = Math.toIntExact(in.shape().numel());
    if (n == 0) {
      return;
    }
    int m = in.models();
    int perWindow = Math.max(1, STREAM_CHUNK / cols);
    boolean base = in.hasBase() && in.baseIndex() < 0;
    Parallel.forBlocks(n / cols, blocks, (bl, lo, hi) -> {
      int size = perWindow * cols;
      float[] b = base ? scratch(0, size) : null;
      float[] out = scratch(1, size);
      float[][] xs = new float[m][];
      for (int i = 0; i < m; i++) {
        xs[i] = scratch(2 + i, size);
      }
      float[][] ex = new float[extra.length][];
      for (int k = 0; k < extra.length; k++) {
        ex[k] = scratch(2 + m + k, size);
      }
      for (int r0 = lo, nr; r0 < hi; r0 += nr) {
        nr = Math.min(perWindow, hi - r0);
        int len = nr * cols;
        int pos = r0 * cols;
        if (b != null) {
          in.source().read(StreamedInputs.BASE, pos, len, b);
        }
        for (int i = 0; i < m; i++) {
          in.source().read(i, pos, len, xs[i]);
        }
        for (int k = 0; k < extra.length; k++) {
          in.source().read(extra[k], pos, len, ex[k]);
        }
        body.run(bl, b, xs, ex, len, pos, out);
      }
      if (size > STREAM_CHUNK) {
        releaseOversized();
      }
    });
  }

  /**
   * Whether rows of {@code cols} entries are short enough to stream in windows of whole rows: a window holds at least
   * one row, in several scratch arrays per thread (released when the thread's block of rows is done,
   * {@link #releaseOversized}).
   */
  static boolean rowFits(long cols) {
    return cols <= 1 << 24;
  }

  /**
   * How many blocks a streamed tensor's rows of {@code cols} entries are cut into: for {@code cols = 1}, the blocks of
   * the whole-array kernels and of the reference backend's sums ({@link Parallel#blocks}).
   */
  static int rowBlocks(StreamedInputs in, int cols) {
    int n = Math.toIntExact(in.shape().numel());
    return n == 0 ? 1 : Math.max(1, Math.min(n / cols, Parallel.blocks(n)));
  }

  /**
   * Merges one window at position {@code pos}: base {@code b} (null when none is read) and models {@code xs} at indices
   * [0, len) into {@code out}.
   */
  interface WindowMerge {
    void merge(float[] b, float[][] xs, int len, int pos, float[] out);
  }

  /** Streams a tensor through {@code merge} in windows of whole rows ({@link #windows}), the result written per window. */
  static void rowWindows(StreamedInputs in, int cols, WindowMerge merge) {
    windows(in, cols, rowBlocks(in, cols), new int[0], (bl, b, xs, ex, len, pos, out) -> {
      merge.merge(b, xs, len, pos, out);
      in.sink().put(pos, out, len);
    });
  }

  /** Reads one window: base {@code b} (null when none is read) and models {@code xs} at indices [0, len). */
  interface WindowRead {
    void read(float[] b, float[][] xs, int len);
  }

  /** Reads a streamed tensor on the calling thread, window after window of whole rows, in order (for sums in row order). */
  static void rowsInOrder(StreamedInputs in, int cols, WindowRead body) {
    windows(in, cols, 1, new int[0], (bl, b, xs, ex, len, pos, out) -> body.read(b, xs, len));
  }

  /** Adds one window's terms to its block's sums. */
  interface WindowSum {
    void add(float[] b, float[][] xs, int len, double[] sums);
  }

  /**
   * {@code width} double-precision sums over a streamed tensor, summed as the reference backend sums ({@code norm},
   * {@code dot}): per block of {@link Parallel#blocks} in order, then the blocks' sums in block order.
   */
  static double[] sums(StreamedInputs in, int width, WindowSum body) {
    int blocks = rowBlocks(in, 1);
    double[][] parts = new double[blocks][width];
    windows(in, 1, blocks, new int[0], (bl, b, xs, ex, len, pos, out) -> body.add(b, xs, len, parts[bl]));
    if (blocks == 1) {
      return parts[0];
    }
    double[] sum = new double[width];
    for (double[] p : parts) {
      for (int k = 0; k < width; k++) {
        sum[k] += p[k];
      }
    }
    return sum;
  }

  /** Turns a window's models into task vectors in place ({@code x - b} in float) when the base {@code b} is read. */
  static void lessBase(float[] b, float[][] xs, int len) {
    if (b == null) {
      return;
    }
    for (float[] x : xs) {
      for (int k = 0; k < len; k++) {
        x[k] = x[k] - b[k];
      }
    }
  }

  /**
   * Σ a², Σ b² and Σ a·b over models {@code ia} and {@code ib} of a streamed tensor, each less the base (float
   * differences) when the base is read, in double precision ({@link #sums}).
   */
  static double[] normsAndDot(StreamedInputs in, int ia, int ib) {
    return sums(in, 3, (base, xs, len, s) -> {
      lessBase(base, xs, len);
      float[] a = xs[ia];
      float[] b = xs[ib];
      double saa = s[0];
      double sbb = s[1];
      double sab = s[2];
      for (int j = 0; j < len; j++) {
        saa += (double) a[j] * a[j];
        sbb += (double) b[j] * b[j];
        sab += (double) a[j] * b[j];
      }
      s[0] = saa;
      s[1] = sbb;
      s[2] = sab;
    });
  }

  /**
   * The Gram matrix of the models' task vectors {@code x_i - b} over a streamed tensor, in double precision ({@link
   * #sums}): {@code g[i][i]} = Σ δᵢ², {@code g[i][j]} (i &lt; j) = Σ δᵢ·δⱼ.
   */
  static double[][] deltaGram(StreamedInputs in) {
    int m = in.models();
    double[] flat = sums(in, m * m, (b, d, len, s) -> {
      lessBase(b, d, len);
      for (int i = 0; i < m; i++) {
        for (int j = i; j < m; j++) {
          float[] di = d[i];
          float[] dj = d[j];
          double sum = s[i * m + j];
          for (int k = 0; k < len; k++) {
            sum += (double) di[k] * dj[k];
          }
          s[i * m + j] = sum;
        }
      }
    });
    double[][] g = new double[m][m];
    for (int i = 0; i < m; i++) {
      System.arraycopy(flat, i * m, g[i], 0, m);
    }
    return g;
  }

  /** Which entries of one model's task vector are kept. */
  sealed interface Mask {
    /** Every entry (no sparsification). */
    record All() implements Mask {}

    /** No entry. */
    record Zero() implements Mask {}

    /** The top k by magnitude (TIES). */
    record Top(TopK top) implements Mask {}

    /** The top {@code upper} but not the top {@code lower} by magnitude (Breadcrumbs). */
    record Band(TopK upper, TopK lower) implements Mask {}

    /** A seeded Bernoulli draw per entry (DARE): kept when {@code uniform(seed, e) < p}. */
    record Bernoulli(long seed, double p) implements Mask {}

    /**
     * A mask made row by row (row-wise top-k and bands, DELLA) for a streamed tensor, window by window: {@code fill}
     * writes it for the rows of a window, as a 0/1 mask, or as DELLA's divisors when {@code divisors}.
     */
    record Rows(RowFill fill, boolean divisors) implements Mask {}

    /** A mask array (row-wise selections, DELLA). */
    record Array(float[] values) implements Mask {}
  }

  /**
   * One model's part: its values, weight, mask, and the rescale of kept entries: a factor applied (as a float) when
   * {@code rescale} is set, and per-entry keep probabilities to divide by (DELLA) when {@code divide} is non-null.
   */
  record Part(float[] x, double weight, Mask mask, boolean rescale, double factor, float[] divide) {}

  /**
   * Σ |x - b| and Σ |(x - b) · mask| over the one model of {@code src}, viewed a window at a time, in one pass, each
   * summed as the tensor layer sums (per block in order, then the blocks' sums in block order), for the L1 rescale.
   * With {@code drawn} (not null), a {@link Mask.Bernoulli} mask's 0/1 values are written there by position, so that
   * the merge reads them instead of drawing every entry's hash a second time.
   */
  static double[] l1(Entries src, Mask m, float[] drawn) {
    int n = src.size();
    int blocks = Parallel.blocks(n);
    double[] before = new double[blocks];
    double[] after = new double[blocks];
    Part unit = new Part(null, 1, m, false, 1, null);
    Parallel.forBlocks(n, blocks, (bl, lo, hi) -> {
      float[] v = new float[CHUNK];
      Window win = src.window();
      double s0 = 0;
      double s1 = 0;
      for (int w0 = lo, wl; w0 < hi; w0 += wl) {
        wl = Math.min(src.stretch(), hi - w0);
        src.view(win, w0, wl);
        float[] x = win.x[0];
        float[] b = win.b;
        int shift = w0 - win.off; // position of array index i: i + shift
        for (int c0 = win.off; c0 < win.off + wl; c0 += CHUNK) {
          int len = Math.min(CHUNK, win.off + wl - c0);
          for (int e = c0; e < c0 + len; e++) {
            s0 += Math.abs(x[e] - b[e]);
          }
          if (drawn != null && m instanceof Mask.Bernoulli r) {
            long seed = r.seed();
            long limit = SeededMasks.limit(r.p());
            for (int e = c0; e < c0 + len; e++) {
              float keep = SeededMasks.keep(seed, e + shift, limit);
              drawn[e + shift] = keep;
              s1 += Math.abs((x[e] - b[e]) * keep); // as values() computes it: the 0/1 int converted, then multiplied
            }
          } else {
            values(unit, x, b, c0, len, shift, 1f, v); // (x - b) · mask, then · 1 (exact)
            for (int j = 0; j < len; j++) {
              s1 += Math.abs(v[j]);
            }
          }
        }
      }
      before[bl] = s0;
      after[bl] = s1;
    });
    double s0 = 0; // from +0: the same bits as one block's sum alone (these sums are never -0)
    double s1 = 0;
    for (int bl = 0; bl < blocks; bl++) {
      s0 += before[bl];
      s1 += after[bl];
    }
    return new double[] {s0, s1};
  }

  /** Entries per chunk of the task-arithmetic kernel: each model's values for a chunk stay in cache. */
  static final int CHUNK = 4096;

  /**
   * Task arithmetic with sparsification and sign consensus, the whole of {@link TaskArithmetic#merge} in one pass:
   * per model {@code v = ((x - b) · mask [· factor | / p]) · w}; then either {@code Σ v} (times 1/Σw with normalize)
   * or, with consensus, the sign elected by {@code Σ v} ({@code sum}) or {@code Σ sign(v)} ({@code count}), the
   * agreeing entries summed and divided by the agreeing weights ({@code weighted}), their count ({@code mean}) or
   * nothing ({@code sum}); times lambda; plus the base. Works chunk by chunk: each model's values of a chunk are
   * computed by a loop specialised to its mask, then the chunk is combined.
   *
   * @param consensus 0 none, 1 by summed values, 2 by counted signs
   * @param aggregation 0 weighted, 1 mean, 2 sum
   */
  static float[] taskArithmetic(float[] b, List<Part> parts, int consensus, int aggregation, boolean normalize, double weightSum, double lambda) {
    int n = b.length;
    Combination c = new Combination(parts, consensus, aggregation, normalize, weightSum, lambda);
    float[] out = dev.graft.internal.FloatArrays.take(n); // every element written below
    Parallel.forBlocks(n, Parallel.blocks(n), (bl, lo, hi) -> taskArithmetic(c, b, parts, lo, hi, 0, out));
    return out;
  }

  /**
   * {@link #taskArithmetic(float[], List, int, int, boolean, double, double)} over a streamed tensor: each thread
   * decodes a window of the base and of every model, combines it and hands it to the sink. The parts' own values are
   * not used (they are null): each window's take their place.
   */
  static void taskArithmetic(StreamedInputs in, List<Part> parts, Combination c) {
    rowWindows(in, 1, (b, xs, len, pos, out) -> taskArithmetic(c, b, withValues(parts, xs, null), 0, len, pos, out));
  }

  /**
   * The parts with a window's values {@code xs}; a {@link Mask.Rows} part takes the mask (or divisors) drawn into
   * {@code drawn}.
   */
  private static List<Part> withValues(List<Part> parts, float[][] xs, float[][] drawn) {
    List<Part> mine = new java.util.ArrayList<>(parts.size());
    for (int i = 0; i < parts.size(); i++) {
      Part p = parts.get(i);
      if (p.mask() instanceof Mask.Rows r) {
        mine.add(r.divisors() ? new Part(xs[i], p.weight(), new Mask.All(), p.rescale(), p.factor(), drawn[i])
            : new Part(xs[i], p.weight(), new Mask.Array(drawn[i]), p.rescale(), p.factor(), p.divide()));
      } else {
        mine.add(new Part(xs[i], p.weight(), p.mask(), p.rescale(), p.factor(), p.divide()));
      }
    }
    return mine;
  }

  /** Draws a row-wise mask for whole rows of a window. */
  interface RowFill {
    /**
     * Writes the mask of rows {@code [0, len / cols)} of {@code x - b} into {@code out[0, len)}; the window's first
     * entry has position {@code pos} in the tensor.
     */
    void fill(float[] x, float[] b, int len, int cols, long pos, HostMasks.RowSort w, float[] out);
  }

  /**
   * {@link #taskArithmetic(StreamedInputs, List, Combination)} when some parts have {@link Mask.Rows} masks: windows of
   * whole rows (one row at least, however long), each part's mask drawn for the window's rows before the combination.
   */
  static void taskArithmeticRows(StreamedInputs in, List<Part> parts, Combination c, int cols) {
    int m = parts.size();
    int blocks = rowBlocks(in, cols);
    HostMasks.RowSort[] sorts = new HostMasks.RowSort[blocks]; // one per block (a block runs on one thread), freed with the call
    windows(in, cols, blocks, new int[0], (bl, b, xs, ex, len, pos, out) -> {
      if (sorts[bl] == null) {
        sorts[bl] = new HostMasks.RowSort(cols);
      }
      float[][] drawn = new float[m][];
      for (int i = 0; i < m; i++) {
        if (parts.get(i).mask() instanceof Mask.Rows r) {
          drawn[i] = scratch(2 + m + i, len);
          r.fill().fill(xs[i], b, len, cols, pos, sorts[bl], drawn[i]);
        }
      }
      taskArithmetic(c, b, withValues(parts, xs, drawn), 0, len, pos, out);
      in.sink().put(pos, out, len);
    });
  }

  /** How one tensor's task vectors are combined (see {@link #taskArithmetic(float[], List, int, int, boolean, double, double)}). */
  record Combination(float[] fw, int consensus, int aggregation, boolean normalize, float norm, float lam, boolean scaleByLambda, boolean divide) {
    Combination(List<Part> parts, int consensus, int aggregation, boolean normalize, double weightSum, double lambda) {
      this(weights(parts), consensus, aggregation, normalize, (float) (1.0 / (Math.abs(weightSum) < 1e-8 ? 1.0 : weightSum)), (float) lambda,
          lambda != 1.0, consensus != 0 && (aggregation == 1 || (aggregation == 0 && normalize)));
    }

    private static float[] weights(List<Part> parts) {
      float[] fw = new float[parts.size()];
      for (int i = 0; i < fw.length; i++) {
        fw[i] = (float) parts.get(i).weight();
      }
      return fw;
    }
  }

  /**
   * {@link #taskArithmetic(float[], List, int, int, boolean, double, double)} for the array indices [lo, hi) of
   * {@code b} and the parts' arrays, whose positions in the tensor are the indices plus {@code shift}, into the same
   * indices of {@code out}.
   */
  static void taskArithmetic(Combination c, float[] b, List<Part> parts, int lo, int hi, int shift, float[] out) {
    int m = parts.size();
    float[] fw = c.fw();
    int consensus = c.consensus();
    int aggregation = c.aggregation();
    boolean normalize = c.normalize();
    float norm = c.norm();
    float lam = c.lam();
    boolean scaleByLambda = c.scaleByLambda();
    boolean divide = c.divide();
    float[][] t = chunkScratch(m + 3); // called once per window when streamed: no fresh temporaries per call
    float[][] v = java.util.Arrays.copyOf(t, m);
    float[] mixed = t[m];
    float[] elected = t[m + 1];
    float[] div = t[m + 2];
    for (int c0 = lo; c0 < hi; c0 += CHUNK) {
      int len = Math.min(CHUNK, hi - c0);
      for (int i = 0; i < m; i++) {
        values(parts.get(i), parts.get(i).x(), b, c0, len, shift, fw[i], v[i]);
      }
      // Loops over the chunk for one model at a time (simple enough for the JIT to vectorise); the float
      // operations and their order per entry are those of the tensor formulation.
      if (consensus == 0) {
        sum(v, m, len, mixed);
        if (normalize) {
          for (int j = 0; j < len; j++) {
            mixed[j] = mixed[j] * norm;
          }
        }
      } else {
        float[] votes = elected;
        if (consensus == 1) {
          sum(v, m, len, votes);
        } else {
          float[] v0 = v[0];
          for (int j = 0; j < len; j++) {
            votes[j] = Math.signum(v0[j]);
          }
          for (int i = 1; i < m; i++) {
            float[] vi = v[i];
            for (int j = 0; j < len; j++) {
              votes[j] = votes[j] + Math.signum(vi[j]);
            }
          }
        }
        // Branch-free forms of the tensor formulation's selects, equal for every finite value (with a NaN in the
        // inputs both give NaN): elected = votes >= 0 ? 1 : -1 is copySign(1, votes) (they differ only at -0.0,
        // which only all-zero entries sum to, where nothing is kept either way); sign(v) == elected is
        // max(0, signum(v · elected)); |kept| > 0 is then that same agreement; and div == 0 ? 1 : div is
        // div + (1 - signum(|div|)).
        for (int j = 0; j < len; j++) {
          elected[j] = Math.copySign(1f, votes[j]);
        }
        for (int i = 0; i < m; i++) {
          float[] vi = v[i];
          float wi = aggregation == 1 ? 1f : fw[i];
          if (i == 0) {
            for (int j = 0; j < len; j++) {
              float agree = Math.max(0f, Math.signum(vi[j] * elected[j]));
              mixed[j] = vi[j] * agree;
              div[j] = agree * wi;
            }
          } else {
            for (int j = 0; j < len; j++) {
              float agree = Math.max(0f, Math.signum(vi[j] * elected[j]));
              mixed[j] = mixed[j] + vi[j] * agree;
              div[j] = div[j] + agree * wi;
            }
          }
        }
        if (divide) {
          for (int j = 0; j < len; j++) {
            mixed[j] = mixed[j] / (div[j] + (1f - Math.signum(Math.abs(div[j]))));
          }
        }
      }
      if (scaleByLambda) {
        for (int j = 0; j < len; j++) {
          mixed[j] = mixed[j] * lam;
        }
      }
      for (int j = 0; j < len; j++) {
        out[c0 + j] = b[c0 + j] + mixed[j];
      }
    }
  }

  /** {@code into[j] = v[0][j] + v[1][j] + ... + v[m - 1][j]} for j in [0, len), added in model order. */
  private static void sum(float[][] v, int m, int len, float[] into) {
    System.arraycopy(v[0], 0, into, 0, len);
    for (int i = 1; i < m; i++) {
      float[] vi = v[i];
      for (int j = 0; j < len; j++) {
        into[j] = into[j] + vi[j];
      }
    }
  }

  /**
   * {@code v[j] = d} for the entries {@code e = c0 + j} in {@code up} and not in {@code low} (null: an empty set), else
   * 0, with {@code d = x[e] - b[e]}; the entry at array index {@code e} has position {@code e + shift} in the tensor.
   * Within a stretch that no tie boundary ({@link TopK#from}) cuts, membership is one comparison of the key with a
   * threshold ({@code key} from the boundary on, {@code key + 1} before it), so the loop is a few integer operations
   * the JIT vectorises; the stretches are split at the boundaries.
   */
  static void inSet(float[] x, float[] b, int c0, int len, TopK up, TopK low, float[] v) {
    inSet(x, b, c0, len, 0, up, low, v);
  }

  static void inSet(float[] x, float[] b, int c0, int len, int shift, TopK up, TopK low, float[] v) {
    int end = c0 + len + shift; // positions from here on
    for (int s = c0 + shift; s < end; ) {
      int e = end;
      if (up.from() > s && up.from() < e) {
        e = up.from();
      }
      if (low != null && low.from() > s && low.from() < e) {
        e = low.from();
      }
      int tu = threshold(up, s);
      int tl = low == null ? Integer.MAX_VALUE : threshold(low, s);
      int j0 = s - shift - c0;
      int n = e - s;
      for (int j = j0; j < j0 + n; j++) {
        float d = x[c0 + j] - b[c0 + j];
        int k = MagnitudeRank.key(d);
        v[j] = d * (((tu - 1 - k) >>> 31) & ((k - tl) >>> 31)); // k >= tu and k < tl
      }
      s = e;
    }
  }

  /** The smallest key in {@code t} at positions from {@code pos} up to the next tie boundary (Integer.MAX_VALUE: none). */
  private static int threshold(TopK t, int pos) {
    return (int) Math.min(pos >= t.from() ? t.key() : t.key() + 1L, Integer.MAX_VALUE);
  }

  /**
   * One model's {@code v} for the array indices {@code [c0, c0 + len)} of {@code x} (the part's values there) and
   * {@code b} into {@code v[0, len)}, by a loop per kind of mask; index {@code e} is position {@code e + shift} in the
   * tensor (for thresholds and draws by position). Mask arrays and divisors are indexed like {@code x}.
   */
  private static void values(Part p, float[] x, float[] b, int c0, int len, int shift, float w, float[] v) {
    switch (p.mask()) {
      case Mask.All a -> {
        for (int j = 0; j < len; j++) {
          v[j] = x[c0 + j] - b[c0 + j];
        }
      }
      case Mask.Zero z -> {
        for (int j = 0; j < len; j++) {
          v[j] = (x[c0 + j] - b[c0 + j]) * 0f;
        }
      }
      case Mask.Top t -> inSet(x, b, c0, len, shift, t.top(), null, v);
      case Mask.Band band -> inSet(x, b, c0, len, shift, band.upper(), band.lower(), v);
      case Mask.Bernoulli r -> {
        long seed = r.seed();
        long limit = SeededMasks.limit(r.p()); // uniform(seed, e) < p as an integer test
        for (int j = 0; j < len; j++) {
          int e = c0 + j;
          v[j] = (x[e] - b[e]) * SeededMasks.keep(seed, e + shift, limit);
        }
      }
      case Mask.Array a -> {
        float[] mk = a.values();
        for (int j = 0; j < len; j++) {
          int e = c0 + j;
          v[j] = (x[e] - b[e]) * mk[e];
        }
      }
      case Mask.Rows r -> throw new IllegalStateException("a row-wise mask is drawn per window before it is applied");
    }
    if (p.rescale()) {
      float f = (float) p.factor();
      for (int j = 0; j < len; j++) {
        v[j] = v[j] * f;
      }
    }
    if (p.divide() != null) {
      float[] pr = p.divide();
      for (int j = 0; j < len; j++) {
        v[j] = v[j] / pr[c0 + j];
      }
    }
    for (int j = 0; j < len; j++) {
      v[j] = v[j] * w;
    }
  }
}
