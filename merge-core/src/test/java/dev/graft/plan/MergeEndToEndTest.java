package dev.graft.plan;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.graft.io.Checkpoint;
import dev.graft.io.DTypeCodec;
import dev.graft.io.Progress;
import dev.graft.op.Operators;
import dev.graft.recipe.Recipe;
import dev.graft.recipe.RecipeReader;
import dev.graft.tensor.Backends;
import dev.graft.tensor.Device;
import dev.graft.tensor.spi.Backend;
import java.util.List;
import dev.graft.op.Oracle;
import dev.graft.recipe.RecipeException;
import dev.graft.tensor.DType;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/** Whole merges through planner and executor, checked against the formulas. */
class MergeEndToEndTest {
  @TempDir Path work;

  static double[] dbl(float[] a) {
    double[] d = new double[a.length];
    for (int i = 0; i < a.length; i++) {
      d[i] = a[i];
    }
    return d;
  }

  /** TIES with a weight gradient and a filter: per-layer parameters resolved as mergekit does, rounded on save. */
  @ParameterizedTest
  @CsvSource({"F32,float32,reference", "BF16,bfloat16,djl", "F16,float16,nd4j", "BF16,float32,reference"})
  void tiesMatchesTheFormula(String storage, String outDtype, String backend) throws IOException {
    DType in = DType.valueOf(storage);
    MergeFixtures.family(work.resolve("family"), MergeFixtures.spec(in, false, 2, 300, 32));
    String yaml = """
        merge_method: ties
        base_model: family/base
        models:
          - model: family/ft-1
            parameters: {weight: [0.2, 1.0], density: 0.5}
          - model: family/ft-2
            parameters:
              weight: 0.7
              density:
                - filter: mlp
                  value: 0.3
                - value: 0.6
        out_dtype: %s
        """.formatted(outDtype);
    Path out = work.resolve("out");
    MergeFixtures.merge(yaml, work, out, backend, 0);
    DType od = DType.parse(outDtype.equals("float32") ? "f32" : outDtype.equals("float16") ? "f16" : "bf16");
    try (Checkpoint b = Checkpoint.open(work.resolve("family/base")); Checkpoint f1 = Checkpoint.open(work.resolve("family/ft-1"));
        Checkpoint f2 = Checkpoint.open(work.resolve("family/ft-2")); Checkpoint o = Checkpoint.open(out)) {
      // layer k of 4 has t = k/3; the embedding t = 0
      String[] names = {"model.embed_tokens.weight", "model.layers.0.mlp.up_proj.weight", "model.layers.3.self_attn.q_proj.weight", "model.layers.2.mlp.down_proj.weight"};
      double[] ts = {0, 0, 1, 2.0 / 3};
      for (int k = 0; k < names.length; k++) {
        String n = names[k];
        double[] base = dbl(b.readFloats(n));
        double[] d1 = Oracle.sub(dbl(f1.readFloats(n)), base);
        double[] d2 = Oracle.sub(dbl(f2.readFloats(n)), base);
        double w1 = 0.2 + 0.8 * ts[k];
        double dens2 = n.contains("mlp") ? 0.3 : 0.6;
        double[] m1 = Oracle.magnitude(d1, 0.5, d1.length);
        double[] m2 = Oracle.magnitude(d2, dens2, d2.length);
        double[] expected = Oracle.combine(base, new double[][] {m1, m2}, new double[] {w1, 0.7}, true, true, 1.0);
        float[] got = o.readFloats(n);
        assertThat(o.info(n).dtype()).isEqualTo(od);
        int bad = 0;
        String first = "";
        int ambiguous = 0;
        for (int i = 0; i < got.length; i++) {
          double e = expected[i];
          // bf16 deltas are coarse: weighted votes can cancel exactly in real numbers, and then float32 and double
          // rounding may elect different signs; such elements are legitimately ambiguous.
          double u1 = w1 * m1[i];
          double u2 = 0.7 * m2[i];
          if (u1 != 0 && u2 != 0 && Math.abs(u1 + u2) <= 1e-6 * (Math.abs(u1) + Math.abs(u2))) {
            ambiguous++;
            continue;
          }
          double ulp = od == DType.F32 ? 0 : Math.abs(DTypeCodec.roundTo((float) e, od)) * (od == DType.BF16 ? 0x1p-7 : 0x1p-10);
          if (!(Math.abs(got[i] - e) <= 2e-6 + 2e-5 * Math.abs(e) + ulp)) {
            if (bad++ == 0) {
              first = " first at " + i + ": " + got[i] + " vs " + e + " (base " + base[i] + ", deltas " + d1[i] + ", " + d2[i] + ")";
            }
          }
        }
        assertThat(ambiguous).isLessThan(got.length / 100 + 1);
        assertThat(bad).as(n + " on " + backend + first + " " + storage + " " + storage + "->" + outDtype).isZero();
      }
      assertThat(o.config().orElseThrow().text("torch_dtype")).contains(outDtype);
    }
  }

  @Test
  void tiedEmbeddingsStayTiedAndSameSeedGivesSameBytes() throws IOException {
    MergeFixtures.family(work.resolve("family"), MergeFixtures.spec(DType.BF16, true, 2, 300, 32));
    String yaml = """
        merge_method: dare_ties
        base_model: family/base
        models:
          - model: family/ft-1
            parameters: {weight: 0.5, density: 0.5}
          - model: family/ft-2
            parameters: {weight: 0.5, density: 0.5}
        """;
    MergeFixtures.merge(yaml, work, work.resolve("a"), "reference", 3);
    MergeFixtures.merge(yaml, work, work.resolve("b"), "djl", 3);
    MergeFixtures.merge(yaml, work, work.resolve("c"), "reference", 4);
    try (Checkpoint a = Checkpoint.open(work.resolve("a"))) {
      assertThat(a.tensors()).doesNotContainKey("lm_head.weight").containsKey("model.embed_tokens.weight");
      assertThat(a.tiedEmbeddings()).isTrue();
    }
    byte[] a = weights(work.resolve("a"));
    assertThat(weights(work.resolve("b"))).as("same seed, other backend").isEqualTo(a);
    assertThat(weights(work.resolve("c"))).as("other seed").isNotEqualTo(a);
    // re-running into an existing output replaces it
    MergeFixtures.merge(yaml, work, work.resolve("a"), "reference", 3);
    assertThat(weights(work.resolve("a"))).isEqualTo(a);
  }

  /** An in-memory merge (two stages, bf16 output, a random operator) holds exactly the values the written one holds. */
  @Test
  void inMemoryMergeEqualsTheWrittenCheckpoint() throws IOException {
    MergeFixtures.family(work.resolve("family"), MergeFixtures.spec(DType.BF16, false, 2, 300, 32));
    String yaml = """
        name: mid
        merge_method: linear
        models:
          - model: family/ft-1
            parameters: {weight: 0.3}
          - model: family/ft-2
            parameters: {weight: 0.7}
        dtype: float16
        ---
        merge_method: dare_ties
        base_model: family/base
        models:
          - model: mid
            parameters: {weight: 0.5, density: 0.4}
          - model: family/ft-1
            parameters: {weight: 0.5, density: 0.6}
        dtype: bfloat16
        """;
    MergeFixtures.merge(yaml, work, work.resolve("disk"), "djl", 11);
    List<Recipe> rs = RecipeReader.parse(yaml, "test.yml");
    List<MergePlan> ps = MergeRunner.prepare(rs, MergeFixtures.resolver(work), Operators.builtIn());
    MergeRunner.Merged m;
    try (Backend be = Backends.create("djl", Device.CPU)) {
      m = MergeRunner.runInMemory(ps, new MergeExecutor.Options(be, 11, 50_000, 2, 1L << 30), (i, n, p) -> Progress.NONE);
    }
    try (Checkpoint disk = Checkpoint.open(work.resolve("disk"))) {
      assertThat(m.tensors().keySet()).containsExactlyInAnyOrderElementsOf(disk.tensors().keySet());
      for (String name : disk.tensors().keySet()) {
        assertThat(m.tensors().get(name)).as(name).containsExactly(disk.readFloats(name));
        assertThat(m.shapes().get(name)).isEqualTo(disk.info(name).shape());
      }
    }
    assertThat(m.plan().config()).isNotNull();
    assertThat(m.tokenizerDir()).isEqualTo(work.resolve("family/base").toAbsolutePath().normalize());
    try (var s = Files.list(work)) {
      assertThat(s.map(x -> x.getFileName().toString())).containsExactlyInAnyOrder("family", "disk");
    }
  }

  /** The bytes of every shard and the index, in name order. */
  static byte[] weights(Path dir) throws IOException {
    java.io.ByteArrayOutputStream b = new java.io.ByteArrayOutputStream();
    try (var s = Files.list(dir)) {
      for (Path p : s.filter(x -> x.getFileName().toString().contains("safetensors")).sorted().toList()) {
        b.write(Files.readAllBytes(p));
      }
    }
    assertThat(b.size()).isPositive();
    return b.toByteArray();
  }

  @Test
  void vocabularyMismatchNeedsATokenizerSource() throws IOException {
    MergeFixtures.family(work.resolve("family"), MergeFixtures.spec(DType.F32, false, 1, 300, 32));
    // the same architecture with 8 more tokens
    MergeFixtures.family(work.resolve("bigger"), MergeFixtures.spec(DType.F32, false, 0, 308, 32));
    String yaml = """
        merge_method: linear
        base_model: family/base
        models:
          - model: family/ft-1
            parameters: {weight: 0.5}
          - model: bigger/base
            parameters: {weight: 0.5}
        """;
    assertThatThrownBy(() -> MergeFixtures.merge(yaml, work, work.resolve("x"), "reference", 0))
        .isInstanceOf(RecipeException.class)
        .hasMessageContaining("vocabulary sizes differ in 'model.embed_tokens.weight' (rows: family/ft-1 300, bigger/base 308)")
        .hasMessageContaining("tokenizer_source");
    assertThat(work.resolve("x")).doesNotExist();
    MergeFixtures.merge(yaml + "tokenizer_source: base\n", work, work.resolve("small"), "reference", 0);
    MergeFixtures.merge(yaml + "tokenizer_source: bigger/base\n", work, work.resolve("big"), "reference", 0);
    try (Checkpoint s = Checkpoint.open(work.resolve("small")); Checkpoint g = Checkpoint.open(work.resolve("big"));
        Checkpoint big = Checkpoint.open(work.resolve("bigger/base")); Checkpoint ft = Checkpoint.open(work.resolve("family/ft-1"))) {
      assertThat(s.info("lm_head.weight").shape().dim(0)).isEqualTo(300);
      assertThat(g.info("model.embed_tokens.weight").shape().dim(0)).isEqualTo(308);
      assertThat(g.config().orElseThrow().integer("vocab_size")).hasValue(308);
      float[] out = g.readFloats("model.embed_tokens.weight");
      float[] b = big.readFloats("model.embed_tokens.weight");
      float[] f = ft.readFloats("model.embed_tokens.weight");
      // a shared row is the average; a row only the bigger model has is its own (the mean over the models that have it)
      assertThat(out[5 * 32 + 1]).isCloseTo((f[5 * 32 + 1] + b[5 * 32 + 1]) / 2, org.assertj.core.data.Offset.offset(1e-6f));
      assertThat(out[305 * 32 + 3]).isCloseTo(b[305 * 32 + 3], org.assertj.core.data.Offset.offset(1e-6f));
    }
    // rows the merged models lack come from the base model, even for an operator that does not merge the base
    MergeFixtures.merge("""
        merge_method: linear
        base_model: bigger/base
        models:
          - model: family/ft-1
            parameters: {weight: 0.5}
          - model: family/base
            parameters: {weight: 0.5}
        tokenizer_source: base
        """, work, work.resolve("filled"), "reference", 0);
    try (Checkpoint o = Checkpoint.open(work.resolve("filled")); Checkpoint big = Checkpoint.open(work.resolve("bigger/base"))) {
      float[] out = o.readFloats("model.embed_tokens.weight");
      float[] b = big.readFloats("model.embed_tokens.weight");
      assertThat(out).hasSize(308 * 32);
      for (int i = 300 * 32; i < 308 * 32; i++) {
        assertThat(out[i]).isCloseTo(b[i], org.assertj.core.data.Offset.offset(1e-6f));
      }
    }
  }

  @Test
  void headerProblemsAreReportedBeforeReadingWeights() throws IOException {
    MergeFixtures.family(work.resolve("family"), MergeFixtures.spec(DType.BF16, false, 1, 300, 32));
    MergeFixtures.family(work.resolve("wide"), MergeFixtures.spec(DType.BF16, false, 0, 300, 48));
    String yaml = """
        merge_method: task_arithmetic
        base_model: family/base
        models:
          - model: family/ft-1
            parameters: {weight: 0.5}
          - model: wide/base
        """;
    assertThatThrownBy(() -> MergeFixtures.merge(yaml, work, work.resolve("x"), "reference", 0))
        .isInstanceOf(RecipeException.class)
        .hasMessageContaining("has different shapes")
        .hasMessageContaining("test.yml:6:5 models[1]: model 'wide/base' has no 'weight'");
  }

  @Test
  void modelsResolveThroughTheHuggingFaceCache() throws IOException {
    MergeFixtures.family(work.resolve("family"), MergeFixtures.spec(DType.BF16, false, 1, 300, 32));
    String commit = "0123456789abcdef0123456789abcdef01234567";
    Path repo = work.resolve("hub/models--acme--tiny-base");
    Files.createDirectories(repo.resolve("refs"));
    Files.writeString(repo.resolve("refs/main"), commit + "\n");
    Files.createDirectories(repo.resolve("snapshots"));
    Files.createSymbolicLink(repo.resolve("snapshots/" + commit), work.resolve("family/base"));
    MergeFixtures.merge("""
        merge_method: linear
        models:
          - model: acme/tiny-base
            parameters: {weight: 1}
          - model: acme/tiny-base@%s
            parameters: {weight: 1}
        """.formatted(commit), work, work.resolve("o"), "reference", 0);
    try (Checkpoint o = Checkpoint.open(work.resolve("o")); Checkpoint b = Checkpoint.open(work.resolve("family/base"))) {
      assertThat(o.readFloats("model.norm.weight")).containsExactly(b.readFloats("model.norm.weight"));
    }
    assertThatThrownBy(() -> MergeFixtures.merge("merge_method: linear\nmodels:\n  - model: acme/tiny-base@v2\n    parameters: {weight: 1}\n", work,
        work.resolve("p"), "reference", 0)).hasMessageContaining("model 'acme/tiny-base@v2' not found").hasMessageContaining("revision v2");
  }

  /**
   * trim_scope: model keeps the top density of each model's whole task vector: with one fine-tune the merge is
   * base + kept entries, so across all tensors exactly floor(d * N) entries differ from the base, and none dropped is
   * larger than one kept. Both backends write the same bytes.
   */
  @Test
  void trimScopeModelKeepsTheTopEntriesOfTheWholeTaskVector() throws IOException {
    MergeFixtures.family(work.resolve("fam1"), MergeFixtures.spec(DType.F32, false, 1, 300, 32));
    String yaml = """
        merge_method: ties
        base_model: fam1/base
        models:
          - model: fam1/ft-1
            parameters: {weight: 1.0, density: 0.3}
        parameters: {trim_scope: model}
        out_dtype: float32
        """;
    MergeFixtures.merge(yaml, work, work.resolve("tm-ref"), "reference", 0);
    MergeFixtures.merge(yaml, work, work.resolve("tm-djl"), "djl", 0);
    assertThat(weights(work.resolve("tm-djl"))).isEqualTo(weights(work.resolve("tm-ref")));
    long total = 0;
    long changed = 0;
    float minKept = Float.MAX_VALUE;
    float maxDropped = 0;
    try (Checkpoint base = Checkpoint.open(work.resolve("fam1/base")); Checkpoint ft = Checkpoint.open(work.resolve("fam1/ft-1"));
        Checkpoint out = Checkpoint.open(work.resolve("tm-ref"))) {
      for (String name : out.tensors().keySet()) {
        float[] b = base.readFloats(name);
        float[] f = ft.readFloats(name);
        float[] o = out.readFloats(name);
        for (int e = 0; e < b.length; e++) {
          float d = Math.abs(f[e] - b[e]);
          total++;
          if (o[e] != b[e]) {
            changed++;
            assertThat(o[e]).isEqualTo(b[e] + (f[e] - b[e]));
            minKept = Math.min(minKept, d);
          } else {
            maxDropped = Math.max(maxDropped, d);
          }
        }
      }
    }
    assertThat(changed).isEqualTo((long) (0.3 * total));
    assertThat(minKept).isGreaterThanOrEqualTo(maxDropped);
    // per tensor (the default) keeps 30% of every tensor instead: a different selection
    MergeFixtures.merge(yaml.replace("trim_scope: model", "trim_scope: tensor"), work, work.resolve("tt"), "reference", 0);
    assertThat(weights(work.resolve("tt"))).isNotEqualTo(weights(work.resolve("tm-ref")));
    // one threshold per model needs one density per model
    String mixed = yaml.replace("density: 0.3}", "density: [0.2, 0.4]}");
    assertThatThrownBy(() -> MergeFixtures.merge(mixed, work, work.resolve("bad"), "reference", 0))
        .hasMessageContaining("a model needs one density");
    assertThat(work.resolve("bad")).doesNotExist();
  }
}
