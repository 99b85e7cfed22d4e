package dev.graft.io;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.graft.InvalidInputException;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.stream.Stream;

/**
 * A model checkpoint: a single safetensors file, a sharded folder with {@code model.safetensors.index.json}, or a
 * Hugging Face model folder (either of those plus {@code config.json} and tokenizer files).
 *
 * <p>Opening reads and validates headers (and the index) only; tensor data is mapped lazily, per tensor.
 *
 * @implNote thread-safe for reading.
 */
public final class Checkpoint implements AutoCloseable {
  /** File names copied along with a model: tokenizer and generation settings. */
  public static final List<String> AUXILIARY_FILES =
      List.of(
          "tokenizer.json", "tokenizer_config.json", "special_tokens_map.json", "tokenizer.model", "vocab.json",
          "merges.txt", "added_tokens.json", "generation_config.json", "chat_template.jinja");

  public static final String INDEX_NAME = "model.safetensors.index.json";
  private static final ObjectMapper JSON = new ObjectMapper();

  private final Path root;
  private final List<SafetensorsFile> files;
  private final Map<String, SafetensorsFile> owner;
  private final Map<String, TensorInfo> tensors;
  private final Map<String, String> metadata;
  private final ModelConfig config;
  private final LoraAdapter lora;

  private Checkpoint(
      Path root, List<SafetensorsFile> files, Map<String, SafetensorsFile> owner, Map<String, TensorInfo> tensors,
      Map<String, String> metadata, ModelConfig config) {
    this(root, files, owner, tensors, metadata, config, null);
  }

  private Checkpoint(
      Path root, List<SafetensorsFile> files, Map<String, SafetensorsFile> owner, Map<String, TensorInfo> tensors,
      Map<String, String> metadata, ModelConfig config, LoraAdapter lora) {
    this.root = root;
    this.files = List.copyOf(files);
    this.owner = Collections.unmodifiableMap(owner);
    this.tensors = Collections.unmodifiableMap(tensors);
    this.metadata = metadata;
    this.config = config;
    this.lora = lora;
  }

  /**
   * Opens a checkpoint with a LoRA adapter applied (mergekit's {@code model+lora}): the tensors the adapter changes
   * read as the base plus the adapter's update, in the base's dtype; the others as they are. {@code adapter} null
   * opens the plain checkpoint.
   */
  public static Checkpoint open(Path path, Path adapter) {
    Checkpoint base = open(path);
    if (adapter == null) {
      return base;
    }
    try {
      LoraAdapter a = LoraAdapter.open(adapter);
      try {
        Map<String, dev.graft.tensor.Shape> shapes = new LinkedHashMap<>();
        base.tensors.forEach((k, v) -> shapes.put(k, v.shape()));
        a.check(shapes);
      } catch (RuntimeException e) {
        a.close();
        throw e;
      }
      return new Checkpoint(base.root, base.files, base.owner, base.tensors, base.metadata, base.config, a);
    } catch (RuntimeException e) {
      base.close();
      throw e;
    }
  }

  private boolean adapted(String name) {
    return lora != null && lora.modifies(name);
  }

  /** An adapted tensor encoded in its own dtype, as a mapping over heap bytes. */
  private MappedTensor adaptedMapping(String name, long first, long count) {
    TensorInfo ti = info(name);
    float[] v = readFloats(name);
    int bs = ti.dtype().byteSize();
    java.lang.foreign.MemorySegment all = java.lang.foreign.MemorySegment.ofArray(new byte[Math.toIntExact(v.length * (long) bs)]);
    DTypeCodec.encode(v, 0, v.length, ti.dtype(), all, 0);
    return new MappedTensor(ti, first, count, all.asSlice(first * bs, count * bs), java.lang.foreign.Arena.ofConfined());
  }

  /**
   * Opens a checkpoint from a safetensors file, an index file or a folder.
   *
   * @throws InvalidInputException when the path is missing, holds no safetensors, holds a pickle checkpoint, or a
   *     header or the index is invalid
   */
  public static Checkpoint open(Path path) {
    if (!Files.exists(path)) {
      throw new InvalidInputException(path + ": no such file or folder");
    }
    if (Files.isDirectory(path)) {
      return openFolder(path);
    }
    if (path.getFileName().toString().endsWith(".index.json")) {
      return openIndex(path, path.getParent() == null ? Path.of(".") : path.getParent());
    }
    return openFiles(path.toAbsolutePath().getParent(), List.of(path), null);
  }

  private static Checkpoint openFolder(Path dir) {
    Path index = dir.resolve(INDEX_NAME);
    if (Files.isRegularFile(index)) {
      return openIndex(index, dir);
    }
    Path single = dir.resolve("model.safetensors");
    if (Files.isRegularFile(single)) {
      return openFiles(dir, List.of(single), readConfig(dir));
    }
    List<Path> st;
    List<Path> pickles;
    try (Stream<Path> s = Files.list(dir)) {
      List<Path> all = s.sorted().toList();
      st = all.stream().filter(p -> p.getFileName().toString().endsWith(".safetensors")).toList();
      pickles = all.stream().filter(PickleSniffer::isPickleName).toList();
    } catch (IOException e) {
      throw new InvalidInputException(dir + ": cannot list folder: " + e.getMessage(), e);
    }
    if (st.size() == 1) {
      return openFiles(dir, st, readConfig(dir));
    }
    if (st.size() > 1) {
      throw new InvalidInputException(
          dir + ": holds " + st.size() + " safetensors files " + st.stream().map(p -> p.getFileName().toString()).toList()
              + " but no " + INDEX_NAME + "; pass one file, or add the index");
    }
    if (!pickles.isEmpty()) {
      throw new InvalidInputException(
          dir + ": holds only pickle checkpoints (" + pickles.getFirst().getFileName() + "). " + PickleSniffer.HOW_TO_CONVERT);
    }
    throw new InvalidInputException(dir + ": no model.safetensors, " + INDEX_NAME + " or other .safetensors file here");
  }

  private static Checkpoint openIndex(Path index, Path dir) {
    JsonNode root;
    try {
      root = JSON.readTree(index.toFile());
    } catch (IOException e) {
      throw new InvalidInputException(index + ": invalid JSON: " + firstLine(e.getMessage()));
    }
    JsonNode map = root == null ? null : root.get("weight_map");
    if (map == null || !map.isObject()) {
      throw new InvalidInputException(index + ": missing the \"weight_map\" object (tensor name -> shard file)");
    }
    Map<String, String> weightMap = new LinkedHashMap<>();
    List<Path> shardFiles = new ArrayList<>();
    for (Map.Entry<String, JsonNode> e : map.properties()) {
      if (!e.getValue().isTextual()) {
        throw new InvalidInputException(index + ": weight_map[\"" + e.getKey() + "\"] must be a file name");
      }
      String file = e.getValue().asText();
      Path shard = dir.resolve(file).normalize();
      if (!shard.startsWith(dir.normalize()) || file.contains("/") || file.contains("\\")) {
        throw new InvalidInputException(index + ": weight_map[\"" + e.getKey() + "\"] = '" + file + "' must be a file in the same folder");
      }
      weightMap.put(e.getKey(), file);
      if (!shardFiles.contains(shard)) {
        if (!Files.isRegularFile(shard)) {
          throw new InvalidInputException(index + ": shard '" + file + "' (holding '" + e.getKey() + "') is missing");
        }
        shardFiles.add(shard);
      }
    }
    Checkpoint cp = openFiles(dir, shardFiles, readConfig(dir));
    for (Map.Entry<String, String> e : weightMap.entrySet()) {
      SafetensorsFile f = cp.owner.get(e.getKey());
      if (f == null || !f.path().getFileName().toString().equals(e.getValue())) {
        cp.close();
        throw new InvalidInputException(
            index + ": lists tensor '" + e.getKey() + "' in '" + e.getValue() + "' but that shard "
                + (f == null ? "does not hold it" : "does not; it is in '" + f.path().getFileName() + "'"));
      }
    }
    if (weightMap.size() != cp.tensors.size()) {
      List<String> extra = cp.tensors.keySet().stream().filter(n -> !weightMap.containsKey(n)).limit(5).toList();
      cp.close();
      throw new InvalidInputException(index + ": shards hold tensors the index does not list, e.g. " + extra);
    }
    return cp;
  }

  private static Checkpoint openFiles(Path dir, List<Path> paths, ModelConfig config) {
    List<SafetensorsFile> files = new ArrayList<>();
    Map<String, SafetensorsFile> owner = new LinkedHashMap<>();
    Map<String, TensorInfo> tensors = new LinkedHashMap<>();
    try {
      for (Path p : paths) {
        SafetensorsFile f = SafetensorsFile.open(p);
        files.add(f);
        for (TensorInfo ti : f.tensors().values()) {
          SafetensorsFile prev = owner.putIfAbsent(ti.name(), f);
          if (prev != null) {
            throw new InvalidInputException(
                "tensor '" + ti.name() + "' is in both " + prev.path().getFileName() + " and " + p.getFileName());
          }
          tensors.put(ti.name(), ti);
        }
      }
    } catch (RuntimeException e) {
      files.forEach(SafetensorsFile::close);
      throw e;
    }
    Map<String, String> md = files.size() == 1 ? files.getFirst().header().metadata() : null;
    return new Checkpoint(dir, files, owner, tensors, md, config);
  }

  private static ModelConfig readConfig(Path dir) {
    Path cfg = dir.resolve("config.json");
    return Files.isRegularFile(cfg) ? ModelConfig.read(cfg) : null;
  }

  private static String firstLine(String s) {
    int nl = s == null ? -1 : s.indexOf('\n');
    return nl < 0 ? String.valueOf(s) : s.substring(0, nl);
  }

  /** The folder holding the checkpoint. */
  public Path root() {
    return root;
  }

  /** The safetensors files, in shard order. */
  public List<SafetensorsFile> files() {
    return files;
  }

  /** Every tensor, in shard then header order. */
  public Map<String, TensorInfo> tensors() {
    return tensors;
  }

  public boolean contains(String name) {
    return tensors.containsKey(name);
  }

  /** The tensor's entry, or an {@link InvalidInputException} naming the checkpoint and a close name. */
  public TensorInfo info(String name) {
    TensorInfo ti = tensors.get(name);
    if (ti == null) {
      throw new InvalidInputException(root + ": no tensor named '" + name + "'" + didYouMean(name));
    }
    return ti;
  }

  private String didYouMean(String name) {
    String best = dev.graft.internal.Names.closest(name, tensors.keySet());
    return best == null ? "" : " (did you mean '" + best + "'?)";
  }

  /** The file holding a tensor. */
  public SafetensorsFile fileOf(String name) {
    info(name);
    return owner.get(name);
  }

  /** Maps a whole tensor; close the result to unmap it. */
  public MappedTensor map(String name) {
    return adapted(name) ? adaptedMapping(name, 0, info(name).numel()) : fileOf(name).map(name);
  }

  /** Maps elements {@code [first, first + count)} of a tensor. */
  public MappedTensor map(String name, long first, long count) {
    return adapted(name) ? adaptedMapping(name, first, count) : fileOf(name).map(info(name), first, count);
  }

  /** Reads raw bytes of elements {@code [first, first + count)} into {@code dst} (see {@link SafetensorsFile#read}). */
  public void read(String name, long first, long count, java.nio.ByteBuffer dst) {
    if (adapted(name)) {
      try (MappedTensor m = adaptedMapping(name, first, count)) {
        dst.put(m.segment().asByteBuffer());
      }
      return;
    }
    fileOf(name).read(info(name), first, count, dst);
  }

  /** Reads a whole tensor as float32. */
  public float[] readFloats(String name) {
    return adapted(name) ? lora.read(name, () -> fileOf(name).readFloats(name)) : fileOf(name).readFloats(name);
  }

  /** {@code __metadata__} of a single-file checkpoint (null when absent or sharded). */
  public Map<String, String> metadata() {
    return metadata;
  }

  /** The parsed {@code config.json}, when the folder has one. */
  public Optional<ModelConfig> config() {
    return Optional.ofNullable(config);
  }

  /**
   * Whether the output embedding shares the input embedding: {@code tie_word_embeddings} from the config when
   * present, otherwise true when there is an embedding but no {@code lm_head.weight}.
   */
  public boolean tiedEmbeddings() {
    return tiedEmbeddings(config, tensors.keySet());
  }

  /**
   * Whether a model with this config and these tensor names ties its input and output embeddings: config.json's
   * {@code tie_word_embeddings} when present, else an embedding without an {@code lm_head.weight}.
   */
  public static boolean tiedEmbeddings(ModelConfig config, java.util.Set<String> names) {
    if (config != null && config.tieWordEmbeddings().isPresent()) {
      return config.tieWordEmbeddings().get();
    }
    boolean hasEmbed = names.stream().anyMatch(n -> n.endsWith("embed_tokens.weight"));
    return hasEmbed && !names.contains("lm_head.weight");
  }

  /** Tokenizer and generation files present next to the weights. */
  public List<Path> auxiliaryFiles() {
    return AUXILIARY_FILES.stream().map(root::resolve).filter(Files::isRegularFile).toList();
  }

  /** Total parameter count. */
  public long parameterCount() {
    return tensors.values().stream().mapToLong(TensorInfo::numel).sum();
  }

  /** Total bytes of tensor data. */
  public long byteSize() {
    return tensors.values().stream().mapToLong(TensorInfo::byteSize).sum();
  }

  @Override
  public void close() {
    files.forEach(SafetensorsFile::close);
    if (lora != null) {
      lora.close();
    }
  }
}
