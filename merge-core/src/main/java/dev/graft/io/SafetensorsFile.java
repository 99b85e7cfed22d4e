package dev.graft.io;

import dev.graft.InvalidInputException;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.Map;

/**
 * One safetensors file, opened lazily: the header is read and validated at open; tensor data is mapped on demand,
 * one tensor (or one chunk of a tensor) at a time, and unmapped when the returned {@link MappedTensor} is closed.
 *
 * <p>Nothing is read onto the heap but the header, whose size is bounded by the file size and
 * {@link SafetensorsHeader#MAX_HEADER_BYTES}. Tensors of any size can be mapped; readers go through them in
 * chunks of at most 2^31 - 1 elements.
 *
 * @implNote thread-safe: several threads may map tensors of one file at once.
 */
public final class SafetensorsFile implements AutoCloseable {
  private final Path path;
  private final FileChannel channel;
  private final SafetensorsHeader header;
  private final long fileSize;

  private SafetensorsFile(Path path, FileChannel channel, SafetensorsHeader header, long fileSize) {
    this.path = path;
    this.channel = channel;
    this.header = header;
    this.fileSize = fileSize;
  }

  /**
   * Opens and validates a safetensors file.
   *
   * @throws SafetensorsFormatException when the file is not valid safetensors (message names file, tensor, offset)
   * @throws InvalidInputException when the file does not exist or cannot be read
   */
  public static SafetensorsFile open(Path path) {
    String source = path.toString();
    FileChannel ch;
    try {
      ch = FileChannel.open(path, StandardOpenOption.READ);
    } catch (NoSuchFileException e) {
      throw new InvalidInputException(source + ": no such file");
    } catch (IOException e) {
      throw new InvalidInputException(source + ": cannot open: " + e.getMessage(), e);
    }
    try {
      long size = ch.size();
      ByteBuffer prefix = ByteBuffer.allocate(8);
      readFully(ch, prefix, 0);
      prefix.flip();
      long n = SafetensorsHeader.checkLength(source, prefix, size);
      if (PickleSniffer.isPickleName(path)) {
        throw new SafetensorsFormatException(source + ": " + PickleSniffer.HOW_TO_CONVERT);
      }
      ByteBuffer json = ByteBuffer.allocate((int) n);
      readFully(ch, json, 8);
      SafetensorsHeader header = SafetensorsHeader.parse(source, json.array(), size - 8 - n);
      return new SafetensorsFile(path, ch, header, size);
    } catch (IOException e) {
      closeQuietly(ch);
      throw new UncheckedIOException(source + ": read failed: " + e.getMessage(), e);
    } catch (RuntimeException e) {
      closeQuietly(ch);
      throw e;
    }
  }

  private static void readFully(FileChannel ch, ByteBuffer buf, long pos) throws IOException {
    while (buf.hasRemaining()) {
      int r = ch.read(buf, pos + buf.position());
      if (r < 0) {
        break;
      }
    }
  }

  private static void closeQuietly(FileChannel ch) {
    try {
      ch.close();
    } catch (IOException ignored) {
      // nothing useful to do
    }
  }

  public Path path() {
    return path;
  }

  public SafetensorsHeader header() {
    return header;
  }

  public Map<String, TensorInfo> tensors() {
    return header.tensors();
  }

  public long fileSize() {
    return fileSize;
  }

  /** The tensor's entry, or an {@link InvalidInputException} naming the file. */
  public TensorInfo info(String name) {
    TensorInfo ti = header.tensors().get(name);
    if (ti == null) {
      throw new InvalidInputException(path + ": no tensor named '" + name + "'");
    }
    return ti;
  }

  /** Maps a whole tensor read-only. Close the result to unmap it. */
  public MappedTensor map(String name) {
    TensorInfo ti = info(name);
    return map(ti, 0, ti.numel());
  }

  /**
   * Maps elements {@code [first, first + count)} of a tensor (in row-major order) read-only.
   *
   * @throws IndexOutOfBoundsException when the range is outside the tensor
   */
  public MappedTensor map(TensorInfo ti, long first, long count) {
    java.util.Objects.checkFromIndexSize(first, count, ti.numel());
    int es = ti.dtype().byteSize();
    long offset = header.dataStart() + ti.begin() + first * es;
    long bytes = count * es;
    Arena arena = Arena.ofShared();
    try {
      MemorySegment seg = bytes == 0 ? MemorySegment.NULL : channel.map(FileChannel.MapMode.READ_ONLY, offset, bytes, arena);
      return new MappedTensor(ti, first, count, seg, arena);
    } catch (IOException e) {
      arena.close();
      throw new UncheckedIOException(path + ": cannot map tensor '" + ti.name() + "' at byte " + offset + ": " + e.getMessage(), e);
    }
  }

  /**
   * Reads the raw bytes of elements {@code [first, first + count)} of a tensor into {@code dst} (from its position;
   * it must have room) with positional reads: the streaming alternative to {@link #map}, for one pass over data
   * that page faults on a fresh mapping would slow down.
   */
  public void read(TensorInfo ti, long first, long count, java.nio.ByteBuffer dst) {
    java.util.Objects.checkFromIndexSize(first, count, ti.numel());
    long bytes = count * ti.dtype().byteSize();
    if (bytes > dst.remaining()) {
      throw new IllegalArgumentException("buffer has " + dst.remaining() + " bytes left, tensor range needs " + bytes);
    }
    long pos = header.dataStart() + ti.begin() + first * ti.dtype().byteSize();
    int end = dst.position() + (int) bytes;
    java.nio.ByteBuffer view = dst.duplicate().limit(end);
    try {
      while (view.hasRemaining()) {
        int r = channel.read(view, pos + view.position() - dst.position());
        if (r < 0) {
          throw new SafetensorsFormatException(path + ": file ended while reading tensor '" + ti.name() + "' (truncated?)");
        }
      }
    } catch (IOException e) {
      throw new UncheckedIOException(path + ": reading tensor '" + ti.name() + "' at byte " + pos + ": " + e.getMessage(), e);
    }
    dst.position(end);
  }

  /** Reads a whole tensor (at most 2^31 - 9 elements) as float32. */
  public float[] readFloats(String name) {
    try (MappedTensor t = map(name)) {
      return t.toFloatArray();
    }
  }

  @Override
  public void close() {
    closeQuietly(channel);
  }
}
