package dev.graft.plan;

import dev.graft.InvalidInputException;
import dev.graft.internal.FloatArrays;
import dev.graft.io.Checkpoint;
import dev.graft.op.MagnitudeRank;
import dev.graft.op.Params;
import dev.graft.op.TaskArithmetic;
import java.util.ArrayList;
import java.util.IdentityHashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * {@code trim_scope: model} (the TIES paper's trim): each model keeps the top {@code density} of the entries of its
 * whole task vector by magnitude, one threshold over every tensor the stage merges with it, instead of one per tensor.
 * Found in streaming passes before merging, in bounded memory: a histogram of the upper 15 bits of every entry's
 * magnitude key, then of the lower 16 bits within the bucket of the k-th largest, then, when entries tie at the
 * threshold, a scan from the last tensor (plan order) backwards for where the ties kept start (later entries rank
 * higher, as within a tensor). The result goes to the operator as two hidden per-model parameters.
 */
final class GlobalTrim {
  private GlobalTrim() {}

  private static boolean applies(TensorTask t) {
    return t.copy() == null && t.base() != null && t.global().has("trim_scope") && t.global().text("trim_scope").equals("model");
  }

  private record Entry(TensorTask task, int input) {}

  /**
   * The per-model parameters of every task that trims by model: its model parameters with {@link
   * TaskArithmetic#TRIM_KEY} and {@link TaskArithmetic#TRIM_FROM} added; empty when no task does.
   */
  static Map<TensorTask, List<Params>> compute(MergePlan plan, List<Checkpoint> cps) {
    Map<Integer, List<Entry>> byModel = new LinkedHashMap<>();
    Map<Integer, Double> density = new LinkedHashMap<>();
    Map<Integer, String> firstTensor = new LinkedHashMap<>();
    for (TensorTask t : plan.tasks()) {
      if (!applies(t)) {
        continue;
      }
      if (t.rectifiesRows()) {
        throw new InvalidInputException("trim_scope: model cannot rank tensor " + t.name() + ", whose vocabulary rows differ between models;"
            + " use trim_scope: tensor");
      }
      for (int j = 0; j < t.models().size(); j++) {
        int m = t.models().get(j).model();
        double d = t.modelParams().get(j).number("density");
        Double before = density.putIfAbsent(m, d);
        if (before != null && before != d) {
          throw new InvalidInputException("trim_scope: model keeps the top density of each model's whole task vector, so a model needs one density;"
              + " model " + plan.models().get(m).label() + " has " + before + " for " + firstTensor.get(m) + " and " + d + " for " + t.name());
        }
        firstTensor.putIfAbsent(m, t.name());
        byModel.computeIfAbsent(m, k -> new ArrayList<>()).add(new Entry(t, j));
      }
    }
    Map<TensorTask, double[][]> cut = new IdentityHashMap<>();
    for (Map.Entry<Integer, List<Entry>> e : byModel.entrySet()) {
      double d = density.get(e.getKey());
      if (d >= 1) {
        continue;
      }
      long total = 0;
      for (Entry x : e.getValue()) {
        total += x.task().shape().numel();
      }
      long k = Math.max(1, (long) (d * total));
      int[] keyFrom = threshold(e.getValue(), cps, k);
      for (Entry x : e.getValue()) {
        double[][] per = cut.computeIfAbsent(x.task(), t -> new double[t.models().size()][]);
        per[x.input()] = new double[] {keyFrom[0], 0};
      }
      // where the kept ties start, tensor by tensor from the last one: before the cut none, after it all
      long need = keyFrom[1];
      List<Entry> list = e.getValue();
      for (int i = list.size() - 1; i >= 0; i--) {
        Entry x = list.get(i);
        double[] kf = cut.get(x.task())[x.input()];
        if (need == 0) {
          kf[1] = x.task().shape().numel(); // no tie kept here
          continue;
        }
        float[][] xb = read(x, cps);
        long[] left = {need};
        kf[1] = MagnitudeRank.lastTies(xb[0], xb[1], 0, xb[0].length, keyFrom[0], left);
        need = left[0];
        give(xb);
      }
    }
    Map<TensorTask, List<Params>> out = new IdentityHashMap<>();
    cut.forEach((t, per) -> {
      List<Params> ps = new ArrayList<>();
      for (int j = 0; j < per.length; j++) {
        Params p = t.modelParams().get(j);
        ps.add(per[j] == null ? p : p.with(TaskArithmetic.TRIM_KEY, per[j][0]).with(TaskArithmetic.TRIM_FROM, per[j][1]));
      }
      out.put(t, ps);
    });
    return out;
  }

  /** {key of the k-th largest, number of entries with that key that are kept}. */
  private static int[] threshold(List<Entry> entries, List<Checkpoint> cps, long k) {
    long[] high = new long[1 << 15];
    for (Entry x : entries) {
      float[][] xb = read(x, cps);
      for (int q = 0; q < xb[0].length; q++) {
        high[MagnitudeRank.key(xb[0][q] - xb[1][q]) >>> 16]++;
      }
      give(xb);
    }
    long[] above = {0};
    int bucket = MagnitudeRank.descend(high, k, above);
    long[] low = new long[1 << 16];
    for (Entry x : entries) {
      float[][] xb = read(x, cps);
      for (int q = 0; q < xb[0].length; q++) {
        int kk = MagnitudeRank.key(xb[0][q] - xb[1][q]);
        if (kk >>> 16 == bucket) {
          low[kk & 0xFFFF]++;
        }
      }
      give(xb);
    }
    int l = MagnitudeRank.descend(low, k, above);
    return new int[] {bucket << 16 | l, (int) Math.min(Integer.MAX_VALUE, k - above[0])};
  }

  /** The model's tensor and the base's, as float32. */
  private static float[][] read(Entry x, List<Checkpoint> cps) {
    TensorTask.Input in = x.task().models().get(x.input());
    TensorTask.Input b = x.task().base();
    return new float[][] {cps.get(in.model()).readFloats(in.tensor()), cps.get(b.model()).readFloats(b.tensor())};
  }

  private static void give(float[][] xb) {
    FloatArrays.give(xb[0]);
    FloatArrays.give(xb[1]);
  }
}
