package dev.graft.plan;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.graft.io.Checkpoint;
import dev.graft.io.SafetensorsWriter;
import dev.graft.op.Operators;
import dev.graft.recipe.RecipeReader;
import dev.graft.tensor.DType;
import dev.graft.tensor.Shape;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * mergekit's {@code model+lora}: a PEFT adapter applied to its base before merging, as PEFT's merge_and_unload does,
 * checked against W + (alpha / r) · B·A computed here in double from the formulas.
 */
class LoraMergeTest {
  @TempDir static Path work;
  static final int HIDDEN = 32;
  static final int VOCAB = 300;
  static Map<String, float[]> adapter = new LinkedHashMap<>();

  @BeforeAll
  static void family() throws IOException {
    MergeFixtures.family(work.resolve("family"), MergeFixtures.spec(DType.F32, false, 1, VOCAB, HIDDEN));
    try (Checkpoint base = Checkpoint.open(work.resolve("family/base"))) {
      Shape q = base.info("model.layers.0.self_attn.q_proj.weight").shape();
      Shape v = base.info("model.layers.1.self_attn.v_proj.weight").shape();
      SplittableRandom r = new SplittableRandom(5);
      put(r, "base_model.model.model.layers.0.self_attn.q_proj.lora_A.weight", 4, (int) q.dim(1));
      put(r, "base_model.model.model.layers.0.self_attn.q_proj.lora_B.weight", (int) q.dim(0), 4);
      put(r, "base_model.model.model.layers.1.self_attn.v_proj.lora_A.weight", 4, (int) v.dim(1));
      put(r, "base_model.model.model.layers.1.self_attn.v_proj.lora_B.weight", (int) v.dim(0), 4);
      put(r, "base_model.model.model.embed_tokens.lora_embedding_A", 4, VOCAB);
      put(r, "base_model.model.model.embed_tokens.lora_embedding_B", HIDDEN, 4);
      put(r, "base_model.model.lm_head.weight", VOCAB, HIDDEN); // modules_to_save
    }
    writeAdapter(work.resolve("adapter"), adapter, shapes(), """
        {"peft_type": "LORA", "r": 4, "lora_alpha": 8, "alpha_pattern": {"v_proj": 16}, "target_modules": ["q_proj", "v_proj", "embed_tokens"],
         "modules_to_save": ["lm_head"], "use_rslora": false, "fan_in_fan_out": false}
        """);
  }

  static final Map<String, int[]> SHAPES = new LinkedHashMap<>();

  static void put(SplittableRandom r, String name, int rows, int cols) {
    float[] v = new float[rows * cols];
    for (int i = 0; i < v.length; i++) {
      v[i] = (float) (r.nextGaussian() * 0.1);
    }
    adapter.put(name, v);
    SHAPES.put(name, new int[] {rows, cols});
  }

  static Map<String, int[]> shapes() {
    return SHAPES;
  }

  static void writeAdapter(Path dir, Map<String, float[]> tensors, Map<String, int[]> shapes, String config) throws IOException {
    Files.createDirectories(dir);
    List<SafetensorsWriter.Entry> es = new ArrayList<>();
    tensors.forEach((k, v) -> es.add(new SafetensorsWriter.Entry(k, DType.F32, Shape.of(shapes.get(k)))));
    try (SafetensorsWriter w = SafetensorsWriter.createFile(dir.resolve("adapter_model.safetensors"), es, Map.of("format", "pt"))) {
      tensors.forEach((k, v) -> w.writeFloats(k, 0, v, 0, v.length));
      w.finish();
    }
    Files.writeString(dir.resolve("adapter_config.json"), config);
  }

  static MergeRunner.Merged merge(String yaml) {
    List<MergePlan> ps = MergeRunner.prepare(RecipeReader.parse(yaml, "lora.yml"), MergeFixtures.resolver(work), Operators.builtIn());
    try (var be = dev.graft.tensor.Backends.create("reference", dev.graft.tensor.Device.CPU)) {
      return MergeRunner.runInMemory(ps, new MergeExecutor.Options(be, 1, 50_000, 2, 1L << 30), (i, n, p) -> dev.graft.io.Progress.NONE);
    }
  }

  /** base + scale · B·A (transposed into the base's layout for an embedding), in double. */
  static double[] expected(float[] base, String a, String b, double scale, boolean transposed) {
    float[] av = adapter.get(a);
    float[] bv = adapter.get(b);
    int r = SHAPES.get(a)[0];
    int in = SHAPES.get(a)[1];
    int out = SHAPES.get(b)[0];
    double[] e = new double[base.length];
    for (int i = 0; i < e.length; i++) {
      e[i] = base[i];
    }
    for (int o = 0; o < out; o++) {
      for (int i = 0; i < in; i++) {
        double s = 0;
        for (int k = 0; k < r; k++) {
          s += (double) bv[o * r + k] * av[k * in + i];
        }
        e[transposed ? i * out + o : o * in + i] += scale * s;
      }
    }
    return e;
  }

  static void close(float[] got, double[] want, String what) {
    assertThat(got).as(what).hasSize(want.length);
    for (int i = 0; i < want.length; i++) {
      assertThat((double) got[i]).as(what + "[" + i + "]").isCloseTo(want[i], org.assertj.core.api.Assertions.within(1e-6));
    }
  }

  @Test
  void anAdapterIsAppliedToItsBaseBeforeMerging() {
    MergeRunner.Merged m = merge("""
        merge_method: linear
        models:
          - model: family/base+adapter
            parameters: {weight: 1.0}
        dtype: float32
        """);
    try (Checkpoint base = Checkpoint.open(work.resolve("family/base"))) {
      String p = "base_model.model.";
      close(m.tensors().get("model.layers.0.self_attn.q_proj.weight"), expected(base.readFloats("model.layers.0.self_attn.q_proj.weight"),
          p + "model.layers.0.self_attn.q_proj.lora_A.weight", p + "model.layers.0.self_attn.q_proj.lora_B.weight", 8.0 / 4, false), "q_proj");
      close(m.tensors().get("model.layers.1.self_attn.v_proj.weight"), expected(base.readFloats("model.layers.1.self_attn.v_proj.weight"),
          p + "model.layers.1.self_attn.v_proj.lora_A.weight", p + "model.layers.1.self_attn.v_proj.lora_B.weight", 16.0 / 4, false),
          "v_proj (alpha_pattern)");
      close(m.tensors().get("model.embed_tokens.weight"), expected(base.readFloats("model.embed_tokens.weight"),
          p + "model.embed_tokens.lora_embedding_A", p + "model.embed_tokens.lora_embedding_B", 8.0 / 4, true), "embeddings");
      assertThat(m.tensors().get("lm_head.weight")).containsExactly(adapter.get(p + "lm_head.weight"));
      for (String n : base.tensors().keySet()) {
        if (!List.of("model.layers.0.self_attn.q_proj.weight", "model.layers.1.self_attn.v_proj.weight", "model.embed_tokens.weight",
            "lm_head.weight").contains(n)) {
          assertThat(m.tensors().get(n)).as(n + " is not adapted").containsExactly(base.readFloats(n));
        }
      }
    }
  }

  @Test
  void theAdaptedModelWorksWithEveryOperatorAndOnDisk() throws IOException {
    String yaml = """
        merge_method: task_arithmetic
        base_model: family/base
        models:
          - model: family/base+adapter
            parameters: {weight: 0.5}
          - model: family/ft-1
            parameters: {weight: 0.5}
        dtype: float32
        """;
    MergeRunner.Merged m = merge(yaml);
    MergeFixtures.merge(yaml, work, work.resolve("disk"), "reference", 1);
    try (Checkpoint disk = Checkpoint.open(work.resolve("disk"))) {
      for (String n : disk.tensors().keySet()) {
        assertThat(m.tensors().get(n)).as(n).containsExactly(disk.readFloats(n));
      }
    }
  }

  @Test
  void anAdapterThatDoesNotFitItsBaseIsReportedBeforeAnyWeightIsRead() throws IOException {
    Map<String, float[]> bad = new LinkedHashMap<>();
    Map<String, int[]> shapes = new LinkedHashMap<>();
    bad.put("base_model.model.model.layers.0.mlp.up_proj.lora_A.weight", new float[4 * 7]);
    shapes.put("base_model.model.model.layers.0.mlp.up_proj.lora_A.weight", new int[] {4, 7});
    bad.put("base_model.model.model.layers.0.mlp.up_proj.lora_B.weight", new float[64 * 4]);
    shapes.put("base_model.model.model.layers.0.mlp.up_proj.lora_B.weight", new int[] {64, 4});
    writeAdapter(work.resolve("bad-adapter"), bad, shapes, "{\"peft_type\": \"LORA\", \"r\": 4, \"lora_alpha\": 4}");
    writeAdapter(work.resolve("dora"), adapter, SHAPES, "{\"peft_type\": \"LORA\", \"r\": 4, \"lora_alpha\": 8, \"use_dora\": true}");
    String yaml = """
        merge_method: linear
        models:
          - model: family/base+bad-adapter
            parameters: {weight: 0.5}
          - model: family/base+dora
            parameters: {weight: 0.5}
          - model: family/ft-1+missing-adapter
            parameters: {weight: 0.5}
        """;
    assertThatThrownBy(() -> MergeRunner.prepare(RecipeReader.parse(yaml, "lora.yml"), MergeFixtures.resolver(work), Operators.builtIn()))
        .hasMessageContaining("lora.yml:3:")
        .hasMessageContaining("does not fit its base model")
        .hasMessageContaining("model.layers.0.mlp.up_proj.weight is [64, 32]")
        .hasMessageContaining("DoRA adapters (use_dora: true) are not supported")
        .hasMessageContaining("LoRA adapter 'missing-adapter' of 'family/ft-1+missing-adapter' not found");
  }
}
