package dev.graft.model;

import ai.djl.ndarray.NDArray;
import java.util.LinkedHashMap;
import java.util.Map;

/** Pieces shared by the Fisher estimators of {@link Classifier} and {@link CausalLm}. */
final class FisherMath {
  private FisherMath() {}

  /** Index drawn from the distribution {@code probs[offset .. offset+count)} by the uniform {@code u} (inverse CDF). */
  static int sample(float[] probs, int offset, int count, double u) {
    int c = 0;
    double cum = probs[offset];
    while (u >= cum && c < count - 1) {
      cum += probs[offset + ++c];
    }
    return c;
  }

  /** Adds {@code weight} × (gradient)² of every parameter to its accumulator, after a backward pass. */
  static void addSquaredGradients(Map<String, NDArray> params, Map<String, double[]> acc, double weight) {
    for (Map.Entry<String, NDArray> p : params.entrySet()) {
      NDArray g = p.getValue().getGradient();
      float[] gv = g.toFloatArray();
      g.close();
      double[] a = acc.get(p.getKey());
      for (int k = 0; k < gv.length; k++) {
        a[k] += weight * gv[k] * gv[k];
      }
    }
  }

  /** Accumulators divided by {@code n}, as float32 arrays in the same order. */
  static Map<String, float[]> mean(Map<String, double[]> acc, int n) {
    Map<String, float[]> out = new LinkedHashMap<>();
    acc.forEach((k, a) -> {
      float[] v = new float[a.length];
      for (int i = 0; i < a.length; i++) {
        v[i] = (float) (a[i] / n);
      }
      out.put(k, v);
    });
    return out;
  }
}
