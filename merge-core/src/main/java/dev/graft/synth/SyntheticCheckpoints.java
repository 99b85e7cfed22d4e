package dev.graft.synth;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.graft.io.Convert;
import dev.graft.io.Progress;
import dev.graft.io.SafetensorsWriter;
import dev.graft.tensor.Shape;
import dev.graft.tensor.spi.SeededMasks;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.atomic.AtomicLong;

/**
 * Generates deterministic Llama-shaped checkpoint families: a random base and fine-tunes made as base plus
 * structured deltas (low rank + dense noise + sparse outliers), each a Hugging Face folder with
 * {@code config.json}, a byte-level BPE {@code tokenizer.json} and sharded safetensors.
 *
 * <p>Every value is a pure function of (seed, model, tensor name, element index), so tensors are produced in
 * chunks, in parallel, in any order, and models of billions of parameters never sit in memory. Fine-tune
 * element = base element + delta, where the base element is recomputed rather than read back.
 */
public final class SyntheticCheckpoints {
  /** Standard deviation of base weights (Llama's initializer range). */
  public static final double BASE_STD = 0.02;
  /** Scale of a fine-tune's low-rank delta (per element, roughly). */
  public static final double LOW_RANK_STD = 0.004;
  /** Dense noise of a fine-tune. */
  public static final double NOISE_STD = 0.001;
  /** Probability and scale of sparse outliers. */
  public static final double OUTLIER_P = 1e-3;

  public static final double OUTLIER_STD = 0.05;
  private static final int CHUNK_ROWS_ELEMENTS = 1 << 20;

  private SyntheticCheckpoints() {}

  /** Tensor names and shapes of a model, in Hugging Face order. */
  public static List<SafetensorsWriter.Entry> layout(SynthSpec s) {
    List<SafetensorsWriter.Entry> e = new ArrayList<>();
    int h = s.hidden();
    int kv = s.kvHeads() * s.headDim();
    int q = s.heads() * s.headDim();
    e.add(new SafetensorsWriter.Entry("model.embed_tokens.weight", s.dtype(), Shape.of(s.vocab(), h)));
    for (int l = 0; l < s.layers(); l++) {
      String p = "model.layers." + l + ".";
      e.add(new SafetensorsWriter.Entry(p + "input_layernorm.weight", s.dtype(), Shape.of(h)));
      e.add(new SafetensorsWriter.Entry(p + "self_attn.q_proj.weight", s.dtype(), Shape.of(q, h)));
      if (s.arch().qkvBias()) {
        e.add(new SafetensorsWriter.Entry(p + "self_attn.q_proj.bias", s.dtype(), Shape.of(q)));
      }
      e.add(new SafetensorsWriter.Entry(p + "self_attn.k_proj.weight", s.dtype(), Shape.of(kv, h)));
      if (s.arch().qkvBias()) {
        e.add(new SafetensorsWriter.Entry(p + "self_attn.k_proj.bias", s.dtype(), Shape.of(kv)));
      }
      e.add(new SafetensorsWriter.Entry(p + "self_attn.v_proj.weight", s.dtype(), Shape.of(kv, h)));
      if (s.arch().qkvBias()) {
        e.add(new SafetensorsWriter.Entry(p + "self_attn.v_proj.bias", s.dtype(), Shape.of(kv)));
      }
      e.add(new SafetensorsWriter.Entry(p + "self_attn.o_proj.weight", s.dtype(), Shape.of(h, q)));
      if (s.arch().qkNorm()) {
        e.add(new SafetensorsWriter.Entry(p + "self_attn.q_norm.weight", s.dtype(), Shape.of(s.headDim())));
        e.add(new SafetensorsWriter.Entry(p + "self_attn.k_norm.weight", s.dtype(), Shape.of(s.headDim())));
      }
      e.add(new SafetensorsWriter.Entry(p + "post_attention_layernorm.weight", s.dtype(), Shape.of(h)));
      e.add(new SafetensorsWriter.Entry(p + "mlp.gate_proj.weight", s.dtype(), Shape.of(s.intermediate(), h)));
      e.add(new SafetensorsWriter.Entry(p + "mlp.up_proj.weight", s.dtype(), Shape.of(s.intermediate(), h)));
      e.add(new SafetensorsWriter.Entry(p + "mlp.down_proj.weight", s.dtype(), Shape.of(h, s.intermediate())));
    }
    e.add(new SafetensorsWriter.Entry("model.norm.weight", s.dtype(), Shape.of(h)));
    if (!s.tieEmbeddings()) {
      e.add(new SafetensorsWriter.Entry("lm_head.weight", s.dtype(), Shape.of(s.vocab(), h)));
    }
    return e;
  }

  /**
   * Writes the family: {@code out/base} and {@code out/ft-1} .. {@code out/ft-N}.
   *
   * @return the model folders, base first
   */
  public static List<Path> writeFamily(SynthSpec spec, Path out, int threads, Progress progress) {
    List<Path> dirs = new ArrayList<>();
    long perModel = layout(spec).stream().mapToLong(SafetensorsWriter.Entry::byteSize).sum();
    long totalBytes = perModel * (spec.fineTunes() + 1);
    AtomicLong done = new AtomicLong();
    AtomicLong bytes = new AtomicLong();
    long units = 0;
    for (SafetensorsWriter.Entry e : layout(spec)) {
      units += Math.max(1, (e.shape().numel() + CHUNK_ROWS_ELEMENTS - 1) / CHUNK_ROWS_ELEMENTS);
    }
    long totalUnits = units * (spec.fineTunes() + 1);
    Progress counting = (d, t, b, tb) -> progress.update(done.incrementAndGet(), totalUnits, bytes.addAndGet(b), totalBytes);
    for (int m = 0; m <= spec.fineTunes(); m++) {
      Path dir = out.resolve(m == 0 ? "base" : "ft-" + m);
      writeModel(spec, m, dir, threads, counting);
      dirs.add(dir);
    }
    return dirs;
  }

  /** Writes model {@code model} (0 = base, i = fine-tune i) as a Hugging Face folder. */
  public static void writeModel(SynthSpec spec, int model, Path dir, int threads, Progress chunkDone) {
    List<SafetensorsWriter.Entry> entries = layout(spec);
    Map<String, String> md = new LinkedHashMap<>();
    md.put("format", "pt");
    md.put("graft.synth", "seed=" + spec.seed() + ",model=" + model);
    ExecutorService pool = Executors.newFixedThreadPool(Math.max(1, threads));
    try (SafetensorsWriter w = SafetensorsWriter.create(dir, entries, spec.maxShardBytes(), md)) {
      List<Future<?>> fs = new ArrayList<>();
      for (SafetensorsWriter.Entry e : entries) {
        long cols = e.shape().rank() == 2 ? e.shape().dim(1) : e.shape().numel();
        long rows = e.shape().rank() == 2 ? e.shape().dim(0) : 1;
        long rowsPerChunk = Math.max(1, CHUNK_ROWS_ELEMENTS / cols);
        float[][] v = model == 0 || e.shape().rank() != 2 ? null : lowRankFactor(spec, model, e.name(), (int) cols);
        for (long r0 = 0; r0 < rows; r0 += rowsPerChunk) {
          long first = r0;
          long nRows = Math.min(rowsPerChunk, rows - r0);
          fs.add(pool.submit(() -> {
            float[] buf = new float[(int) (nRows * cols)];
            fill(spec, model, e, first, (int) nRows, (int) cols, v, buf);
            w.writeFloats(e.name(), first * cols, buf, 0, buf.length);
            chunkDone.update(0, 0, (long) buf.length * e.dtype().byteSize(), 0);
            return null;
          }));
        }
      }
      for (Future<?> f : fs) {
        f.get();
      }
      w.finish();
      writeConfig(spec, dir);
      writeTokenizer(spec, dir);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new IllegalStateException("interrupted", e);
    } catch (java.util.concurrent.ExecutionException e) {
      throw e.getCause() instanceof RuntimeException re ? re : new IllegalStateException(e.getCause());
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    } finally {
      pool.shutdownNow();
    }
  }

  private static long key(long seed, String name, int model, int stream) {
    long h = SeededMasks.mix(seed, name.hashCode() & 0xffffffffL);
    h = SeededMasks.mix(h, model);
    return SeededMasks.mix(h, stream);
  }

  /** A standard normal from two hashed uniforms (Box-Muller), keyed by (key, index). */
  static double gaussian(long key, long index) {
    double u1 = SeededMasks.uniform(key, 2 * index);
    double u2 = SeededMasks.uniform(key, 2 * index + 1);
    return Math.sqrt(-2 * Math.log1p(-u1)) * Math.cos(2 * Math.PI * u2);
  }

  private static boolean isNorm(String name) {
    return name.endsWith("norm.weight");
  }

  private static float[][] lowRankFactor(SynthSpec s, int model, String name, int cols) {
    long k = key(s.seed(), name, model, 2);
    float[][] v = new float[s.rank()][cols];
    for (int r = 0; r < s.rank(); r++) {
      for (int j = 0; j < cols; j++) {
        v[r][j] = (float) gaussian(k, (long) r * cols + j);
      }
    }
    return v;
  }

  /** Fills {@code nRows} rows starting at {@code row0} of tensor {@code e} of model {@code model}. */
  static void fill(SynthSpec s, int model, SafetensorsWriter.Entry e, long row0, int nRows, int cols, float[][] v, float[] out) {
    String name = e.name();
    long kBase = key(s.seed(), name, 0, 0);
    boolean norm = isNorm(name);
    for (int i = 0; i < nRows; i++) {
      for (int j = 0; j < cols; j++) {
        long idx = (row0 + i) * cols + j;
        double g = gaussian(kBase, idx);
        out[i * cols + j] = (float) (norm ? 1 + 0.1 * g : BASE_STD * g);
      }
    }
    if (model == 0) {
      return;
    }
    long kU = key(s.seed(), name, model, 1);
    long kNoise = key(s.seed(), name, model, 3);
    long kOut = key(s.seed(), name, model, 4);
    double lrScale = LOW_RANK_STD / Math.sqrt(s.rank());
    double[] u = new double[s.rank()];
    for (int i = 0; i < nRows; i++) {
      long row = row0 + i;
      if (v != null) {
        for (int r = 0; r < u.length; r++) {
          u[r] = gaussian(kU, row * u.length + r) * lrScale;
        }
      }
      for (int j = 0; j < cols; j++) {
        long idx = row * cols + j;
        double d = NOISE_STD * gaussian(kNoise, idx);
        if (v != null) {
          for (int r = 0; r < u.length; r++) {
            d += u[r] * v[r][j];
          }
        }
        if (SeededMasks.uniform(kOut, 2 * idx) < OUTLIER_P) {
          d += OUTLIER_STD * gaussian(kOut, 2 * idx + 1);
        }
        out[i * cols + j] += (float) d;
      }
    }
  }

  static void writeConfig(SynthSpec s, Path dir) throws IOException {
    ObjectMapper om = new ObjectMapper();
    ObjectNode c = om.createObjectNode();
    c.putArray("architectures").add(s.arch().architecture());
    c.put("model_type", s.arch().modelType());
    c.put("vocab_size", s.vocab());
    c.put("hidden_size", s.hidden());
    c.put("intermediate_size", s.intermediate());
    c.put("num_hidden_layers", s.layers());
    c.put("num_attention_heads", s.heads());
    c.put("num_key_value_heads", s.kvHeads());
    c.put("head_dim", s.headDim());
    c.put("hidden_act", "silu");
    c.put("max_position_embeddings", 2048);
    c.put("rms_norm_eps", 1e-5);
    switch (s.arch()) {
      case LLAMA, MISTRAL -> c.put("rope_theta", 10000.0);
      case LLAMA3 -> {
        c.put("rope_theta", 500000.0);
        c.putObject("rope_scaling").put("rope_type", "llama3").put("factor", 8.0).put("low_freq_factor", 1.0)
            .put("high_freq_factor", 4.0).put("original_max_position_embeddings", 64);
      }
      case QWEN2, QWEN3 -> c.put("rope_theta", 1000000.0);
    }
    if (s.arch() == SynthArch.MISTRAL) {
      c.put("sliding_window", 4096);
    }
    if (s.arch() == SynthArch.QWEN2 || s.arch() == SynthArch.QWEN3) {
      c.put("use_sliding_window", false);
    }
    if (s.arch() != SynthArch.QWEN2) {
      c.put("attention_bias", false);
    }
    if (s.arch() == SynthArch.LLAMA || s.arch() == SynthArch.LLAMA3) {
      c.put("mlp_bias", false);
    }
    c.put("tie_word_embeddings", s.tieEmbeddings());
    c.put("bos_token_id", 1);
    c.put("eos_token_id", 2);
    c.put("torch_dtype", Convert.torchName(s.dtype()));
    c.put("initializer_range", BASE_STD);
    writeJson(dir.resolve("config.json"), om.writerWithDefaultPrettyPrinter().writeValueAsString(c));
  }

  /** GPT-2's byte-to-unicode table of byte-level BPE. */
  static String[] byteLevelAlphabet() {
    String[] t = new String[256];
    int n = 0;
    for (int b = 0; b < 256; b++) {
      boolean printable = (b >= 33 && b <= 126) || (b >= 161 && b <= 172) || (b >= 174 && b <= 255);
      t[b] = printable ? String.valueOf((char) b) : String.valueOf((char) (256 + n++));
    }
    return t;
  }

  static void writeTokenizer(SynthSpec s, Path dir) throws IOException {
    ObjectMapper om = new ObjectMapper();
    ObjectNode root = om.createObjectNode();
    root.put("version", "1.0");
    root.putNull("truncation");
    root.putNull("padding");
    ArrayNode added = root.putArray("added_tokens");
    String[] specials = {"<unk>", "<s>", "</s>"};
    for (int i = 0; i < specials.length; i++) {
      ObjectNode t = added.addObject();
      t.put("id", i).put("content", specials[i]).put("single_word", false).put("lstrip", false).put("rstrip", false)
          .put("normalized", false).put("special", true);
    }
    root.putNull("normalizer");
    ObjectNode pre = root.putObject("pre_tokenizer");
    pre.put("type", "ByteLevel").put("add_prefix_space", false).put("trim_offsets", true).put("use_regex", true);
    root.putNull("post_processor");
    ObjectNode dec = root.putObject("decoder");
    dec.put("type", "ByteLevel").put("add_prefix_space", true).put("trim_offsets", true).put("use_regex", true);
    ObjectNode model = root.putObject("model");
    model.put("type", "BPE").putNull("dropout").putNull("unk_token").putNull("continuing_subword_prefix")
        .putNull("end_of_word_suffix").put("fuse_unk", false).put("byte_fallback", false).put("ignore_merges", false);
    ObjectNode vocab = model.putObject("vocab");
    ArrayNode merges = model.putArray("merges");
    int id = 0;
    for (String sp : specials) {
      vocab.put(sp, id++);
    }
    String[] alphabet = byteLevelAlphabet();
    for (String a : alphabet) {
      vocab.put(a, id++);
    }
    // fill the rest with merges of frequent English letters, with and without the leading-space marker
    String letters = "etaoinshrdlcumwfgypbvkjxqz";
    String space = alphabet[' '];
    outer:
    for (int i = 0; i < letters.length(); i++) {
      for (String first : new String[] {space + letters.charAt(i), String.valueOf(letters.charAt(i))}) {
        for (int j = 0; j < letters.length(); j++) {
          if (id >= s.vocab()) {
            break outer;
          }
          String a = first.length() == 2 ? space : String.valueOf(letters.charAt(i));
          String b = first.length() == 2 ? String.valueOf(letters.charAt(i)) : String.valueOf(letters.charAt(j));
          String merged = a + b;
          if (vocab.has(merged)) {
            continue;
          }
          merges.add(a + " " + b);
          vocab.put(merged, id++);
        }
      }
    }
    for (int k = 0; id < s.vocab(); k++) { // any remaining ids: reserved tokens, as real vocabularies have
      vocab.put("<reserved_" + k + ">", id++);
    }
    writeJson(dir.resolve("tokenizer.json"), om.writeValueAsString(root));
    ObjectNode tc = om.createObjectNode();
    tc.put("bos_token", "<s>").put("eos_token", "</s>").put("unk_token", "<unk>").put("model_max_length", 2048)
        .put("tokenizer_class", "PreTrainedTokenizerFast").put("add_bos_token", true);
    writeJson(dir.resolve("tokenizer_config.json"), om.writerWithDefaultPrettyPrinter().writeValueAsString(tc));
  }

  private static void writeJson(Path p, String text) {
    dev.graft.io.AtomicFiles.writeString(p, text + "\n");
  }
}
