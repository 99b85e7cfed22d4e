package dev.graft.plan;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.graft.InvalidInputException;
import dev.graft.io.AtomicFiles;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * {@code tokenizer_source: union} (mergekit's default inside a {@code tokenizer:} block): the output vocabulary is
 * the reference model's (the base, else the first model), followed by every token another model has and it lacks, in
 * model order then id order, matched by token text ({@code tokenizer.json}'s vocabulary and added tokens). Each
 * model's embedding rows are then looked up by token, so two fine-tunes that put different tokens at the same id are
 * not mixed. The output tokenizer is the reference's with the new tokens added (as {@code added_tokens}, the way
 * {@code add_tokens} extends a tokenizer).
 *
 * @param tokens the output vocabulary, by output id
 * @param rows per model label: for each output id, that model's row, or -1 when it lacks the token
 * @param referenceSize how many output ids the reference's own tokenizer covers (the rest are added tokens)
 * @param special per output id, whether the token is special (for the added ones)
 * @param rowCount the output's embedding rows: the union's size, or the reference's row count when it is larger
 *     (padding rows past its tokenizer, kept from the reference), rounded up to {@code pad_to_multiple_of} (zero rows)
 * @param overrides per output id, the {@code tokenizer.tokens} source of its row
 */
public record UnionVocab(List<String> tokens, Map<String, int[]> rows, int referenceSize, boolean[] special, int rowCount,
    Map<Integer, Override> overrides) {

  /**
   * Where an output row comes from instead of the fill rule.
   *
   * @param model the source model's label, or null for zeros
   * @param row its row
   * @param force also for the models that have the token
   */
  public record Override(String model, int row, boolean force) {}
  private static final ObjectMapper JSON = new ObjectMapper();

  /** A model's tokenizer.json as token → id, and which tokens are special. */
  record Read(Map<String, Integer> ids, java.util.Set<String> special) {}

  static Path tokenizerFile(ModelView v) {
    return v.auxiliaryFiles().stream().filter(f -> f.getFileName().toString().equals("tokenizer.json")).findFirst().orElse(null);
  }

  static Read read(Path tokenizerJson) {
    JsonNode root;
    try {
      root = JSON.readTree(tokenizerJson.toFile());
    } catch (IOException e) {
      throw new InvalidInputException(tokenizerJson + ": not a readable tokenizer.json (" + e.getMessage().lines().findFirst().orElse("") + ")");
    }
    Map<String, Integer> ids = new LinkedHashMap<>();
    JsonNode vocab = root.path("model").path("vocab");
    if (vocab.isObject()) { // BPE, WordPiece, WordLevel
      for (Iterator<Map.Entry<String, JsonNode>> it = vocab.fields(); it.hasNext(); ) {
        Map.Entry<String, JsonNode> e = it.next();
        ids.put(e.getKey(), e.getValue().asInt());
      }
    } else if (vocab.isArray()) { // Unigram: [[piece, score], ...] by id
      for (int i = 0; i < vocab.size(); i++) {
        ids.put(vocab.get(i).get(0).asText(), i);
      }
    } else {
      throw new InvalidInputException(tokenizerJson + ": no model.vocab, so its tokens cannot be matched for tokenizer_source: union");
    }
    java.util.Set<String> special = new java.util.HashSet<>();
    for (JsonNode t : root.path("added_tokens")) {
      ids.put(t.path("content").asText(), t.path("id").asInt());
      if (t.path("special").asBoolean(false)) {
        special.add(t.path("content").asText());
      }
    }
    return new Read(ids, special);
  }

  /**
   * Builds the union over {@code models} (the reference first); {@code rowsOf} gives each model's embedding row
   * count, to check that its ids fit. A {@code sources} entry that does not fit goes to {@code tokenProblem} (its
   * recipe path, the message) and is left out; any other problem is thrown.
   */
  static UnionVocab build(List<ModelView> models, java.util.function.ToIntFunction<ModelView> rowsOf,
      Map<String, dev.graft.recipe.Recipe.TokenSource> sources, int padToMultipleOf, java.util.function.BiConsumer<String, String> tokenProblem) {
    List<Read> reads = new ArrayList<>();
    for (ModelView v : models) {
      Path f = tokenizerFile(v);
      if (f == null) {
        throw new InvalidInputException("model '" + v.label() + "' has no tokenizer.json, which tokenizer_source: union matches tokens by");
      }
      reads.add(read(f));
    }
    Map<String, Integer> out = new LinkedHashMap<>();
    List<String> tokens = new ArrayList<>();
    List<Boolean> special = new ArrayList<>();
    int referenceSize = 0;
    for (int m = 0; m < models.size(); m++) {
      Read r = reads.get(m);
      List<Map.Entry<String, Integer>> byId = new ArrayList<>(r.ids().entrySet());
      byId.sort(Map.Entry.comparingByValue());
      if (m == 0) { // the reference keeps its ids: output id = its id (gaps, if any, are left as they are)
        int max = byId.isEmpty() ? -1 : byId.get(byId.size() - 1).getValue();
        String[] at = new String[max + 1];
        for (Map.Entry<String, Integer> e : byId) {
          at[e.getValue()] = e.getKey();
        }
        for (int i = 0; i <= max; i++) {
          String t = at[i] != null ? at[i] : "<graft-unused-" + i + ">";
          out.put(t, i);
          tokens.add(t);
          special.add(r.special().contains(t));
        }
        referenceSize = tokens.size();
        continue;
      }
      for (Map.Entry<String, Integer> e : byId) {
        if (!out.containsKey(e.getKey())) {
          out.put(e.getKey(), tokens.size());
          tokens.add(e.getKey());
          special.add(r.special().contains(e.getKey()));
        }
      }
    }
    int rowCount = Math.max(tokens.size(), rowsOf.applyAsInt(models.get(0)));
    if (padToMultipleOf > 1 && rowCount % padToMultipleOf != 0) {
      rowCount = (rowCount / padToMultipleOf + 1) * padToMultipleOf; // rows no model has: zeros (as mergekit pads)
    }
    Map<String, int[]> rows = new LinkedHashMap<>();
    for (int m = 0; m < models.size(); m++) {
      int[] map = new int[rowCount];
      java.util.Arrays.fill(map, -1);
      int have = rowsOf.applyAsInt(models.get(m));
      if (m == 0) {
        for (int u = tokens.size(); u < Math.min(rowCount, have); u++) {
          map[u] = u; // the reference's padding rows (those pad_to_multiple_of adds: no model's)
        }
      }
      for (Map.Entry<String, Integer> e : reads.get(m).ids().entrySet()) {
        int id = e.getValue();
        if (id >= have) {
          throw new InvalidInputException("model '" + models.get(m).label() + "': token '" + e.getKey() + "' has id " + id
              + " but the embeddings have only " + have + " rows");
        }
        map[out.get(e.getKey())] = id;
      }
      rows.put(models.get(m).label(), map);
    }
    boolean[] sp = new boolean[special.size()];
    for (int i = 0; i < sp.length; i++) {
      sp[i] = special.get(i);
    }
    Map<Integer, Override> overrides = new LinkedHashMap<>();
    sources.forEach((token, s) -> {
      Integer u = out.get(token);
      if (u == null) {
        tokenProblem.accept("tokenizer.tokens." + token, "'" + token + "' is in no model's vocabulary");
        return;
      }
      if (s.kind().equals("zero")) {
        overrides.put(u, new Override(null, -1, s.force()));
        return;
      }
      int m = -1;
      for (int i = 0; i < models.size(); i++) {
        if (models.get(i).label().equals(s.model())) {
          m = i;
        }
      }
      if (m < 0) {
        tokenProblem.accept("tokenizer.tokens." + token + ".source", "'" + s.model() + "' is not a model of this merge");
        return;
      }
      String from = s.kind().equals("model") ? token : s.token();
      Integer row = from != null ? reads.get(m).ids().get(from) : Integer.valueOf(s.tokenId());
      if (row == null || row < 0 || row >= rowsOf.applyAsInt(models.get(m))) {
        tokenProblem.accept("tokenizer.tokens." + token + ".source", "model '" + s.model() + "' has no " + (from != null ? "token '" + from + "'" : "row " + s.tokenId()));
        return;
      }
      overrides.put(u, new Override(s.model(), row, s.force()));
    });
    return new UnionVocab(List.copyOf(tokens), rows, referenceSize, sp, rowCount, overrides);
  }

  /** Writes the reference's tokenizer.json (and tokenizer_config.json, when {@code config} exists) with the added tokens. */
  void write(Path referenceTokenizer, Path referenceConfig, Path dir) throws IOException {
    ObjectNode root = (ObjectNode) JSON.readTree(referenceTokenizer.toFile());
    ArrayNode added = root.has("added_tokens") && root.get("added_tokens").isArray() ? (ArrayNode) root.get("added_tokens") : root.putArray("added_tokens");
    ObjectNode decoder = null;
    ObjectNode config = null;
    if (referenceConfig != null && Files.isRegularFile(referenceConfig)) {
      config = (ObjectNode) JSON.readTree(referenceConfig.toFile());
      decoder = config.has("added_tokens_decoder") ? (ObjectNode) config.get("added_tokens_decoder") : config.putObject("added_tokens_decoder");
    }
    for (int id = referenceSize; id < tokens.size(); id++) {
      ObjectNode t = added.addObject();
      t.put("id", id);
      t.put("content", tokens.get(id));
      t.put("single_word", false);
      t.put("lstrip", false);
      t.put("rstrip", false);
      t.put("normalized", !special[id]);
      t.put("special", special[id]);
      if (decoder != null) {
        ObjectNode d = decoder.putObject(String.valueOf(id));
        d.put("content", tokens.get(id));
        d.put("lstrip", false);
        d.put("normalized", !special[id]);
        d.put("rstrip", false);
        d.put("single_word", false);
        d.put("special", special[id]);
      }
    }
    AtomicFiles.writeString(dir.resolve("tokenizer.json"), JSON.writeValueAsString(root));
    if (config != null) {
      AtomicFiles.writeString(dir.resolve("tokenizer_config.json"), JSON.writerWithDefaultPrettyPrinter().writeValueAsString(config) + "\n");
    }
  }
}
