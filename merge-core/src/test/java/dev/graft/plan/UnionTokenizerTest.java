package dev.graft.plan;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.graft.io.Checkpoint;
import dev.graft.io.SafetensorsWriter;
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
 * tokenizer_source: union: two fine-tunes that each add tokens at the same ids (one shared token, one of their own)
 * are merged row by token, not by id: the mergekit fill rule (base, else the only model with the token, else the
 * mean) and an output tokenizer holding every token.
 */
class UnionTokenizerTest {
  @TempDir static Path work;
  static final ObjectMapper JSON = new ObjectMapper();
  static final int HIDDEN = 32;
  static final int VOCAB = 300;

  @BeforeAll
  static void models() throws IOException {
    MergeFixtures.family(work.resolve("family"), MergeFixtures.spec(DType.F32, false, 1, VOCAB, HIDDEN));
    addTokens(work.resolve("family/ft-1"), work.resolve("x"), List.of("<x1>", "<shared>"), 11);
    addTokens(work.resolve("family/ft-1"), work.resolve("y"), List.of("<y1>", "<shared>"), 12);
  }

  /** A copy of {@code from} whose tokenizer gains {@code tokens} (special) at the next ids, with new embedding and head rows. */
  static void addTokens(Path from, Path to, List<String> tokens, long seed) throws IOException {
    Files.createDirectories(to);
    SplittableRandom r = new SplittableRandom(seed);
    try (Checkpoint c = Checkpoint.open(from)) {
      List<SafetensorsWriter.Entry> es = new ArrayList<>();
      Map<String, float[]> data = new LinkedHashMap<>();
      for (String n : c.tensors().keySet()) {
        float[] v = c.readFloats(n);
        Shape s = c.info(n).shape();
        if (n.equals("model.embed_tokens.weight") || n.equals("lm_head.weight")) {
          float[] w = java.util.Arrays.copyOf(v, v.length + tokens.size() * HIDDEN);
          for (int i = v.length; i < w.length; i++) {
            w[i] = (float) r.nextGaussian();
          }
          v = w;
          s = Shape.of(s.dim(0) + tokens.size(), s.dim(1));
        }
        es.add(new SafetensorsWriter.Entry(n, DType.F32, s));
        data.put(n, v);
      }
      try (SafetensorsWriter w = SafetensorsWriter.createFile(to.resolve("model.safetensors"), es, Map.of("format", "pt"))) {
        data.forEach((k, v) -> w.writeFloats(k, 0, v, 0, v.length));
        w.finish();
      }
    }
    ObjectNode config = (ObjectNode) JSON.readTree(from.resolve("config.json").toFile());
    config.put("vocab_size", config.get("vocab_size").asInt() + tokens.size());
    Files.writeString(to.resolve("config.json"), JSON.writeValueAsString(config));
    ObjectNode tok = (ObjectNode) JSON.readTree(from.resolve("tokenizer.json").toFile());
    ArrayNode added = tok.has("added_tokens") ? (ArrayNode) tok.get("added_tokens") : tok.putArray("added_tokens");
    for (int i = 0; i < tokens.size(); i++) {
      added.addObject().put("id", VOCAB + i).put("content", tokens.get(i)).put("special", true);
    }
    Files.writeString(to.resolve("tokenizer.json"), JSON.writeValueAsString(tok));
  }

  /** x and y averaged, the base as base model; the tokenizer settings follow. */
  static final String MERGE = """
      merge_method: linear
      base_model: family/base
      models:
        - model: x
          parameters: {weight: 0.5}
        - model: y
          parameters: {weight: 0.5}
      """;

  /** How many ids the base's tokenizer covers (the first id a union adds). */
  static int baseTokens() {
    return UnionVocab.read(work.resolve("family/base/tokenizer.json")).ids().values().stream().mapToInt(Integer::intValue).max().orElseThrow() + 1;
  }

  static float[] row(float[] m, int r) {
    return java.util.Arrays.copyOfRange(m, r * HIDDEN, (r + 1) * HIDDEN);
  }

  @Test
  void rowsAreMatchedByTokenAndTheTokenizerHoldsEveryToken() throws IOException {
    String yaml = MERGE + "tokenizer_source: union\ndtype: float32\n";
    MergeFixtures.merge(yaml, work, work.resolve("out"), "reference", 1);
    int t = baseTokens();
    JsonNode outTok = JSON.readTree(work.resolve("out/tokenizer.json").toFile());
    Map<String, Integer> out = UnionVocab.read(work.resolve("out/tokenizer.json")).ids();
    assertThat(out).containsEntry("<x1>", t).containsEntry("<shared>", t + 1).containsEntry("<y1>", t + 2);
    assertThat(outTok.toString()).contains("\"special\":true");
    int rows = Math.max(t + 3, VOCAB);
    assertThat(JSON.readTree(work.resolve("out/config.json").toFile()).get("vocab_size").asInt()).isEqualTo(rows);
    try (Checkpoint o = Checkpoint.open(work.resolve("out")); Checkpoint x = Checkpoint.open(work.resolve("x"));
        Checkpoint y = Checkpoint.open(work.resolve("y")); Checkpoint b = Checkpoint.open(work.resolve("family/base"))) {
      for (String n : List.of("model.embed_tokens.weight", "lm_head.weight")) {
        float[] m = o.readFloats(n);
        float[] xv = x.readFloats(n);
        float[] yv = y.readFloats(n);
        assertThat(o.info(n).shape()).isEqualTo(Shape.of(rows, HIDDEN));
        for (int u : new int[] {0, 17, t - 1}) { // tokens every model has: the average
          float[] want = new float[HIDDEN];
          for (int c = 0; c < HIDDEN; c++) {
            want[c] = xv[u * HIDDEN + c] * 0.5f + yv[u * HIDDEN + c] * 0.5f;
          }
          assertThat(row(m, u)).as(n + " row " + u).containsExactly(want);
        }
        // <x1>: only x has it (its row 300): y's row is filled with x's, so the merge is x's row
        assertThat(row(m, t)).as(n + " <x1>").usingComparatorWithPrecision(1e-6f).containsExactly(row(xv, VOCAB));
        // <shared>: both have it at their row 301
        float[] shared = new float[HIDDEN];
        for (int c = 0; c < HIDDEN; c++) {
          shared[c] = row(xv, VOCAB + 1)[c] * 0.5f + row(yv, VOCAB + 1)[c] * 0.5f;
        }
        assertThat(row(m, t + 1)).as(n + " <shared>").containsExactly(shared);
        // <y1>: only y has it, at its row 300 (the id x gave <x1>)
        assertThat(row(m, t + 2)).as(n + " <y1>").usingComparatorWithPrecision(1e-6f).containsExactly(row(yv, VOCAB));
        // rows past every tokenizer (the base's padding, if any) come from the base
        for (int u = t + 3; u < rows; u++) {
          assertThat(row(m, u)).as(n + " padding row " + u).usingComparatorWithPrecision(1e-6f).containsExactly(row(b.readFloats(n), u));
        }
      }
    }
  }

  @Test
  void padToMultipleOfAddsZeroRowsAndTheConfigFollows() throws IOException {
    String yaml = MERGE + "tokenizer: {source: union, pad_to_multiple_of: 64}\ndtype: float32\n";
    MergeFixtures.merge(yaml, work, work.resolve("padded"), "reference", 1);
    MergeFixtures.merge(MERGE + "tokenizer_source: union\ndtype: float32\n", work, work.resolve("unpadded"), "reference", 1);
    int rows = Math.max(baseTokens() + 3, VOCAB);
    int padded = (rows + 63) / 64 * 64;
    assertThat(padded).isGreaterThan(rows);
    assertThat(JSON.readTree(work.resolve("padded/config.json").toFile()).get("vocab_size").asInt()).isEqualTo(padded);
    assertThat(UnionVocab.read(work.resolve("padded/tokenizer.json")).ids()).isEqualTo(UnionVocab.read(work.resolve("unpadded/tokenizer.json")).ids());
    try (Checkpoint p = Checkpoint.open(work.resolve("padded")); Checkpoint u = Checkpoint.open(work.resolve("unpadded"))) {
      for (String n : List.of("model.embed_tokens.weight", "lm_head.weight")) {
        assertThat(p.info(n).shape()).isEqualTo(Shape.of(padded, HIDDEN));
        float[] pv = p.readFloats(n);
        assertThat(java.util.Arrays.copyOf(pv, rows * HIDDEN)).as(n + ": the rows before the padding").containsExactly(u.readFloats(n));
        for (int i = rows * HIDDEN; i < pv.length; i++) {
          assertThat(pv[i]).as(n + " padding").isZero();
        }
      }
      for (String n : p.tensors().keySet()) {
        if (!n.equals("model.embed_tokens.weight") && !n.equals("lm_head.weight")) {
          assertThat(p.readFloats(n)).as(n).containsExactly(u.readFloats(n));
        }
      }
    }
    String byId = "merge_method: linear\nbase_model: family/base\nmodels: [x, y]\ntokenizer: {source: base, pad_to_multiple_of: 8}\n";
    org.assertj.core.api.Assertions.assertThatThrownBy(() -> MergeRunner.prepare(dev.graft.recipe.RecipeReader.parse(byId, "pad.yml"),
        MergeFixtures.resolver(work), dev.graft.op.Operators.builtIn())).hasMessageContaining("pad.yml:4")
        .hasMessageContaining("padding the vocabulary needs tokenizer source 'union'");
  }

  @Test
  void perTokenSourcesAsInMergekit() throws IOException {
    String yaml = MERGE + """
        tokenizer:
          tokens:
            <shared>: {source: y, force: true}
            <x1>: {source: {kind: zero}}
            <y1>: {source: {kind: model_token, model: x, token: <x1>}}
        dtype: float32
        """;
    var recipe = dev.graft.recipe.RecipeReader.parse(yaml, "tokens.yml").get(0);
    assertThat(recipe.tokenizerSource()).isEqualTo("union"); // the default of a tokenizer: block
    var again = dev.graft.recipe.RecipeReader.parse(dev.graft.recipe.RecipeWriter.write(List.of(recipe)), "again.yml").get(0);
    assertThat(again.tokens()).isEqualTo(recipe.tokens());
    MergeFixtures.merge(yaml, work, work.resolve("out-tokens"), "reference", 1);
    int t = baseTokens();
    try (Checkpoint o = Checkpoint.open(work.resolve("out-tokens")); Checkpoint x = Checkpoint.open(work.resolve("x"));
        Checkpoint y = Checkpoint.open(work.resolve("y"))) {
      for (String n : List.of("model.embed_tokens.weight", "lm_head.weight")) {
        float[] m = o.readFloats(n);
        float[] xv = x.readFloats(n);
        float[] yv = y.readFloats(n);
        float[] x1 = new float[HIDDEN];
        float[] y1 = new float[HIDDEN];
        for (int c = 0; c < HIDDEN; c++) {
          x1[c] = row(xv, VOCAB)[c] * 0.5f + 0f * 0.5f; // x keeps its own <x1> (not forced), y gets zeros
          y1[c] = row(xv, VOCAB)[c] * 0.5f + row(yv, VOCAB)[c] * 0.5f; // x lacks <y1>: its <x1> row stands in
        }
        assertThat(row(m, t)).as(n + " <x1>").containsExactly(x1);
        assertThat(row(m, t + 1)).as(n + " <shared>, forced from y").usingComparatorWithPrecision(1e-6f).containsExactly(row(yv, VOCAB + 1));
        assertThat(row(m, t + 2)).as(n + " <y1>").containsExactly(y1);
      }
    }
    String bad = yaml.replace("<shared>: {source: y, force: true}", "<shared>: {source: z}").replace("tokenizer:\n", "tokenizer:\n  source: base\n");
    org.assertj.core.api.Assertions.assertThatThrownBy(() -> MergeRunner.prepare(dev.graft.recipe.RecipeReader.parse(bad, "bad.yml"),
        MergeFixtures.resolver(work), dev.graft.op.Operators.builtIn())).hasMessageContaining("per-token embedding sources need tokenizer source 'union'");
    String unknown = yaml.replace("<shared>: {source: y, force: true}", "<shared>: {source: z}");
    org.assertj.core.api.Assertions.assertThatThrownBy(() -> MergeRunner.prepare(dev.graft.recipe.RecipeReader.parse(unknown, "bad.yml"),
        MergeFixtures.resolver(work), dev.graft.op.Operators.builtIn())).hasMessageContaining("'z' is not a model of this merge");
  }
}
