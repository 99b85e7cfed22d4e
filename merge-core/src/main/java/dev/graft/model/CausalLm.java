package dev.graft.model;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDList;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.index.NDIndex;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.SparseFormat;
import ai.djl.nn.Activation;
import ai.djl.nn.core.Embedding;
import ai.djl.nn.core.Linear;
import dev.graft.InvalidInputException;
import dev.graft.backend.djl.DjlBackend;
import dev.graft.io.Checkpoint;
import dev.graft.tensor.Device;
import dev.graft.tensor.Shape;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.List;

/**
 * A Llama-family causal language model (Llama, Mistral, Qwen2/2.5, Qwen3) run in float32 on DJL's PyTorch engine:
 * grouped-query attention, RoPE with Llama 3 scaling, q/k/v biases, q/k norms, sliding windows, tied embeddings.
 * Batches are right-padded, so the causal mask alone keeps padding out of every real position.
 *
 * <p>Follows transformers' modelling code operation by operation (RMS norm in float32, {@code rotate_half}
 * RoPE, softmax attention scaled by {@code 1/sqrt(head_dim)}, SiLU-gated MLP), so logits agree with it to float32
 * rounding.
 *
 * @implNote not thread-safe: one forward at a time per instance. Every intermediate array lives in a sub-manager
 *     closed when the call returns; only the weights stay resident.
 */
public final class CausalLm implements AutoCloseable {
  private final LlamaConfig config;
  private final NDManager manager;
  private final NDArray embed;
  private final NDArray lmHead;
  private final NDArray finalNorm;
  private final Layer[] layers;
  private final double[] invFreq;
  private final java.util.Map<String, NDArray> named = new java.util.LinkedHashMap<>();

  private record Layer(
      NDArray inNorm, NDArray q, NDArray qb, NDArray k, NDArray kb, NDArray v, NDArray vb, NDArray o, NDArray ob,
      NDArray qNorm, NDArray kNorm, NDArray postNorm, NDArray gate, NDArray gateB, NDArray up, NDArray upB,
      NDArray down, NDArray downB) {}

  /** Key/value cache of a generation, one entry per layer: {@code [batch, kvHeads, length, headDim]}. */
  public static final class KvCache implements AutoCloseable {
    private final NDManager manager;
    private final NDArray[] keys;
    private final NDArray[] values;
    private int length;

    private KvCache(NDManager manager, int layers) {
      this.manager = manager;
      this.keys = new NDArray[layers];
      this.values = new NDArray[layers];
    }

    /** Positions already cached. */
    public int length() {
      return length;
    }

    @Override
    public void close() {
      manager.close();
    }
  }

  private CausalLm(LlamaConfig config, NDManager manager, Weights w) {
    this.config = config;
    this.manager = manager;
    this.invFreq = config.rope().inverseFrequencies(config.headDim());
    this.embed = load(w, "model.embed_tokens.weight");
    this.lmHead = config.tieEmbeddings() ? embed : load(w, "lm_head.weight");
    this.finalNorm = load(w, "model.norm.weight");
    this.layers = new Layer[config.layers()];
    for (int l = 0; l < layers.length; l++) {
      String p = "model.layers." + l + ".";
      String a = p + "self_attn.";
      String m = p + "mlp.";
      layers[l] = new Layer(
          load(w, p + "input_layernorm.weight"),
          load(w, a + "q_proj.weight"), config.qkvBias() ? load(w, a + "q_proj.bias") : null,
          load(w, a + "k_proj.weight"), config.qkvBias() ? load(w, a + "k_proj.bias") : null,
          load(w, a + "v_proj.weight"), config.qkvBias() ? load(w, a + "v_proj.bias") : null,
          load(w, a + "o_proj.weight"), config.oBias() ? load(w, a + "o_proj.bias") : null,
          config.qkNorm() ? load(w, a + "q_norm.weight") : null, config.qkNorm() ? load(w, a + "k_norm.weight") : null,
          load(w, p + "post_attention_layernorm.weight"),
          load(w, m + "gate_proj.weight"), config.mlpBias() ? load(w, m + "gate_proj.bias") : null,
          load(w, m + "up_proj.weight"), config.mlpBias() ? load(w, m + "up_proj.bias") : null,
          load(w, m + "down_proj.weight"), config.mlpBias() ? load(w, m + "down_proj.bias") : null);
    }
  }

  /**
   * Builds a model from {@code weights}, checking every tensor's presence and shape against {@code config} first
   * (all problems reported at once, naming {@link Weights#origin()}).
   */
  public static CausalLm of(LlamaConfig config, Weights weights, Device device) {
    weights.requireMatching(expected(config), "config.json (" + config.modelType() + ")");
    NDManager m = DjlBackend.newManager(device);
    try {
      return new CausalLm(config, m, weights);
    } catch (RuntimeException e) {
      m.close();
      throw e;
    }
  }

  /** Loads a Hugging Face folder ({@code config.json} and safetensors). */
  public static CausalLm load(Path dir, Device device) {
    try (Checkpoint c = Checkpoint.open(dir)) {
      LlamaConfig cfg = LlamaConfig.of(c.config().orElseThrow(() -> new InvalidInputException(
          dir + ": no config.json; a language model needs one (copy it from the model the weights came from)")),
          dir.resolve("config.json").toString());
      return of(cfg, Weights.of(c), device);
    }
  }

  /** Tensor names and shapes the config implies, in checkpoint order. */
  public static java.util.Map<String, Shape> expected(LlamaConfig c) {
    java.util.Map<String, Shape> e = new java.util.LinkedHashMap<>();
    int h = c.hidden();
    int q = c.heads() * c.headDim();
    int kv = c.kvHeads() * c.headDim();
    e.put("model.embed_tokens.weight", Shape.of(c.vocab(), h));
    for (int l = 0; l < c.layers(); l++) {
      String p = "model.layers." + l + ".";
      e.put(p + "input_layernorm.weight", Shape.of(h));
      for (String[] proj : new String[][] {{"q", "" + q}, {"k", "" + kv}, {"v", "" + kv}}) {
        e.put(p + "self_attn." + proj[0] + "_proj.weight", Shape.of(Integer.parseInt(proj[1]), h));
        if (c.qkvBias()) {
          e.put(p + "self_attn." + proj[0] + "_proj.bias", Shape.of(Integer.parseInt(proj[1])));
        }
      }
      e.put(p + "self_attn.o_proj.weight", Shape.of(h, q));
      if (c.oBias()) {
        e.put(p + "self_attn.o_proj.bias", Shape.of(h));
      }
      if (c.qkNorm()) {
        e.put(p + "self_attn.q_norm.weight", Shape.of(c.headDim()));
        e.put(p + "self_attn.k_norm.weight", Shape.of(c.headDim()));
      }
      e.put(p + "post_attention_layernorm.weight", Shape.of(h));
      e.put(p + "mlp.gate_proj.weight", Shape.of(c.intermediate(), h));
      e.put(p + "mlp.up_proj.weight", Shape.of(c.intermediate(), h));
      e.put(p + "mlp.down_proj.weight", Shape.of(h, c.intermediate()));
      if (c.mlpBias()) {
        e.put(p + "mlp.gate_proj.bias", Shape.of(c.intermediate()));
        e.put(p + "mlp.up_proj.bias", Shape.of(c.intermediate()));
        e.put(p + "mlp.down_proj.bias", Shape.of(h));
      }
    }
    e.put("model.norm.weight", Shape.of(h));
    if (!c.tieEmbeddings()) {
      e.put("lm_head.weight", Shape.of(c.vocab(), h));
    }
    return e;
  }

  private NDArray load(Weights w, String name) {
    NDArray a = manager.create(w.floats(name), new ai.djl.ndarray.types.Shape(w.shape(name).dims()));
    named.put(name, a);
    return a;
  }

  /**
   * Diagonal Fisher information over sequences, with the checkpoint's tensor names: for each sequence, the squared
   * gradient of Σ_t log p(y_t | ids[..t]) where y_t is drawn from the model's own prediction at every position
   * (sampled-label Fisher, seeded per sequence and position), or is the next token of the sequence when
   * {@code empirical}; averaged over sequences. One backward pass per sequence.
   */
  public java.util.Map<String, float[]> fisher(List<int[]> sequences, boolean empirical, long seed, dev.graft.io.Progress progress) {
    java.util.Map<String, double[]> acc = new java.util.LinkedHashMap<>();
    named.forEach((k, v) -> acc.put(k, new double[Math.toIntExact(v.size())]));
    int n = 0;
    named.values().forEach(p -> p.setRequiresGradient(true));
    try {
      for (int[] ids : sequences) {
        n++;
        if (ids.length < 2) {
          continue;
        }
        int t = ids.length - 1;
        int[] targets = new int[t];
        if (empirical) {
          System.arraycopy(ids, 1, targets, 0, t);
        } else {
          float[] probs;
          try (NDManager scope = manager.newSubManager()) {
            probs = forward(scope, new int[][] {ids}, null).get(new NDIndex("0, :-1, :")).softmax(-1).toFloatArray();
          }
          int v = config.vocab();
          for (int p = 0; p < t; p++) {
            double u = new java.util.SplittableRandom(dev.graft.tensor.spi.SeededMasks.mix(dev.graft.tensor.spi.SeededMasks.mix(seed, n), p)).nextDouble();
            targets[p] = FisherMath.sample(probs, p * v, v, u);
          }
        }
        try (NDManager scope = manager.newSubManager()) {
          try (ai.djl.training.GradientCollector gc = ai.djl.engine.Engine.getEngine("PyTorch").newGradientCollector()) {
            gc.zeroGradients();
            NDArray logp = forward(scope, new int[][] {ids}, null).get(new NDIndex("0, :-1, :")).logSoftmax(-1);
            NDArray tg = scope.create(targets, new ai.djl.ndarray.types.Shape(t, 1)).toType(DataType.INT64, false);
            gc.backward(logp.gather(tg, 1).sum());
          }
          FisherMath.addSquaredGradients(named, acc, 1);
        }
        progress.update(n, sequences.size(), 0, 0);
      }
    } finally {
      named.values().forEach(p -> p.setRequiresGradient(false));
    }
    return FisherMath.mean(acc, Math.max(1, n));
  }

  /** Shapes of the model's tensors, by checkpoint name. */
  public java.util.Map<String, Shape> shapes() {
    java.util.Map<String, Shape> s = new java.util.LinkedHashMap<>();
    named.forEach((k, v) -> s.put(k, Shape.of(v.getShape().getShape())));
    return s;
  }

  public LlamaConfig config() {
    return config;
  }

  /** A new, empty key/value cache for {@link #forward(NDManager, int[][], KvCache)}. */
  public KvCache newCache() {
    return new KvCache(manager.newSubManager(), layers.length);
  }

  /**
   * Logits {@code [batch, length, vocab]} of a right-padded batch, in arrays owned by {@code scope}. With a cache,
   * {@code ids} continue the cached positions (every row at the same position) and the cache is extended.
   */
  public NDArray forward(NDManager scope, int[][] ids, KvCache cache) {
    int b = ids.length;
    int t = ids[0].length;
    for (int[] row : ids) {
      if (row.length != t) {
        throw new IllegalArgumentException("rows of a batch must have one length (right-pad them)");
      }
      for (int id : row) {
        if (id < 0 || id >= config.vocab()) {
          throw new InvalidInputException("token id " + id + " is outside the vocabulary [0, " + config.vocab() + ")");
        }
      }
    }
    int past = cache == null ? 0 : cache.length;
    int hd = config.headDim();
    int kvh = config.kvHeads();
    int g = config.heads() / kvh;
    int total = past + t;
    NDArray idArr = scope.create(flatten(ids), new ai.djl.ndarray.types.Shape(b, t)).toType(DataType.INT64, false);
    NDArray x = Embedding.embedding(idArr, embed, SparseFormat.DENSE).singletonOrThrow();
    NDArray[] rope = rope(scope, past, t);
    NDArray[] masks = new NDArray[layers.length];
    for (int l = 0; l < layers.length; l++) {
      int w = config.slidingWindow()[l];
      int same = -1;
      for (int k = 0; k < l; k++) {
        if (config.slidingWindow()[k] == w) {
          same = k;
        }
      }
      masks[l] = same >= 0 ? masks[same] : mask(scope, past, t, w);
    }
    for (int l = 0; l < layers.length; l++) {
      Layer ly = layers[l];
      NDArray h = rms(x, ly.inNorm());
      NDArray q = linear(h, ly.q(), ly.qb()).reshape(b, t, config.heads(), hd);
      NDArray k = linear(h, ly.k(), ly.kb()).reshape(b, t, kvh, hd);
      NDArray v = linear(h, ly.v(), ly.vb()).reshape(b, t, kvh, hd).transpose(0, 2, 1, 3);
      if (config.qkNorm()) {
        q = rms(q, ly.qNorm());
        k = rms(k, ly.kNorm());
      }
      q = applyRope(q.transpose(0, 2, 1, 3), rope);
      k = applyRope(k.transpose(0, 2, 1, 3), rope);
      if (cache != null) {
        if (cache.keys[l] != null) {
          NDArray oldK = cache.keys[l];
          NDArray oldV = cache.values[l];
          k = oldK.concat(k, 2);
          v = oldV.concat(v, 2);
          oldK.close();
          oldV.close();
        }
        k.attach(cache.manager);
        v.attach(cache.manager);
        cache.keys[l] = k;
        cache.values[l] = v;
      }
      // grouped-query attention without repeating keys: query heads h = kv * g + j share kv head kv
      NDArray scores = q.reshape(b, kvh, (long) g * t, hd).matMul(k.transpose(0, 1, 3, 2)).mul(1.0 / Math.sqrt(hd));
      NDArray probs = scores.reshape(b, kvh, g, t, total).add(masks[l]).softmax(-1).reshape(b, kvh, (long) g * t, total);
      NDArray attn = probs.matMul(v).reshape(b, config.heads(), t, hd).transpose(0, 2, 1, 3).reshape(b, t, (long) config.heads() * hd);
      x = x.add(linear(attn, ly.o(), ly.ob()));
      NDArray h2 = rms(x, ly.postNorm());
      NDArray gate = linear(h2, ly.gate(), ly.gateB());
      NDArray act = gate.mul(Activation.sigmoid(gate)).mul(linear(h2, ly.up(), ly.upB()));
      x = x.add(linear(act, ly.down(), ly.downB()));
    }
    if (cache != null) {
      cache.length = total;
    }
    return linear(rms(x, finalNorm), lmHead, null);
  }

  /**
   * Log-probability of every next token: for each row, {@code out[i][p]} = log P(ids[i][p+1] | ids[i][..p]) for
   * {@code p < lengths[i] - 1}. Rows are right-padded to one length; padding never influences a real position.
   */
  public double[][] nextTokenLogProbs(int[][] ids, int[] lengths) {
    try (NDManager scope = manager.newSubManager()) {
      NDArray logits = forward(scope, ids, null);
      int b = ids.length;
      int t = ids[0].length;
      if (t < 2) {
        double[][] out = new double[b][0];
        return out;
      }
      NDArray logp = logits.get(new NDIndex(":, :-1, :")).logSoftmax(-1);
      int[][] targets = new int[b][t - 1];
      for (int i = 0; i < b; i++) {
        targets[i] = Arrays.copyOfRange(ids[i], 1, t);
      }
      NDArray tg = scope.create(flatten(targets), new ai.djl.ndarray.types.Shape(b, t - 1, 1)).toType(DataType.INT64, false);
      float[] picked = logp.gather(tg, 2).toFloatArray();
      double[][] out = new double[b][];
      for (int i = 0; i < b; i++) {
        out[i] = new double[Math.max(0, lengths[i] - 1)];
        for (int p = 0; p < out[i].length; p++) {
          out[i][p] = picked[i * (t - 1) + p];
        }
      }
      return out;
    }
  }

  /** Logits of one sequence, {@code [length * vocab]} row-major, copied to the heap. */
  public float[] logits(int[] ids) {
    try (NDManager scope = manager.newSubManager()) {
      return forward(scope, new int[][] {ids}, null).toFloatArray();
    }
  }

  /**
   * Greedy decoding with a key/value cache: appends up to {@code maxNew} tokens to {@code prompt}, stopping after
   * any of {@code stop}. Returns only the new tokens.
   */
  public int[] generate(int[] prompt, int maxNew, int... stop) {
    if (prompt.length == 0) {
      throw new IllegalArgumentException("empty prompt");
    }
    int[] out = new int[maxNew];
    int n = 0;
    try (KvCache cache = newCache()) {
      int[] next = prompt;
      while (n < maxNew) {
        int tok;
        try (NDManager scope = manager.newSubManager()) {
          NDArray logits = forward(scope, new int[][] {next}, cache);
          tok = (int) logits.get(new NDIndex("0, -1, :")).argMax().toLongArray()[0];
        }
        out[n++] = tok;
        boolean stopped = false;
        for (int s : stop) {
          stopped |= s == tok;
        }
        if (stopped) {
          break;
        }
        next = new int[] {tok};
      }
    }
    return Arrays.copyOf(out, n);
  }

  private static int[] flatten(int[][] rows) {
    int t = rows.length == 0 ? 0 : rows[0].length;
    int[] f = new int[rows.length * t];
    for (int i = 0; i < rows.length; i++) {
      System.arraycopy(rows[i], 0, f, i * t, t);
    }
    return f;
  }

  private static NDArray linear(NDArray x, NDArray w, NDArray bias) {
    NDList r = bias == null ? Linear.linear(x, w) : Linear.linear(x, w, bias);
    return r.singletonOrThrow();
  }

  /** transformers' RMSNorm: x / sqrt(mean(x²) + eps), then times the weight. */
  private NDArray rms(NDArray x, NDArray weight) {
    NDArray var = x.mul(x).mean(new int[] {-1}, true);
    return x.div(var.add(config.rmsNormEps()).sqrt()).mul(weight);
  }

  /** cos and sin tables {@code [length, headDim]} for positions {@code past .. past+length-1}. */
  private NDArray[] rope(NDManager scope, int past, int t) {
    int d = config.headDim();
    float[] cos = new float[t * d];
    float[] sin = new float[t * d];
    for (int p = 0; p < t; p++) {
      for (int i = 0; i < d / 2; i++) {
        float angle = (float) (past + p) * (float) invFreq[i]; // float32 product, as transformers
        float c = (float) Math.cos(angle);
        float s = (float) Math.sin(angle);
        cos[p * d + i] = c;
        cos[p * d + i + d / 2] = c;
        sin[p * d + i] = s;
        sin[p * d + i + d / 2] = s;
      }
    }
    ai.djl.ndarray.types.Shape shape = new ai.djl.ndarray.types.Shape(t, d);
    return new NDArray[] {scope.create(cos, shape), scope.create(sin, shape)};
  }

  /** x * cos + rotate_half(x) * sin, rotate_half(x) = cat(-x2, x1). */
  private NDArray applyRope(NDArray x, NDArray[] cs) {
    int half = config.headDim() / 2;
    NDArray x1 = x.get(new NDIndex("..., :" + half));
    NDArray x2 = x.get(new NDIndex("..., " + half + ":"));
    NDArray rotated = x2.neg().concat(x1, -1);
    return x.mul(cs[0]).add(rotated.mul(cs[1]));
  }

  /** Additive mask {@code [length, past+length]}: 0 where query p may see key j, -inf elsewhere. */
  private static NDArray mask(NDManager scope, int past, int t, int window) {
    int total = past + t;
    float[] m = new float[t * total];
    for (int p = 0; p < t; p++) {
      int qpos = past + p;
      for (int j = 0; j < total; j++) {
        boolean visible = j <= qpos && (window <= 0 || qpos - j < window);
        m[p * total + j] = visible ? 0f : Float.NEGATIVE_INFINITY;
      }
    }
    return scope.create(m, new ai.djl.ndarray.types.Shape(t, total));
  }

  @Override
  public void close() {
    manager.close();
  }
}
