package dev.graft.io;

import com.fasterxml.jackson.core.JsonFactory;
import com.fasterxml.jackson.core.JsonGenerator;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.graft.internal.DirectBuffers;
import dev.graft.tensor.DType;
import dev.graft.tensor.Shape;
import java.io.IOException;
import java.io.StringWriter;
import java.io.UncheckedIOException;
import java.lang.foreign.MemorySegment;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.TreeMap;
import java.util.concurrent.atomic.AtomicLong;
import java.util.regex.Pattern;
import java.util.stream.Stream;

/**
 * Streaming safetensors writer with Hugging Face sharding.
 *
 * <p>The tensors to write are declared up front (name, dtype, shape), so every header is known before any data:
 * each shard file gets its header immediately and tensor bytes are then written at their final positions, in any
 * order, from any thread, in chunks of any size. Memory use is bounded by the caller's chunks.
 *
 * <p>Shards are filled in declaration order until the next tensor would exceed the maximum shard size (a tensor
 * larger than the maximum gets a shard of its own). One shard is named {@code model.safetensors}; several are named
 * {@code model-00001-of-00003.safetensors} and listed in {@code model.safetensors.index.json} with
 * {@code metadata.total_size}. Headers are padded with spaces to a multiple of 8 bytes.
 *
 * <p>Every file is written under a hidden {@code .NAME.partial} name and renamed by {@link #finish()} only once
 * every byte of every tensor has been written; the index is renamed last. {@link #close()} without
 * {@link #finish()} deletes the partial files.
 *
 * @implNote {@link #write} and {@link #writeFloats} are thread-safe.
 */
public final class SafetensorsWriter implements AutoCloseable {
  /** A tensor to be written. */
  public record Entry(String name, DType dtype, Shape shape) {
    public Entry {
      Objects.requireNonNull(name, "name");
      Objects.requireNonNull(dtype, "dtype");
      Objects.requireNonNull(shape, "shape");
    }

    public long byteSize() {
      return Math.multiplyExact(shape.numel(), (long) dtype.byteSize());
    }
  }

  private static final Pattern SHARD_NAME = Pattern.compile("model-\\d{5}-of-\\d{5}\\.safetensors");
  private static final int CHUNK_BYTES = 4 << 20;
  private static final DirectBuffers ENCODE_BUFFER = new DirectBuffers();
  private static final DirectBuffers STAGING = new DirectBuffers();

  private final Path dir;
  private final boolean hfLayout;
  private final List<Shard> shards = new ArrayList<>();
  private final Map<String, Slot> slots = new HashMap<>();
  private boolean finished;
  private boolean closed;
  private Path madeDir; // the output folder, when this writer created it: removed with an abandoned output

  private record Shard(Path finalPath, Path partialPath, FileChannel channel, long dataStart, long fileSize) {}

  private record Slot(Entry entry, Shard shard, long position, AtomicLong written) {}

  private SafetensorsWriter(Path dir, boolean hfLayout) {
    this.dir = dir;
    this.hfLayout = hfLayout;
  }

  /**
   * Starts writing a Hugging Face folder of shards no larger than {@code maxShardBytes} each (data bytes).
   *
   * @param outDir output folder, created when missing
   * @param entries the tensors, in the order they are laid out
   * @param maxShardBytes maximum data bytes per shard; {@link Long#MAX_VALUE} for a single file
   * @param metadata {@code __metadata__} of every shard, or null
   */
  public static SafetensorsWriter create(Path outDir, List<Entry> entries, long maxShardBytes, Map<String, String> metadata) {
    if (maxShardBytes <= 0) {
      throw new IllegalArgumentException("maxShardBytes must be > 0, found " + maxShardBytes);
    }
    List<List<Entry>> groups = new ArrayList<>();
    List<Entry> cur = new ArrayList<>();
    long curBytes = 0;
    for (Entry e : entries) {
      if (!cur.isEmpty() && curBytes + e.byteSize() > maxShardBytes) {
        groups.add(cur);
        cur = new ArrayList<>();
        curBytes = 0;
      }
      cur.add(e);
      curBytes += e.byteSize();
    }
    groups.add(cur);
    SafetensorsWriter w = new SafetensorsWriter(outDir, true);
    try {
      w.makeDir(outDir);
      int n = groups.size();
      for (int i = 0; i < n; i++) {
        String name = n == 1 ? "model.safetensors" : String.format("model-%05d-of-%05d.safetensors", i + 1, n);
        w.openShard(outDir.resolve(name), groups.get(i), metadata);
      }
      return w;
    } catch (IOException | RuntimeException e) {
      w.close();
      throw e instanceof IOException io ? new UncheckedIOException("cannot create " + outDir + ": " + e.getMessage(), io) : (RuntimeException) e;
    }
  }

  /** Starts writing one safetensors file at {@code file}. */
  public static SafetensorsWriter createFile(Path file, List<Entry> entries, Map<String, String> metadata) {
    Path parent = file.toAbsolutePath().getParent();
    SafetensorsWriter w = new SafetensorsWriter(parent, false);
    try {
      w.makeDir(parent);
      w.openShard(file, entries, metadata);
      return w;
    } catch (IOException | RuntimeException e) {
      w.close();
      throw e instanceof IOException io ? new UncheckedIOException("cannot create " + file + ": " + e.getMessage(), io) : (RuntimeException) e;
    }
  }

  /** Creates {@code d} when missing, and then marks it unfinished (removed if the JVM stops before {@link #finish()}). */
  private void makeDir(Path d) throws IOException {
    if (!Files.isDirectory(d)) {
      Files.createDirectories(d);
      madeDir = d;
      AtomicFiles.unfinished(d);
    }
  }

  private void openShard(Path finalPath, List<Entry> entries, Map<String, String> metadata) throws IOException {
    byte[] header = headerBytes(entries, metadata);
    Path partial = finalPath.resolveSibling("." + finalPath.getFileName() + ".partial");
    AtomicFiles.unfinished(partial);
    FileChannel ch =
        FileChannel.open(partial, StandardOpenOption.CREATE, StandardOpenOption.TRUNCATE_EXISTING, StandardOpenOption.WRITE);
    long dataStart = 8L + header.length;
    long dataBytes = entries.stream().mapToLong(Entry::byteSize).sum();
    Shard shard = new Shard(finalPath, partial, ch, dataStart, dataStart + dataBytes);
    shards.add(shard);
    long pos = 0;
    for (Entry e : entries) {
      Slot prev = slots.putIfAbsent(e.name(), new Slot(e, shard, dataStart + pos, new AtomicLong()));
      if (prev != null) {
        throw new IllegalArgumentException("tensor '" + e.name() + "' is declared twice");
      }
      pos += e.byteSize();
    }
    ByteBuffer head = ByteBuffer.allocate(header.length + 8).order(ByteOrder.LITTLE_ENDIAN);
    head.putLong(header.length).put(header).flip();
    while (head.hasRemaining()) {
      ch.write(head, head.position());
    }
  }

  static byte[] headerBytes(List<Entry> entries, Map<String, String> metadata) {
    StringWriter sw = new StringWriter();
    try (JsonGenerator g = new JsonFactory().createGenerator(sw)) {
      g.writeStartObject();
      if (metadata != null) {
        g.writeObjectFieldStart("__metadata__");
        for (Map.Entry<String, String> m : new TreeMap<>(metadata).entrySet()) {
          g.writeStringField(m.getKey(), m.getValue());
        }
        g.writeEndObject();
      }
      long off = 0;
      for (Entry e : entries) {
        g.writeObjectFieldStart(e.name());
        g.writeStringField("dtype", e.dtype().tag());
        g.writeArrayFieldStart("shape");
        for (long d : e.shape().dims()) {
          g.writeNumber(d);
        }
        g.writeEndArray();
        g.writeArrayFieldStart("data_offsets");
        g.writeNumber(off);
        g.writeNumber(off + e.byteSize());
        g.writeEndArray();
        g.writeEndObject();
        off += e.byteSize();
      }
      g.writeEndObject();
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
    byte[] json = sw.toString().getBytes(StandardCharsets.UTF_8);
    int padded = (json.length + 7) & ~7;
    byte[] out = new byte[padded];
    System.arraycopy(json, 0, out, 0, json.length);
    java.util.Arrays.fill(out, json.length, padded, (byte) ' ');
    return out;
  }

  private Slot slot(String name) {
    Slot s = slots.get(name);
    if (s == null) {
      throw new IllegalArgumentException("tensor '" + name + "' was not declared to this writer");
    }
    if (closed || finished) {
      throw new IllegalStateException("writer already " + (finished ? "finished" : "closed") + "; cannot write '" + name + "'");
    }
    return s;
  }

  /**
   * Writes raw little-endian bytes of a tensor, starting {@code byteOffset} bytes into it.
   *
   * @throws IndexOutOfBoundsException when the bytes do not fit in the tensor
   */
  public void write(String name, long byteOffset, ByteBuffer src) {
    Slot s = slot(name);
    int n = src.remaining();
    Objects.checkFromIndexSize(byteOffset, n, s.entry.byteSize());
    try {
      long pos = s.position + byteOffset;
      while (src.hasRemaining()) {
        pos += s.shard.channel.write(src, pos);
      }
    } catch (IOException e) {
      throw new UncheckedIOException("writing '" + name + "' to " + s.shard.partialPath + ": " + e.getMessage(), e);
    }
    s.written.addAndGet(n);
  }

  /**
   * Encodes float32 values into the tensor's dtype and writes them, starting at element {@code firstElement}.
   */
  public void writeFloats(String name, long firstElement, float[] src, int off, int len) {
    Slot s = slot(name);
    int es = s.entry.dtype().byteSize();
    Objects.checkFromIndexSize(firstElement, len, s.entry.shape().numel());
    ByteBuffer buf = ENCODE_BUFFER.get(CHUNK_BYTES);
    MemorySegment seg = MemorySegment.ofBuffer(buf);
    int per = CHUNK_BYTES / es;
    for (int done = 0; done < len; ) {
      int n = Math.min(per, len - done);
      DTypeCodec.encode(src, off + done, n, s.entry.dtype(), seg, 0);
      buf.clear().limit(n * es);
      write(name, (firstElement + done) * es, buf);
      done += n;
    }
  }

  /** A thread-local direct buffer of {@code bytes} capacity or more, cleared, for callers that stage output. */
  public static ByteBuffer stagingBuffer(int bytes) {
    return STAGING.get(bytes);
  }

  /** Declared entries, by name. */
  public Entry entry(String name) {
    Slot s = slots.get(name);
    if (s == null) {
      throw new IllegalArgumentException("tensor '" + name + "' was not declared to this writer");
    }
    return s.entry;
  }

  /**
   * Checks that every byte was written, renames the shards to their final names, writes the index (when sharded)
   * and removes stale shards or index files of an earlier output in the same folder.
   *
   * @return the files written, shards first then the index
   * @throws IllegalStateException naming a tensor that was not completely written
   */
  public List<Path> finish() {
    if (finished) {
      throw new IllegalStateException("finish() called twice");
    }
    for (Slot s : slots.values()) {
      long w = s.written.get();
      if (w != s.entry.byteSize()) {
        throw new IllegalStateException(
            "tensor '" + s.entry.name() + "' got " + w + " of " + s.entry.byteSize() + " bytes; output left unfinished");
      }
    }
    List<Path> out = new ArrayList<>();
    try {
      for (Shard sh : shards) {
        sh.channel.truncate(sh.fileSize);
        sh.channel.close();
      }
      for (Shard sh : shards) {
        Files.move(sh.partialPath, sh.finalPath, StandardCopyOption.REPLACE_EXISTING, StandardCopyOption.ATOMIC_MOVE);
        AtomicFiles.finished(sh.partialPath);
        out.add(sh.finalPath);
      }
      if (hfLayout) {
        removeStale(out);
        if (shards.size() > 1) {
          out.add(writeIndex());
        }
      }
    } catch (IOException e) {
      throw new UncheckedIOException("finishing output in " + dir + ": " + e.getMessage(), e);
    }
    finished = true;
    if (madeDir != null) {
      AtomicFiles.finished(madeDir);
    }
    return out;
  }

  private Path writeIndex() throws IOException {
    ObjectMapper om = new ObjectMapper();
    ObjectNode root = om.createObjectNode();
    long total = slots.values().stream().mapToLong(s -> s.entry.byteSize()).sum();
    root.putObject("metadata").put("total_size", total);
    ObjectNode wm = root.putObject("weight_map");
    Map<String, String> sorted = new TreeMap<>();
    slots.forEach((n, s) -> sorted.put(n, s.shard.finalPath.getFileName().toString()));
    sorted.forEach(wm::put);
    Path index = dir.resolve(Checkpoint.INDEX_NAME);
    Path tmp = dir.resolve("." + Checkpoint.INDEX_NAME + ".partial");
    Files.writeString(tmp, om.writerWithDefaultPrettyPrinter().writeValueAsString(root) + "\n");
    Files.move(tmp, index, StandardCopyOption.REPLACE_EXISTING, StandardCopyOption.ATOMIC_MOVE);
    return index;
  }

  private void removeStale(List<Path> keep) throws IOException {
    try (Stream<Path> s = Files.list(dir)) {
      for (Path p : s.toList()) {
        String n = p.getFileName().toString();
        boolean ours = SHARD_NAME.matcher(n).matches() || n.equals("model.safetensors") || n.equals(Checkpoint.INDEX_NAME);
        if (ours && !keep.contains(p)) {
          Files.deleteIfExists(p);
        }
      }
    }
  }

  /** Aborts an unfinished output (deleting its partial files); a no-op after {@link #finish()}. */
  @Override
  public void close() {
    if (closed) {
      return;
    }
    closed = true;
    if (!finished) {
      for (Shard sh : shards) {
        try {
          sh.channel.close();
          Files.deleteIfExists(sh.partialPath);
          AtomicFiles.finished(sh.partialPath);
        } catch (IOException ignored) {
          // best effort: the file keeps its .partial name, never a final one
        }
      }
      if (madeDir != null) {
        try {
          Files.deleteIfExists(madeDir); // only when empty: nothing but this writer's files went there
        } catch (IOException ignored) {
          // not empty, or gone: left as it is
        }
        AtomicFiles.finished(madeDir);
      }
    }
  }
}
