package dev.graft.model;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.graft.InvalidInputException;
import dev.graft.io.Checkpoint;
import dev.graft.io.ModelConfig;
import dev.graft.io.Progress;
import dev.graft.synth.SynthArch;
import dev.graft.synth.SynthSpec;
import dev.graft.synth.SyntheticCheckpoints;
import dev.graft.tensor.DType;
import dev.graft.tensor.Device;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Random;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

class CausalLmTest {
  /** Relative tolerance of float32 against double (measured: at most 3.1e-7 on these sizes). */
  static final double TOL = 2e-6;

  @TempDir Path dir;

  static SynthSpec spec(SynthArch arch) {
    boolean tie = arch == SynthArch.LLAMA3 || arch == SynthArch.QWEN2;
    DType dtype = arch == SynthArch.MISTRAL ? DType.F32 : DType.BF16;
    return new SynthSpec(300, 32, 2, 4, 2, 48, tie, dtype, 20_000, 0, 1, 11).withArch(arch, arch == SynthArch.QWEN3 ? 16 : 0);
  }

  static Path write(SynthSpec s, Path dir) {
    SyntheticCheckpoints.writeModel(s, 0, dir, 2, Progress.NONE);
    return dir;
  }

  static int[] randomIds(Random r, int n, int vocab) {
    int[] ids = new int[n];
    for (int i = 0; i < n; i++) {
      ids[i] = r.nextInt(vocab);
    }
    return ids;
  }

  /** Largest |a - b| over the first {@code n} positions, divided by the largest |b|. */
  static double relErr(float[] got, int offset, double[][] want, int vocab) {
    double maxDiff = 0;
    double maxAbs = 0;
    for (int p = 0; p < want.length; p++) {
      for (int v = 0; v < vocab; v++) {
        maxDiff = Math.max(maxDiff, Math.abs(got[offset + p * vocab + v] - want[p][v]));
        maxAbs = Math.max(maxAbs, Math.abs(want[p][v]));
      }
    }
    return maxDiff / maxAbs;
  }

  @ParameterizedTest
  @EnumSource(SynthArch.class)
  void batchedForwardMatchesTheDoublePrecisionReference(SynthArch arch) {
    SynthSpec s = spec(arch);
    Path model = write(s, dir.resolve(arch.cliName()));
    Random r = new Random(3);
    int[] a = randomIds(r, 12, s.vocab());
    int[] b = randomIds(r, 7, s.vocab());
    int[][] batch = {a, java.util.Arrays.copyOf(b, 12)}; // right-padded with token 0
    try (CausalLm lm = CausalLm.load(model, Device.CPU);
        Checkpoint c = Checkpoint.open(model);
        ai.djl.ndarray.NDManager scope = ai.djl.ndarray.NDManager.newBaseManager("PyTorch")) {
      ReferenceLlama ref = new ReferenceLlama(lm.config(), c);
      float[] logits = lm.forward(scope, batch, null).toFloatArray();
      double[][] wantA = ref.logits(a);
      double[][] wantB = ref.logits(b);
      assertThat(relErr(logits, 0, wantA, s.vocab())).as(arch + " row 0").isLessThan(TOL);
      assertThat(relErr(logits, 12 * s.vocab(), wantB, s.vocab())).as(arch + " row 1 (padded)").isLessThan(TOL);
      // logits vary with position and token: the comparison is not between constants
      assertThat(Math.abs(wantA[5][7] - wantA[6][7])).isGreaterThan(1e-3 * Math.abs(wantA[5][7]));
    }
  }

  @Test
  void referenceIsSensitiveToRopeScalingAndQkNorms() {
    // negative controls: the variants differ measurably, so the comparison above would catch a missing feature
    for (SynthArch arch : new SynthArch[] {SynthArch.LLAMA3, SynthArch.QWEN3}) {
      Path model = write(spec(arch), dir.resolve(arch.cliName()));
      int[] ids = randomIds(new Random(5), 40, 300);
      try (CausalLm lm = CausalLm.load(model, Device.CPU); Checkpoint c = Checkpoint.open(model)) {
        LlamaConfig k = lm.config();
        LlamaConfig wrong = arch == SynthArch.LLAMA3
            ? new LlamaConfig(k.modelType(), k.vocab(), k.hidden(), k.intermediate(), k.layers(), k.heads(), k.kvHeads(),
                k.headDim(), k.rmsNormEps(), new LlamaConfig.Rope(k.rope().theta(), "default", 1, 1, 1, 0),
                k.tieEmbeddings(), k.qkvBias(), k.oBias(), k.mlpBias(), k.qkNorm(), k.slidingWindow())
            : new LlamaConfig(k.modelType(), k.vocab(), k.hidden(), k.intermediate(), k.layers(), k.heads(), k.kvHeads(),
                k.headDim(), k.rmsNormEps(), k.rope(), k.tieEmbeddings(), k.qkvBias(), k.oBias(), k.mlpBias(), false,
                k.slidingWindow());
        float[] got = lm.logits(ids);
        assertThat(relErr(got, 0, new ReferenceLlama(k, c).logits(ids), 300)).isLessThan(TOL);
        assertThat(relErr(got, 0, new ReferenceLlama(wrong, c).logits(ids), 300)).as(arch.name()).isGreaterThan(50 * TOL);
      }
    }
  }

  @Test
  void slidingWindowMasksDistantKeys() throws IOException {
    Path model = write(spec(SynthArch.MISTRAL), dir.resolve("m"));
    rewriteConfig(model, c -> c.put("sliding_window", 3));
    int[] ids = randomIds(new Random(9), 10, 300);
    try (CausalLm lm = CausalLm.load(model, Device.CPU); Checkpoint c = Checkpoint.open(model)) {
      assertThat(lm.config().slidingWindow()).containsExactly(3, 3);
      assertThat(relErr(lm.logits(ids), 0, new ReferenceLlama(lm.config(), c).logits(ids), 300)).isLessThan(TOL);
      // the first 3 positions see no more than a full mask would, later ones differ
      rewriteConfig(model, n -> n.putNull("sliding_window"));
      try (CausalLm full = CausalLm.load(model, Device.CPU)) {
        float[] a = lm.logits(ids);
        float[] b = full.logits(ids);
        assertThat(a[2 * 300 + 1]).isEqualTo(b[2 * 300 + 1]);
        assertThat(Math.abs(a[9 * 300 + 1] - b[9 * 300 + 1])).isGreaterThan(1e-6f);
      }
    }
  }

  @Test
  void cachedGenerationEqualsRecomputingTheWholeSequence() {
    Path model = write(spec(SynthArch.QWEN3), dir.resolve("q"));
    int[] prompt = randomIds(new Random(2), 6, 300);
    try (CausalLm lm = CausalLm.load(model, Device.CPU)) {
      int[] gen = lm.generate(prompt, 8);
      assertThat(gen).hasSize(8);
      int[] seq = prompt;
      for (int g : gen) {
        float[] logits = lm.logits(seq);
        int best = 0;
        int off = (seq.length - 1) * 300;
        for (int v = 1; v < 300; v++) {
          if (logits[off + v] > logits[off + best]) {
            best = v;
          }
        }
        assertThat(g).isEqualTo(best);
        seq = java.util.Arrays.copyOf(seq, seq.length + 1);
        seq[seq.length - 1] = g;
      }
      // a stop token ends generation right after it
      int[] stopped = lm.generate(prompt, 8, gen[2]);
      assertThat(stopped).hasSizeLessThanOrEqualTo(3).endsWith(gen[2]);
    }
  }

  @Test
  void nextTokenLogProbsAreLogSoftmaxOfTheReference() {
    Path model = write(spec(SynthArch.LLAMA), dir.resolve("l"));
    int[] a = randomIds(new Random(4), 9, 300);
    int[] b = java.util.Arrays.copyOf(randomIds(new Random(6), 4, 300), 9);
    try (CausalLm lm = CausalLm.load(model, Device.CPU); Checkpoint c = Checkpoint.open(model)) {
      double[][] lp = lm.nextTokenLogProbs(new int[][] {a, b}, new int[] {9, 4});
      assertThat(lp[0]).hasSize(8);
      assertThat(lp[1]).hasSize(3);
      double[][] ref = new ReferenceLlama(lm.config(), c).logits(java.util.Arrays.copyOf(b, 4));
      for (int p = 0; p < 3; p++) {
        double max = java.util.Arrays.stream(ref[p]).max().orElseThrow();
        double z = 0;
        for (double v : ref[p]) {
          z += Math.exp(v - max);
        }
        double want = ref[p][b[p + 1]] - max - Math.log(z);
        assertThat(lp[1][p]).isCloseTo(want, org.assertj.core.data.Offset.offset(1e-4));
      }
    }
  }

  @Test
  void fisherFollowsTheGradientsStructure() {
    Path model = write(spec(SynthArch.LLAMA), dir.resolve("f"));
    java.util.List<int[]> seqs = java.util.List.of(new int[] {5, 9, 17, 5, 30}, new int[] {40, 41, 42});
    try (CausalLm lm = CausalLm.load(model, Device.CPU)) {
      var emp = lm.fisher(seqs, true, 0, Progress.NONE);
      var sampled = lm.fisher(seqs, false, 3, Progress.NONE);
      assertThat(emp.keySet()).containsExactlyInAnyOrderElementsOf(CausalLm.expected(lm.config()).keySet());
      assertThat(lm.fisher(seqs, false, 3, Progress.NONE).get("lm_head.weight")).isEqualTo(sampled.get("lm_head.weight"));
      assertThat(sampled.get("lm_head.weight")).isNotEqualTo(emp.get("lm_head.weight"));
      float[] embed = emp.get("model.embed_tokens.weight");
      int h = lm.config().hidden();
      // only the rows of tokens that are read have gradients; every lm_head row gets one (softmax over the vocabulary)
      assertThat(sumRow(embed, 9, h)).isGreaterThan(0);
      assertThat(sumRow(embed, 42, h)).isZero(); // 42 is only ever a target, never an input
      assertThat(sumRow(embed, 200, h)).isZero();
      assertThat(sumRow(emp.get("lm_head.weight"), 200, h)).isGreaterThan(0);
      for (float[] v : emp.values()) {
        for (float x : v) {
          assertThat(x).isGreaterThanOrEqualTo(0f);
        }
      }
    }
  }

  private static double sumRow(float[] m, int row, int cols) {
    double s = 0;
    for (int j = 0; j < cols; j++) {
      s += m[row * cols + j];
    }
    return s;
  }

  @Test
  void badConfigsAndTensorsAreReportedWithTheirFields() throws IOException {
    Path model = write(spec(SynthArch.LLAMA), dir.resolve("bad"));
    ObjectNode good = ModelConfig.read(model.resolve("config.json")).json();
    ObjectNode bad = good.deepCopy();
    bad.remove("hidden_size");
    bad.put("model_type", "gpt2");
    bad.putObject("rope_scaling").put("rope_type", "yarn").put("factor", 4.0);
    bad.put("num_key_value_heads", 3);
    assertThatThrownBy(() -> LlamaConfig.of(ModelConfig.of(bad), "cfg.json"))
        .isInstanceOf(InvalidInputException.class)
        .hasMessageContaining("cfg.json")
        .hasMessageContaining("missing field hidden_size")
        .hasMessageContaining("model_type 'gpt2' is not supported")
        .hasMessageContaining("rope_scaling type 'yarn'")
        .hasMessageContaining("num_key_value_heads (3)");
    rewriteConfig(model, c -> c.put("intermediate_size", 50));
    assertThatThrownBy(() -> CausalLm.load(model, Device.CPU))
        .isInstanceOf(InvalidInputException.class)
        .hasMessageContaining("model.layers.0.mlp.gate_proj.weight has shape [48, 32], config.json (llama) implies [50, 32]");
    rewriteConfig(model, c -> c.put("intermediate_size", 48).put("model_type", "qwen2"));
    assertThatThrownBy(() -> CausalLm.load(model, Device.CPU))
        .isInstanceOf(InvalidInputException.class)
        .hasMessageContaining("missing tensor model.layers.0.self_attn.q_proj.bias");
  }

  static void rewriteConfig(Path model, java.util.function.Consumer<ObjectNode> edit) throws IOException {
    Path f = model.resolve("config.json");
    ObjectNode n = ModelConfig.read(f).json();
    edit.accept(n);
    Files.writeString(f, new ObjectMapper().writerWithDefaultPrettyPrinter().writeValueAsString(n));
  }
}
