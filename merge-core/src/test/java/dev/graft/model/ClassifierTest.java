package dev.graft.model;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.data.Offset.offset;

import dev.graft.InvalidInputException;
import dev.graft.data.Dataset;
import dev.graft.data.ProceduralDigits;
import dev.graft.io.Progress;
import dev.graft.tensor.Device;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class ClassifierTest {
  @TempDir Path dir;

  @Test
  void mlpLearnsProceduralDigitsDeterministicallyAndRoundTrips() {
    Dataset all = ProceduralDigits.generate(8, 2500, 1);
    Dataset[] s = all.split(0.8, 2);
    ClassifierConfig cfg = ClassifierConfig.mlp(64, new int[] {64}, 10);
    Classifier.TrainOptions opt = new Classifier.TrainOptions(8, 32, 3e-3, 5);
    try (Classifier a = Classifier.init(cfg, 7, Device.CPU); Classifier b = Classifier.init(cfg, 7, Device.CPU)) {
      double before = a.evaluate(s[1]).accuracy();
      List<Classifier.Metrics> h = a.train(s[0], opt, Progress.NONE);
      b.train(s[0], opt, Progress.NONE);
      Classifier.Metrics held = a.evaluate(s[1]);
      assertThat(before).isLessThan(0.3);
      assertThat(held.accuracy()).as("held-out accuracy").isGreaterThan(0.9);
      assertThat(h.get(h.size() - 1).loss()).isLessThan(h.get(0).loss());
      Map<String, float[]> sa = a.state();
      Map<String, float[]> sb = b.state();
      sa.forEach((k, v) -> assertThat(sb.get(k)).as(k).isEqualTo(v)); // same seed, same weights, bit for bit
      a.save(dir.resolve("m"));
      try (Classifier c = Classifier.load(dir.resolve("m"), Device.CPU)) {
        assertThat(c.evaluate(s[1])).isEqualTo(held);
      }
    }
  }

  @Test
  void cnnTrainsOnMnistSizedDigits() {
    Dataset[] s = ProceduralDigits.generate(28, 1200, 3).split(0.75, 1);
    ClassifierConfig cfg = ClassifierConfig.cnn(new int[] {1, 28, 28}, new int[] {8, 16}, new int[] {32}, 10);
    try (Classifier m = Classifier.init(cfg, 1, Device.CPU)) {
      m.train(s[0], new Classifier.TrainOptions(4, 32, 3e-3, 1), Progress.NONE);
      assertThat(m.evaluate(s[1]).accuracy()).isGreaterThan(0.85);
      assertThat(m.state().get("conv1.weight")).hasSize(8 * 9);
    }
  }

  /** A 2-input, 2-class linear model: logits = W x + b; gradients of log p_y are (δ_cy − p_c)·x_j and δ_cy − p_c. */
  @Test
  void fisherOfATwoExampleToyModelEqualsTheHandComputedValue() {
    ClassifierConfig cfg = ClassifierConfig.mlp(2, new int[0], 2);
    float[] w = {0.5f, -1f, 2f, 0.25f};
    float[] bias = {0.1f, -0.3f};
    Weights weights = Weights.of("toy", Map.of("fc1.weight", w, "fc1.bias", bias), cfg.tensors());
    Dataset data = new Dataset("toy", new int[] {2}, new float[] {1f, 2f, -0.5f, 1.5f}, new int[] {0, 1}, 2);
    double[] fw = new double[4];
    double[] fb = new double[2];
    double[] ew = new double[4];
    for (int n = 0; n < 2; n++) {
      double x0 = data.features()[2 * n];
      double x1 = data.features()[2 * n + 1];
      double z0 = w[0] * x0 + w[1] * x1 + bias[0];
      double z1 = w[2] * x0 + w[3] * x1 + bias[1];
      double p0 = 1 / (1 + Math.exp(z1 - z0));
      double[] p = {p0, 1 - p0};
      double[] x = {x0, x1};
      for (int c = 0; c < 2; c++) {
        fb[c] += p[c] * (1 - p[c]) / 2; // Σ_y p_y (δ_cy − p_c)² = p_c (1 − p_c)
        for (int j = 0; j < 2; j++) {
          fw[c * 2 + j] += p[c] * (1 - p[c]) * x[j] * x[j] / 2;
          double g = ((c == data.labels()[n]) ? 1 : 0) - p[c];
          ew[c * 2 + j] += g * g * x[j] * x[j] / 2;
        }
      }
    }
    try (Classifier m = Classifier.of(cfg, weights, Device.CPU)) {
      Map<String, float[]> exact = m.fisher(data, Classifier.FisherMode.EXACT, 0, Progress.NONE);
      for (int i = 0; i < 4; i++) {
        assertThat((double) exact.get("fc1.weight")[i]).isCloseTo(fw[i], offset(1e-6));
      }
      assertThat((double) exact.get("fc1.bias")[0]).isCloseTo(fb[0], offset(1e-6));
      Map<String, float[]> emp = m.fisher(data, Classifier.FisherMode.EMPIRICAL, 0, Progress.NONE);
      for (int i = 0; i < 4; i++) {
        assertThat((double) emp.get("fc1.weight")[i]).isCloseTo(ew[i], offset(1e-6));
      }
      // sampled labels: unbiased, so over many draws the average approaches the exact value
      float[] rep = new float[2000 * 2];
      int[] labels = new int[2000];
      for (int r = 0; r < 2000; r++) {
        System.arraycopy(data.features(), 2 * (r % 2), rep, 2 * r, 2);
      }
      Map<String, float[]> sampled = m.fisher(new Dataset("rep", new int[] {2}, rep, labels, 2),
          Classifier.FisherMode.SAMPLED, 11, Progress.NONE);
      for (int i = 0; i < 4; i++) {
        assertThat((double) sampled.get("fc1.weight")[i]).isCloseTo(fw[i], offset(0.08 * fw[i] + 1e-4));
      }
    }
  }

  @Test
  void batchedMlpFisherEqualsPerExampleAutograd() {
    Dataset data = ProceduralDigits.generate(8, 40, 5);
    try (Classifier m = Classifier.init(ClassifierConfig.mlp(64, new int[] {16, 12}, 10), 3, Device.CPU)) {
      m.train(data, new Classifier.TrainOptions(2, 8, 1e-2, 1), Progress.NONE); // not at the initial point
      for (Classifier.FisherMode mode : new Classifier.FisherMode[] {Classifier.FisherMode.EXACT, Classifier.FisherMode.EMPIRICAL}) {
        Map<String, float[]> fast = m.fisher(data, mode, 0, Progress.NONE);
        Map<String, float[]> slow = m.fisherByAutograd(data, mode, 0);
        assertThat(fast.keySet()).containsExactlyElementsOf(slow.keySet());
        fast.forEach((k, v) -> {
          float[] w = slow.get(k);
          double scale = 0;
          for (float x : w) {
            scale = Math.max(scale, Math.abs(x));
          }
          assertThat(scale).as(k).isGreaterThan(0);
          for (int i = 0; i < v.length; i++) {
            assertThat((double) v[i]).as(mode + " " + k + "[" + i + "]").isCloseTo(w[i], offset(1e-5 * scale));
          }
        });
      }
    }
  }

  @Test
  void mismatchedDataAndConfigsAreClearErrors() {
    assertThatThrownBy(() -> ClassifierConfig.cnn(new int[] {1, 8, 8}, new int[] {4, 4, 4, 4}, new int[0], 10))
        .isInstanceOf(InvalidInputException.class).hasMessageContaining("shrink 8x8 below 1x1");
    try (Classifier m = Classifier.init(ClassifierConfig.mlp(64, new int[] {8}, 10), 1, Device.CPU)) {
      assertThatThrownBy(() -> m.evaluate(ProceduralDigits.generate(28, 3, 1)))
          .isInstanceOf(InvalidInputException.class).hasMessageContaining("784 values").hasMessageContaining("takes 64");
    }
  }
}
