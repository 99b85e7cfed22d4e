package dev.graft.model;

import ai.djl.engine.Engine;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.NDScope;
import ai.djl.ndarray.types.DataType;
import ai.djl.nn.Activation;
import ai.djl.nn.convolutional.Conv2d;
import ai.djl.nn.core.Linear;
import ai.djl.nn.pooling.Pool;
import ai.djl.training.GradientCollector;
import ai.djl.training.optimizer.Optimizer;
import ai.djl.training.tracker.Tracker;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.graft.InvalidInputException;
import dev.graft.backend.djl.DjlBackend;
import dev.graft.data.Dataset;
import dev.graft.io.AtomicFiles;
import dev.graft.io.Checkpoint;
import dev.graft.io.Progress;
import dev.graft.io.SafetensorsWriter;
import dev.graft.tensor.DType;
import dev.graft.tensor.Device;
import dev.graft.tensor.Shape;
import dev.graft.tensor.spi.SeededMasks;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;

/**
 * A small image classifier (MLP or CNN, see {@link ClassifierConfig}) on DJL's PyTorch engine, with autograd for
 * training and Fisher information. Parameters stay resident as float32 arrays; every call works in a sub-manager
 * closed before it returns.
 *
 * @implNote not thread-safe.
 */
public final class Classifier implements AutoCloseable {
  private final ClassifierConfig config;
  private final NDManager manager;
  private final Map<String, NDArray> params = new LinkedHashMap<>();

  /**
   * Loss and accuracy of a model on a dataset.
   *
   * @param loss mean negative log-likelihood of the true class (nats)
   * @param accuracy fraction of examples whose arg-max is the true class
   * @param examples number of examples
   */
  public record Metrics(double loss, double accuracy, int examples) {}

  /**
   * Training settings.
   *
   * @param epochs passes over the data
   * @param batchSize examples per step
   * @param learningRate Adam's step size
   * @param seed seed of the shuffling
   */
  public record TrainOptions(int epochs, int batchSize, double learningRate, long seed) {
    public TrainOptions {
      if (epochs < 1 || batchSize < 1 || !(learningRate > 0)) {
        throw new InvalidInputException("training needs epochs >= 1, batch size >= 1 and a positive learning rate; found "
            + epochs + ", " + batchSize + ", " + learningRate);
      }
    }
  }

  /** How labels are drawn for the Fisher information. */
  public enum FisherMode {
    /** Exact expectation over every class under the model's own prediction (one backward pass per class). */
    EXACT,
    /** One label per example sampled from the model's prediction. */
    SAMPLED,
    /** The dataset's true labels. */
    EMPIRICAL
  }

  /** A dataset uploaded once, to be scored many times. */
  public final class Prepared implements AutoCloseable {
    private final NDManager scope;
    private final NDArray x;
    private final NDArray y;
    private final int n;

    private final int[] labels;

    private Prepared(Dataset d) {
      check(d);
      this.scope = manager.newSubManager();
      this.n = d.size();
      this.x = scope.create(d.features(), inputShape(n));
      this.y = scope.create(d.labels(), new ai.djl.ndarray.types.Shape(n, 1)).toType(DataType.INT64, false);
      this.labels = d.labels();
    }

    @Override
    public void close() {
      scope.close();
    }
  }

  /** Datasets uploaded by {@link #prepared(Dataset)}, kept until the model is closed. */
  private final Map<Dataset, Prepared> uploaded = new java.util.IdentityHashMap<>();

  private Classifier(ClassifierConfig config, NDManager manager) {
    this.config = config;
    this.manager = manager;
  }

  /** A freshly initialised model: PyTorch's default, U(-1/sqrt(fan_in), 1/sqrt(fan_in)) for weights and biases. */
  public static Classifier init(ClassifierConfig config, long seed, Device device) {
    Map<String, float[]> v = new LinkedHashMap<>();
    Map<String, Shape> shapes = config.tensors();
    shapes.forEach((name, shape) -> {
      String layer = name.substring(0, name.indexOf('.'));
      Shape w = shapes.get(layer + ".weight");
      long fanIn = w.numel() / w.dim(0);
      double bound = 1 / Math.sqrt(fanIn);
      SplittableRandom r = new SplittableRandom(SeededMasks.mix(seed, name.hashCode()));
      float[] a = new float[shape.numelInt()];
      for (int i = 0; i < a.length; i++) {
        a[i] = (float) ((2 * r.nextDouble() - 1) * bound);
      }
      v.put(name, a);
    });
    return of(config, Weights.of("init(seed=" + seed + ")", v, shapes), device);
  }

  /** A model holding {@code weights}, checked against the config first. */
  public static Classifier of(ClassifierConfig config, Weights weights, Device device) {
    weights.requireMatching(config.tensors(), "the classifier config");
    NDManager m = DjlBackend.newManager(device);
    Classifier c = new Classifier(config, m);
    config.tensors().forEach((name, shape) ->
        c.params.put(name, m.create(weights.floats(name), new ai.djl.ndarray.types.Shape(shape.dims()))));
    return c;
  }

  /** Loads a classifier folder ({@code config.json} and safetensors). */
  public static Classifier load(Path dir, Device device) {
    try (Checkpoint c = Checkpoint.open(dir)) {
      ClassifierConfig cfg = ClassifierConfig.of(c.config().orElseThrow(() -> new InvalidInputException(
          dir + ": no config.json; a classifier folder needs one (graft train writes it)")), dir.resolve("config.json").toString());
      return of(cfg, Weights.of(c), device);
    }
  }

  public ClassifierConfig config() {
    return config;
  }

  /** A copy of every parameter on the heap, in order. */
  public Map<String, float[]> state() {
    Map<String, float[]> s = new LinkedHashMap<>();
    params.forEach((k, v) -> s.put(k, v.toFloatArray()));
    return s;
  }

  /** The parameters as weights (a copy), e.g. to merge or to build another model. */
  public Weights weights() {
    return Weights.of("in-memory " + config.kind(), state(), config.tensors());
  }

  /**
   * Writes {@code dir/model.safetensors} and {@code dir/config.json}. The tensors are written under a temporary
   * name and renamed when complete; {@code config.json} last.
   */
  public void save(Path dir) {
    save(dir, config, state(), Map.of());
  }

  /** Writes a classifier folder from tensors on the heap. */
  public static void save(Path dir, ClassifierConfig config, Map<String, float[]> tensors, Map<String, String> metadata) {
    List<SafetensorsWriter.Entry> entries = new ArrayList<>();
    config.tensors().forEach((name, shape) -> entries.add(new SafetensorsWriter.Entry(name, DType.F32, shape)));
    Map<String, String> md = new LinkedHashMap<>(metadata);
    md.put("format", "pt");
    try (SafetensorsWriter w = SafetensorsWriter.create(dir, entries, Long.MAX_VALUE, md)) {
      for (SafetensorsWriter.Entry e : entries) {
        float[] v = tensors.get(e.name());
        w.writeFloats(e.name(), 0, v, 0, v.length);
      }
      w.finish();
      AtomicFiles.writeString(dir.resolve("config.json"),
          new ObjectMapper().writerWithDefaultPrettyPrinter().writeValueAsString(config.toJson()) + "\n");
    } catch (IOException e) {
      throw new UncheckedIOException("cannot write " + dir + ": " + e.getMessage(), e);
    }
  }

  private ai.djl.ndarray.types.Shape inputShape(int n) {
    long[] s = new long[config.inputShape().length + 1];
    s[0] = n;
    for (int i = 0; i < config.inputShape().length; i++) {
      s[i + 1] = config.inputShape()[i];
    }
    return new ai.djl.ndarray.types.Shape(s);
  }

  private void check(Dataset d) {
    if (d.featureCount() != config.inputSize()) {
      throw new InvalidInputException(d.name() + " has examples of " + d.featureCount() + " values " + Arrays.toString(d.exampleShape())
          + ", the model takes " + config.inputSize() + " " + Arrays.toString(config.inputShape()));
    }
    if (d.classes() > config.classes()) {
      throw new InvalidInputException(d.name() + " has " + d.classes() + " classes, the model only " + config.classes());
    }
  }

  /** Logits {@code [n, classes]} of inputs {@code [n, ...inputShape]}. */
  NDArray logits(NDArray x) {
    NDArray h = x;
    ai.djl.ndarray.types.Shape one = new ai.djl.ndarray.types.Shape(1, 1);
    ai.djl.ndarray.types.Shape two = new ai.djl.ndarray.types.Shape(2, 2);
    int pad = config.kernel() / 2;
    for (int i = 1; i <= config.channels().length; i++) {
      h = Conv2d.conv2d(h, params.get("conv" + i + ".weight"), params.get("conv" + i + ".bias"), one,
          new ai.djl.ndarray.types.Shape(pad, pad), one, 1).singletonOrThrow();
      h = Pool.maxPool2d(Activation.relu(h), two, two, new ai.djl.ndarray.types.Shape(0, 0), false);
    }
    h = h.reshape(x.getShape().get(0), config.flatFeatures());
    int layers = config.hidden().length + 1;
    for (int i = 1; i <= layers; i++) {
      h = Linear.linear(h, params.get("fc" + i + ".weight"), params.get("fc" + i + ".bias")).singletonOrThrow();
      if (i < layers) {
        h = Activation.relu(h);
      }
    }
    return h;
  }

  /** Uploads a dataset for repeated {@link #evaluate(Prepared)}. */
  public Prepared prepare(Dataset d) {
    return new Prepared(d);
  }

  /**
   * {@code d} uploaded once and kept with the model (until {@link #close()}), for a dataset scored again and again
   * with changing weights, as evolution does.
   */
  public Prepared prepared(Dataset d) {
    return uploaded.computeIfAbsent(d, Prepared::new);
  }

  /**
   * Replaces every parameter's values in place (no new native arrays), e.g. to score another candidate of the same
   * architecture.
   *
   * @throws InvalidInputException when a tensor is missing or has another shape
   */
  public void setWeights(Weights weights) {
    weights.requireMatching(config.tensors(), "the classifier config");
    params.forEach((name, p) -> p.set(java.nio.FloatBuffer.wrap(weights.floats(name))));
  }

  /** Loss and accuracy on prepared data. */
  public Metrics evaluate(Prepared p) {
    return evaluateEach(p).metrics();
  }

  /**
   * Metrics and, per example, whether the model is right.
   *
   * @param metrics loss and accuracy
   * @param correct per example: 1 when the arg-max class (the first on ties) is the true class, else 0
   */
  public record Detailed(Metrics metrics, float[] correct) {}

  /** Loss, accuracy and per-example correctness on prepared data, from one forward pass. */
  public Detailed evaluateEach(Prepared p) {
    try (NDScope scope = new NDScope()) { // intermediates hang off p's manager; the scope frees them
      scope.suppressNotUsedWarning();
      NDArray logp = logits(p.x).logSoftmax(-1);
      float loss = -logp.gather(p.y, 1).mean().getFloat();
      long[] pred = logp.argMax(1).toLongArray();
      float[] correct = new float[p.n];
      int right = 0;
      for (int i = 0; i < p.n; i++) {
        if (pred[i] == p.labels[i]) {
          correct[i] = 1f;
          right++;
        }
      }
      return new Detailed(new Metrics(loss, right / (double) p.n, p.n), correct);
    }
  }

  /** Loss and accuracy on a dataset. */
  public Metrics evaluate(Dataset d) {
    try (Prepared p = prepare(d)) {
      return evaluate(p);
    }
  }

  /** Predicted class probabilities {@code [n * classes]}. */
  public float[] probabilities(Dataset d) {
    try (Prepared p = prepare(d)) {
      return probabilities(p);
    }
  }

  private float[] probabilities(Prepared p) {
    try (NDScope scope = new NDScope()) {
      scope.suppressNotUsedWarning();
      return logits(p.x).softmax(-1).toFloatArray();
    }
  }

  /**
   * Trains with Adam (DJL's, β = 0.9/0.999) on minibatches of the negative log-likelihood, shuffled per epoch from
   * {@code options.seed()}; progress reports one unit per step.
   *
   * @return the training-set metrics after each epoch
   */
  public List<Metrics> train(Dataset fit, TrainOptions options, Progress progress) {
    check(fit);
    Optimizer adam = Optimizer.adam().optLearningRateTracker(Tracker.fixed((float) options.learningRate())).build();
    params.values().forEach(p -> p.setRequiresGradient(true));
    int n = fit.size();
    int f = fit.featureCount();
    int steps = (n + options.batchSize() - 1) / options.batchSize();
    long total = (long) steps * options.epochs();
    long done = 0;
    List<Metrics> history = new ArrayList<>();
    try (Prepared all = prepare(fit)) {
      for (int e = 0; e < options.epochs(); e++) {
        int[] order = Dataset.permutation(n, SeededMasks.mix(options.seed(), e));
        for (int s = 0; s < steps; s++) {
          int from = s * options.batchSize();
          int b = Math.min(options.batchSize(), n - from);
          float[] xb = new float[b * f];
          int[] yb = new int[b];
          for (int i = 0; i < b; i++) {
            int ex = order[from + i];
            System.arraycopy(fit.features(), ex * f, xb, i * f, f);
            yb[i] = fit.labels()[ex];
          }
          try (NDManager scope = manager.newSubManager()) {
            NDArray x = scope.create(xb, inputShape(b));
            NDArray y = scope.create(yb, new ai.djl.ndarray.types.Shape(b, 1)).toType(DataType.INT64, false);
            try (GradientCollector gc = Engine.getEngine("PyTorch").newGradientCollector()) {
              gc.zeroGradients();
              NDArray logp = logits(x).logSoftmax(-1);
              NDArray loss = logp.gather(y, 1).mean().neg();
              gc.backward(loss);
            }
            for (Map.Entry<String, NDArray> p : params.entrySet()) {
              NDArray g = p.getValue().getGradient();
              adam.update(p.getKey(), p.getValue(), g);
              g.close();
            }
          }
          progress.update(++done, total, 0, 0);
        }
        history.add(evaluate(all));
      }
    } finally {
      params.values().forEach(p -> p.setRequiresGradient(false));
    }
    return history;
  }

  /**
   * Diagonal Fisher information, averaged over the examples: for each example x,
   * EXACT adds Σ_y p(y|x)·(∂ log p(y|x)/∂θ)², SAMPLED adds (∂ log p(ŷ|x)/∂θ)² with ŷ ~ p(·|x) (seeded per example),
   * EMPIRICAL uses the true label. Per-example squared gradients, never the square of a batch gradient.
   *
   * <p>MLPs use the per-example gradient identity of linear layers (∂/∂W = δ·aᵀ for each example, so
   * Σ_n w_n (δ_n·a_nᵀ)² = (w ⊙ δ²)ᵀ·a²), batched over all examples with one backward sweep per class. CNNs take one
   * autograd backward pass per example and label.
   *
   * @return one array per parameter, named as the parameters
   */
  public Map<String, float[]> fisher(Dataset data, FisherMode mode, long seed, Progress progress) {
    return fisher(data, mode, seed, progress, false);
  }

  /** The autograd computation, also for MLPs (tests compare it with the batched one). */
  Map<String, float[]> fisherByAutograd(Dataset data, FisherMode mode, long seed) {
    return fisher(data, mode, seed, Progress.NONE, true);
  }

  private Map<String, float[]> fisher(Dataset data, FisherMode mode, long seed, Progress progress, boolean autograd) {
    try (Prepared prepared = prepare(data)) {
      return fisher(data, prepared, mode, seed, progress, autograd);
    }
  }

  private Map<String, float[]> fisher(Dataset data, Prepared prepared, FisherMode mode, long seed, Progress progress, boolean autograd) {
    int n = data.size();
    int classes = config.classes();
    float[] probs = probabilities(prepared);
    // the labels each example contributes and their weights, the same for both computations below
    int[][] labels = new int[n][];
    double[][] weights = new double[n][];
    for (int i = 0; i < n; i++) {
      switch (mode) {
        case EXACT -> {
          labels[i] = java.util.stream.IntStream.range(0, classes).toArray();
          weights[i] = new double[classes];
          for (int c = 0; c < classes; c++) {
            weights[i][c] = probs[i * classes + c];
          }
        }
        case SAMPLED -> {
          double u = new SplittableRandom(SeededMasks.mix(seed, i)).nextDouble();
          labels[i] = new int[] {FisherMath.sample(probs, i * classes, classes, u)};
          weights[i] = new double[] {1};
        }
        default -> {
          labels[i] = new int[] {data.labels()[i]};
          weights[i] = new double[] {1};
        }
      }
    }
    Map<String, double[]> acc = config.channels().length == 0 && !autograd
        ? mlpFisher(prepared, probs, labels, weights, progress) : autogradFisher(data, labels, weights, progress);
    return FisherMath.mean(acc, n);
  }

  /** Per-example squared gradients of an MLP, batched: one backward sweep per label slot. */
  private Map<String, double[]> mlpFisher(Prepared p, float[] probs, int[][] labels, double[][] weights, Progress progress) {
    int n = p.n;
    int classes = config.classes();
    int layers = config.hidden().length + 1;
    int slots = labels[0].length;
    Map<String, double[]> acc = new LinkedHashMap<>();
    try (NDScope scope = new NDScope()) {
      scope.suppressNotUsedWarning();
      NDManager m = p.scope;
      NDArray[] a = new NDArray[layers]; // inputs of each linear layer
      NDArray[] active = new NDArray[layers]; // 1 where the layer's output ReLU passes gradient
      NDArray h = p.x.reshape(n, config.inputSize());
      for (int l = 0; l < layers; l++) {
        a[l] = h;
        NDArray z = Linear.linear(h, params.get("fc" + (l + 1) + ".weight"), params.get("fc" + (l + 1) + ".bias")).singletonOrThrow();
        if (l < layers - 1) {
          active[l] = z.gt(0).toType(DataType.FLOAT32, false);
          h = Activation.relu(z);
        }
      }
      NDArray prob = m.create(probs, new ai.djl.ndarray.types.Shape(n, classes));
      NDArray[] fw = new NDArray[layers];
      NDArray[] fb = new NDArray[layers];
      for (int slot = 0; slot < slots; slot++) {
        float[] onehot = new float[n * classes];
        float[] w = new float[n];
        for (int i = 0; i < n; i++) {
          onehot[i * classes + labels[i][slot]] = 1;
          w[i] = (float) weights[i][slot];
        }
        NDArray delta = m.create(onehot, new ai.djl.ndarray.types.Shape(n, classes)).sub(prob); // ∂ log p_y / ∂ logits
        NDArray wcol = m.create(w, new ai.djl.ndarray.types.Shape(n, 1));
        for (int l = layers - 1; l >= 0; l--) {
          NDArray d2 = delta.mul(delta).mul(wcol);
          NDArray gw = d2.transpose().matMul(a[l].mul(a[l]));
          NDArray gb = d2.sum(new int[] {0});
          fw[l] = fw[l] == null ? gw : fw[l].add(gw);
          fb[l] = fb[l] == null ? gb : fb[l].add(gb);
          if (l > 0) {
            delta = delta.matMul(params.get("fc" + (l + 1) + ".weight")).mul(active[l - 1]);
          }
        }
        progress.update((long) n * (slot + 1) / slots, n, 0, 0);
      }
      for (int l = 0; l < layers; l++) {
        acc.put("fc" + (l + 1) + ".weight", toDoubles(fw[l]));
        acc.put("fc" + (l + 1) + ".bias", toDoubles(fb[l]));
      }
    }
    Map<String, double[]> ordered = new LinkedHashMap<>();
    params.keySet().forEach(k -> ordered.put(k, acc.get(k)));
    return ordered;
  }

  private static double[] toDoubles(NDArray a) {
    float[] f = a.toFloatArray();
    double[] d = new double[f.length];
    for (int i = 0; i < f.length; i++) {
      d[i] = f[i];
    }
    return d;
  }

  /** Per-example squared gradients by autograd: one backward pass per example and label. */
  private Map<String, double[]> autogradFisher(Dataset data, int[][] labels, double[][] weights, Progress progress) {
    int f = data.featureCount();
    Map<String, double[]> acc = new LinkedHashMap<>();
    params.forEach((k, v) -> acc.put(k, new double[(int) v.size()]));
    params.values().forEach(p -> p.setRequiresGradient(true));
    try {
      for (int i = 0; i < data.size(); i++) {
        float[] xi = Arrays.copyOfRange(data.features(), i * f, (i + 1) * f);
        for (int li = 0; li < labels[i].length; li++) {
          try (NDManager scope = manager.newSubManager()) {
            NDArray x = scope.create(xi, inputShape(1));
            try (GradientCollector gc = Engine.getEngine("PyTorch").newGradientCollector()) {
              gc.zeroGradients();
              NDArray logp = logits(x).logSoftmax(-1);
              gc.backward(logp.get(0, labels[i][li]));
            }
            FisherMath.addSquaredGradients(params, acc, weights[i][li]);
          }
        }
        progress.update(i + 1, data.size(), 0, 0);
      }
    } finally {
      params.values().forEach(p -> p.setRequiresGradient(false));
    }
    return acc;
  }

  @Override
  public void close() {
    uploaded.clear();
    manager.close();
  }
}
