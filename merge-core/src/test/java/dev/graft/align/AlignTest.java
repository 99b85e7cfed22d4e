package dev.graft.align;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.graft.InvalidInputException;
import dev.graft.data.Dataset;
import dev.graft.data.ProceduralDigits;
import dev.graft.io.Checkpoint;
import dev.graft.io.Progress;
import dev.graft.model.Classifier;
import dev.graft.model.ClassifierConfig;
import dev.graft.model.LlamaConfig;
import dev.graft.model.ReferenceLlama;
import dev.graft.model.Weights;
import dev.graft.recipe.RecipeException;
import dev.graft.synth.SynthArch;
import dev.graft.synth.SynthSpec;
import dev.graft.synth.SyntheticCheckpoints;
import dev.graft.tensor.DType;
import dev.graft.tensor.Device;
import dev.graft.tensor.Shape;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

class AlignTest {
  @TempDir Path dir;

  static Path synth(SynthArch arch, Path dir, long seed) {
    boolean tie = arch == SynthArch.QWEN2;
    SynthSpec s = new SynthSpec(300, 32, 2, 4, 2, 48, tie, DType.F32, 1L << 30, 0, 1, seed).withArch(arch, arch == SynthArch.QWEN3 ? 16 : 0);
    SyntheticCheckpoints.writeModel(s, 0, dir, 2, Progress.NONE);
    return dir;
  }

  static Map<String, int[]> randomPerms(Map<String, Integer> sizes, long seed) {
    SplittableRandom r = new SplittableRandom(seed);
    Map<String, int[]> m = new LinkedHashMap<>();
    sizes.forEach((k, n) -> m.put(k, Permuter.random(n, r)));
    return m;
  }

  /** Every tensor of {@code w} with {@code perms} applied, plus Gaussian noise of {@code noise} × the tensor's std. */
  static Weights permuted(Weights w, PermutationSpec spec, Map<String, int[]> perms, double noise, long seed) {
    Map<String, float[]> v = new LinkedHashMap<>();
    Map<String, Shape> s = new LinkedHashMap<>();
    SplittableRandom r = new SplittableRandom(seed);
    for (String t : w.names()) {
      float[] x = Permuter.apply(w.floats(t), w.shape(t), spec.tensors().get(t), perms).clone();
      if (noise > 0) {
        double mean = 0;
        double sq = 0;
        for (float f : x) {
          mean += f;
          sq += (double) f * f;
        }
        mean /= x.length;
        double std = Math.sqrt(Math.max(0, sq / x.length - mean * mean));
        for (int i = 0; i < x.length; i++) {
          x[i] += (float) (noise * std * r.nextGaussian());
        }
      }
      v.put(t, x);
      s.put(t, w.shape(t));
    }
    return Weights.of("permuted " + w.origin(), v, s);
  }

  static double relErr(double[][] a, double[][] b) {
    double diff = 0;
    double max = 0;
    for (int i = 0; i < a.length; i++) {
      for (int j = 0; j < a[i].length; j++) {
        diff = Math.max(diff, Math.abs(a[i][j] - b[i][j]));
        max = Math.max(max, Math.abs(b[i][j]));
      }
    }
    return diff / max;
  }

  /** A random permutation of every group of the built-in spec leaves the double-precision forward unchanged. */
  @ParameterizedTest
  @EnumSource(value = SynthArch.class, names = {"LLAMA", "LLAMA3", "MISTRAL", "QWEN2", "QWEN3"})
  void llamaSpecIsFunctionPreserving(SynthArch arch) {
    Path a = synth(arch, dir.resolve("a"), 3);
    int[] ids = {5, 17, 250, 3, 99, 42, 7};
    try (Checkpoint ca = Checkpoint.open(a)) {
      PermutationSpec spec = Aligner.spec("auto", ca);
      Map<String, Integer> sizes = spec.sizes(WeightMatching.shapes(Weights.of(ca)), "a");
      assertThat(sizes).containsEntry("residual", 32).containsEntry("layers.0.heads", 2).containsEntry("layers.1.mlp", 48);
      assertThat(spec.unnamed(WeightMatching.shapes(Weights.of(ca)))).isEmpty();
      Map<String, int[]> perms = randomPerms(sizes, 9);
      Aligner.write(ca, spec, perms, dir.resolve("b"), 1L << 30, "a");
      LlamaConfig cfg = LlamaConfig.of(ca.config().orElseThrow(), "a");
      double[][] want = new ReferenceLlama(cfg, ca).logits(ids);
      try (Checkpoint cb = Checkpoint.open(dir.resolve("b"))) {
        assertThat(cb.tensors().keySet()).containsExactlyElementsOf(ca.tensors().keySet());
        assertThat(cb.readFloats("model.layers.0.mlp.up_proj.weight")).isNotEqualTo(ca.readFloats("model.layers.0.mlp.up_proj.weight"));
        assertThat(relErr(new ReferenceLlama(cfg, cb).logits(ids), want)).isLessThan(1e-12);
      }
      // Negative control: the spec's caveat. Swapping two rotary pairs inside every q and k head (rows i and j, and
      // i + d/2 and j + d/2, the same in q and k, so q·k without RoPE would not change) changes the function, because
      // RoPE rotates each pair at its own frequency.
      int d = cfg.headDim();
      Map<String, float[]> t = new LinkedHashMap<>();
      Map<String, Shape> s = new LinkedHashMap<>();
      for (String n : ca.tensors().keySet()) {
        float[] x = ca.readFloats(n).clone();
        if (n.endsWith("q_proj.weight") || n.endsWith("k_proj.weight")) {
          int cols = (int) ca.info(n).shape().dim(1);
          int heads = (int) ca.info(n).shape().dim(0) / d;
          for (int h = 0; h < heads; h++) {
            for (int[] sw : new int[][] {{0, 1}, {d / 2, d / 2 + 1}}) {
              for (int c = 0; c < cols; c++) {
                int r0 = (h * d + sw[0]) * cols + c;
                int r1 = (h * d + sw[1]) * cols + c;
                float tmp = x[r0];
                x[r0] = x[r1];
                x[r1] = tmp;
              }
            }
          }
        }
        t.put(n, x);
        s.put(n, ca.info(n).shape());
      }
      if (arch != SynthArch.QWEN3) { // q/k norms are per dimension too; the swap above would need them moved as well
        double err = relErr(logits(cfg, t, s, ids), want);
        assertThat(err).as("RoPE pair swap").isGreaterThan(1e-4);
      }
    }
  }

  /** Double-precision logits of in-memory weights through the reference forward. */
  private double[][] logits(LlamaConfig cfg, Map<String, float[]> t, Map<String, Shape> s, int[] ids) {
    Path p = dir.resolve("mem-" + System.nanoTime());
    java.util.List<dev.graft.io.SafetensorsWriter.Entry> entries = new java.util.ArrayList<>();
    t.forEach((k, v) -> entries.add(new dev.graft.io.SafetensorsWriter.Entry(k, DType.F32, s.get(k))));
    try (dev.graft.io.SafetensorsWriter w = dev.graft.io.SafetensorsWriter.create(p, entries, 1L << 30, Map.of("format", "pt"))) {
      t.forEach((k, v) -> w.writeFloats(k, 0, v, 0, v.length));
      w.finish();
    }
    try (Checkpoint c = Checkpoint.open(p)) {
      return new ReferenceLlama(cfg, c).logits(ids);
    }
  }

  @Test
  void mlpAndCnnSpecsAreFunctionPreserving() {
    Dataset digits = ProceduralDigits.generate(8, 64, 1);
    for (ClassifierConfig cfg : new ClassifierConfig[] {
        ClassifierConfig.mlp(64, new int[] {32, 16}, 10), ClassifierConfig.cnn(new int[] {1, 8, 8}, new int[] {6, 5}, new int[] {12}, 10)}) {
      try (Classifier m = Classifier.init(cfg, 4, Device.CPU)) {
        Weights w = m.weights();
        PermutationSpec spec = PermutationSpec.mlp(WeightMatching.shapes(w), cfg.kind());
        Map<String, int[]> perms = randomPerms(spec.sizes(WeightMatching.shapes(w), cfg.kind()), 2);
        assertThat(perms).hasSize(cfg.channels().length + cfg.hidden().length);
        try (Classifier p = Classifier.of(cfg, permuted(w, spec, perms, 0, 0), Device.CPU)) {
          float[] x = m.probabilities(digits);
          float[] y = p.probabilities(digits);
          for (int i = 0; i < x.length; i++) {
            assertThat(y[i]).isCloseTo(x[i], org.assertj.core.data.Offset.offset(2e-6f));
          }
          assertThat(p.state().get(cfg.kind().equals("cnn") ? "conv1.weight" : "fc1.weight")).isNotEqualTo(m.state().get(cfg.kind().equals("cnn") ? "conv1.weight" : "fc1.weight"));
        }
      }
    }
  }

  @Test
  void plantedPermutationsAreRecoveredWithAndWithoutNoise() {
    try (Classifier m = Classifier.init(ClassifierConfig.mlp(64, new int[] {48, 32}, 10), 4, Device.CPU);
        Checkpoint lm = Checkpoint.open(synth(SynthArch.QWEN2, dir.resolve("lm"), 5))) {
      Weights[] models = {m.weights(), Weights.of(lm)};
      for (Weights a : models) {
        PermutationSpec spec = a == models[1] ? Aligner.spec("auto", lm) : PermutationSpec.mlp(WeightMatching.shapes(a), "x");
        Map<String, Integer> sizes = spec.sizes(WeightMatching.shapes(a), "a");
        for (double noise : new double[] {0, 0.05, 0.1}) {
          Map<String, int[]> planted = randomPerms(sizes, 17);
          Weights b = permuted(a, spec, planted, noise, 3);
          Aligner.Report r = Aligner.align(spec, a, b, new WeightMatching.Options(50, 1e-9, 1, Device.CPU), 4, WeightMatching.Listener.NONE);
          for (String p : sizes.keySet()) {
            assertThat(r.matching().perms().get(p)).as("%s noise %s perm %s", a.origin(), noise, p).containsExactly(Permuter.inverse(planted.get(p)));
          }
          assertThat(r.matching().converged()).isTrue();
          assertThat(r.distanceAfter()).isLessThan(r.distanceBefore() / 3);
          // Matching aligns the large singular directions (Ito et al.): top-4 subspaces go from unrelated to shared.
          assertThat(r.meanAgreement(false)).isLessThan(0.5);
          assertThat(r.meanAgreement(true)).isGreaterThan(noise == 0 ? 0.99 : 0.8);
          var sweeps = r.matching().sweeps();
          assertThat(sweeps.get(sweeps.size() - 1).objective()).isGreaterThan(r.matching().initialObjective());
          if (noise == 0) {
            assertThat(r.distanceAfter()).isLessThan(1e-9);
          }
        }
      }
    }
  }

  @Test
  void identicalModelsGiveIdentityAfterOneSweep() {
    try (Classifier m = Classifier.init(ClassifierConfig.mlp(64, new int[] {32}, 10), 1, Device.CPU)) {
      PermutationSpec spec = PermutationSpec.mlp(WeightMatching.shapes(m.weights()), "mlp");
      WeightMatching.Result r = WeightMatching.match(spec, m.weights(), m.weights(), WeightMatching.Options.defaults(), WeightMatching.Listener.NONE);
      assertThat(r.sweeps()).hasSize(1);
      assertThat(r.converged()).isTrue();
      assertThat(r.perms().values()).allMatch(Permuter::isIdentity);
    }
  }

  @Test
  void badSpecsAreReportedBeforeAnyWork() {
    try (Classifier m = Classifier.init(ClassifierConfig.mlp(64, new int[] {32}, 10), 1, Device.CPU)) {
      Map<String, Shape> shapes = WeightMatching.shapes(m.weights());
      PermutationSpec wrong = PermutationSpec.parse("tensors:\n  fc1.weight: [h, null]\n  fc2.weight: [null, h]\n  fc2.bias: [h]\n  fc9.weight: [h, null]\n", "s.yaml");
      assertThatThrownBy(() -> wrong.sizes(shapes, "model m"))
          .isInstanceOf(InvalidInputException.class)
          .hasMessageContaining("permutation h has size 32 at fc1.weight axis 0 (32) but 10 at fc2.bias axis 0 (10)")
          .hasMessageContaining("tensor 'fc9.weight' is not in model m. Did you mean 'fc1.weight'?");
      PermutationSpec rank = PermutationSpec.parse("tensors:\n  fc1.weight: [h]\n", "s.yaml");
      assertThatThrownBy(() -> rank.sizes(shapes, "m")).hasMessageContaining("has 2 axes [32, 64] but the spec gives 1");
      PermutationSpec block = PermutationSpec.parse("tensors:\n  fc1.weight: [{perm: h, block: 5}, null]\n", "s.yaml");
      assertThatThrownBy(() -> block.sizes(shapes, "m")).hasMessageContaining("length 32, not a multiple of block 5");
      assertThatThrownBy(() -> PermutationSpec.parse("tensors:\n  fc1.weight: [h, {perm: g, block: x}]\n  fc2.weight: 3\nextra: 1\n", "s.yaml"))
          .isInstanceOf(RecipeException.class)
          .hasMessageContaining("s.yaml:2:36 tensors.fc1.weight[1].block: block must be a positive integer")
          .hasMessageContaining("s.yaml:3:15 tensors.fc2.weight: expected a list")
          .hasMessageContaining("s.yaml:4:1 extra: unknown key 'extra'");
      assertThatThrownBy(() -> PermutationSpec.read(dir.resolve("none.yaml"))).hasMessageContaining("does not exist");
      // Models of different shapes cannot be aligned.
      try (Classifier other = Classifier.init(ClassifierConfig.mlp(64, new int[] {16}, 10), 1, Device.CPU)) {
        PermutationSpec spec = PermutationSpec.mlp(shapes, "mlp");
        assertThatThrownBy(() -> WeightMatching.check(spec, m.weights(), other.weights()))
            .hasMessageContaining("fc1.weight has shape [16, 64], the reference has [32, 64]");
      }
    }
  }

  @Test
  void specFilesRoundTrip() {
    try (Classifier m = Classifier.init(ClassifierConfig.mlp(64, new int[] {32}, 10), 1, Device.CPU)) {
      PermutationSpec spec = PermutationSpec.mlp(WeightMatching.shapes(m.weights()), "mlp");
      PermutationSpec back = PermutationSpec.parse(spec.toYaml(), "x");
      assertThat(back.tensors()).isEqualTo(spec.tensors());
    }
  }
}
