package dev.graft.model;

import dev.graft.io.Checkpoint;

/**
 * An independent, deliberately plain double-precision Llama-family forward (one sequence, no batching, no cache),
 * written from transformers' modelling code, to check {@link CausalLm} against. Slow and obvious on purpose.
 */
public final class ReferenceLlama {
  private final LlamaConfig c;
  private final Checkpoint w;

  public ReferenceLlama(LlamaConfig c, Checkpoint w) {
    this.c = c;
    this.w = w;
  }

  private double[] t(String name) {
    float[] f = w.readFloats(name);
    double[] d = new double[f.length];
    for (int i = 0; i < f.length; i++) {
      d[i] = f[i];
    }
    return d;
  }

  /** y[out] = sum_in W[out][in] x[in] (+ b[out]). */
  private static double[] matvec(double[] wt, double[] bias, double[] x, int out) {
    int in = x.length;
    double[] y = new double[out];
    for (int o = 0; o < out; o++) {
      double s = bias == null ? 0 : bias[o];
      for (int i = 0; i < in; i++) {
        s += wt[o * in + i] * x[i];
      }
      y[o] = s;
    }
    return y;
  }

  private double[] rms(double[] x, int off, int len, double[] weight) {
    double ss = 0;
    for (int i = 0; i < len; i++) {
      ss += x[off + i] * x[off + i];
    }
    double inv = 1 / Math.sqrt(ss / len + c.rmsNormEps());
    double[] y = new double[len];
    for (int i = 0; i < len; i++) {
      y[i] = x[off + i] * inv * weight[i];
    }
    return y;
  }

  /** Inverse frequencies in double, with Llama 3 / linear scaling, written out separately from the runtime's. */
  double[] invFreq() {
    int d = c.headDim();
    double[] inv = new double[d / 2];
    LlamaConfig.Rope r = c.rope();
    for (int i = 0; i < d / 2; i++) {
      double f = Math.pow(r.theta(), -2.0 * i / d);
      if (r.type().equals("linear")) {
        f /= r.factor();
      } else if (r.type().equals("llama3")) {
        double wavelen = 2 * Math.PI / f;
        double lowWl = r.originalContext() / r.lowFreqFactor();
        double highWl = r.originalContext() / r.highFreqFactor();
        if (wavelen > lowWl) {
          f = f / r.factor();
        } else if (wavelen >= highWl) {
          double smooth = (r.originalContext() / wavelen - r.lowFreqFactor()) / (r.highFreqFactor() - r.lowFreqFactor());
          f = (1 - smooth) * f / r.factor() + smooth * f;
        }
      }
      inv[i] = f;
    }
    return inv;
  }

  private void rope(double[] head, int pos, double[] inv) {
    int half = head.length / 2;
    for (int i = 0; i < half; i++) {
      double a = pos * inv[i];
      double x1 = head[i];
      double x2 = head[i + half];
      head[i] = x1 * Math.cos(a) - x2 * Math.sin(a);
      head[i + half] = x2 * Math.cos(a) + x1 * Math.sin(a);
    }
  }

  /** Logits {@code [length][vocab]} of one sequence. */
  public double[][] logits(int[] ids) {
    int h = c.hidden();
    int n = ids.length;
    int hd = c.headDim();
    int nh = c.heads();
    int nkv = c.kvHeads();
    double[] emb = t("model.embed_tokens.weight");
    double[][] x = new double[n][h];
    for (int p = 0; p < n; p++) {
      System.arraycopy(emb, ids[p] * h, x[p], 0, h);
    }
    double[] inv = invFreq();
    for (int l = 0; l < c.layers(); l++) {
      String pre = "model.layers." + l + ".";
      String a = pre + "self_attn.";
      double[] wq = t(a + "q_proj.weight");
      double[] wk = t(a + "k_proj.weight");
      double[] wv = t(a + "v_proj.weight");
      double[] wo = t(a + "o_proj.weight");
      double[] bq = c.qkvBias() ? t(a + "q_proj.bias") : null;
      double[] bk = c.qkvBias() ? t(a + "k_proj.bias") : null;
      double[] bv = c.qkvBias() ? t(a + "v_proj.bias") : null;
      double[] bo = c.oBias() ? t(a + "o_proj.bias") : null;
      double[] inNorm = t(pre + "input_layernorm.weight");
      double[][][] q = new double[n][nh][];
      double[][][] k = new double[n][nkv][];
      double[][][] v = new double[n][nkv][];
      for (int p = 0; p < n; p++) {
        double[] hn = rms(x[p], 0, h, inNorm);
        double[] qa = matvec(wq, bq, hn, nh * hd);
        double[] ka = matvec(wk, bk, hn, nkv * hd);
        double[] va = matvec(wv, bv, hn, nkv * hd);
        for (int hh = 0; hh < nh; hh++) {
          q[p][hh] = c.qkNorm() ? rms(qa, hh * hd, hd, t(a + "q_norm.weight")) : java.util.Arrays.copyOfRange(qa, hh * hd, hh * hd + hd);
          rope(q[p][hh], p, inv);
        }
        for (int hh = 0; hh < nkv; hh++) {
          k[p][hh] = c.qkNorm() ? rms(ka, hh * hd, hd, t(a + "k_norm.weight")) : java.util.Arrays.copyOfRange(ka, hh * hd, hh * hd + hd);
          rope(k[p][hh], p, inv);
          v[p][hh] = java.util.Arrays.copyOfRange(va, hh * hd, hh * hd + hd);
        }
      }
      int window = c.slidingWindow()[l];
      double[][] attnOut = new double[n][nh * hd];
      for (int p = 0; p < n; p++) {
        for (int hh = 0; hh < nh; hh++) {
          int kvHead = hh / (nh / nkv);
          double[] s = new double[p + 1];
          double max = Double.NEGATIVE_INFINITY;
          for (int j = 0; j <= p; j++) {
            if (window > 0 && p - j >= window) {
              s[j] = Double.NEGATIVE_INFINITY;
              continue;
            }
            double dot = 0;
            for (int d = 0; d < hd; d++) {
              dot += q[p][hh][d] * k[j][kvHead][d];
            }
            s[j] = dot / Math.sqrt(hd);
            max = Math.max(max, s[j]);
          }
          double z = 0;
          for (int j = 0; j <= p; j++) {
            s[j] = Math.exp(s[j] - max);
            z += s[j];
          }
          for (int j = 0; j <= p; j++) {
            for (int d = 0; d < hd; d++) {
              attnOut[p][hh * hd + d] += s[j] / z * v[j][kvHead][d];
            }
          }
        }
      }
      String m = pre + "mlp.";
      double[] post = t(pre + "post_attention_layernorm.weight");
      double[] wg = t(m + "gate_proj.weight");
      double[] wu = t(m + "up_proj.weight");
      double[] wd = t(m + "down_proj.weight");
      for (int p = 0; p < n; p++) {
        double[] o = matvec(wo, bo, attnOut[p], h);
        for (int i = 0; i < h; i++) {
          x[p][i] += o[i];
        }
        double[] hn = rms(x[p], 0, h, post);
        double[] g = matvec(wg, null, hn, c.intermediate());
        double[] u = matvec(wu, null, hn, c.intermediate());
        for (int i = 0; i < g.length; i++) {
          g[i] = g[i] / (1 + Math.exp(-g[i])) * u[i];
        }
        double[] dn = matvec(wd, null, g, h);
        for (int i = 0; i < h; i++) {
          x[p][i] += dn[i];
        }
      }
    }
    double[] fn = t("model.norm.weight");
    double[] head = c.tieEmbeddings() ? emb : t("lm_head.weight");
    double[][] out = new double[n][];
    for (int p = 0; p < n; p++) {
      out[p] = matvec(head, null, rms(x[p], 0, h, fn), c.vocab());
    }
    return out;
  }
}
