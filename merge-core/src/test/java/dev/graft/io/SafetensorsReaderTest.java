package dev.graft.io;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.graft.InvalidInputException;
import dev.graft.tensor.DType;
import dev.graft.tensor.Shape;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class SafetensorsReaderTest {
  @TempDir Path dir;

  /** Writes a raw file: 8-byte length, the header text as given (no padding), then {@code dataBytes} bytes. */
  static Path raw(Path dir, String header, int dataBytes) throws IOException {
    byte[] h = header.getBytes(StandardCharsets.UTF_8);
    ByteBuffer b = ByteBuffer.allocate(8 + h.length + dataBytes).order(ByteOrder.LITTLE_ENDIAN);
    b.putLong(h.length).put(h);
    for (int i = 0; i < dataBytes; i++) {
      b.put((byte) i);
    }
    Path p = Files.createTempFile(dir, "t", ".safetensors");
    Files.write(p, b.array());
    return p;
  }

  private void rejects(String header, int dataBytes, String... fragments) throws IOException {
    Path p = raw(dir, header, dataBytes);
    assertThatThrownBy(() -> SafetensorsFile.open(p).close())
        .isInstanceOf(SafetensorsFormatException.class)
        .hasMessageContaining(p.toString())
        .hasMessageContaining(fragments[0]);
    for (String f : fragments) {
      assertThatThrownBy(() -> SafetensorsFile.open(p).close()).hasMessageContaining(f);
    }
  }

  @Test
  void readsUnpaddedHeaderAndZeroDimTensor() throws IOException {
    Path p = raw(dir, "{\"a\":{\"dtype\":\"F32\",\"shape\":[],\"data_offsets\":[0,4]}}", 4);
    try (SafetensorsFile f = SafetensorsFile.open(p)) {
      TensorInfo a = f.info("a");
      assertThat(a.shape()).isEqualTo(Shape.of(new long[0]));
      assertThat(a.numel()).isEqualTo(1);
      assertThat(f.readFloats("a")).containsExactly(Float.intBitsToFloat(0x03020100));
      assertThat(f.header().metadata()).isNull();
      assertThat(f.header().warnings()).isEmpty();
    }
  }

  @Test
  void readsZeroElementTensorsAndNullMetadata() throws IOException {
    Path p =
        raw(dir, "{\"__metadata__\":null,\"e\":{\"dtype\":\"BF16\",\"shape\":[0,3],\"data_offsets\":[0,0]},"
            + "\"x\":{\"dtype\":\"U8\",\"shape\":[2],\"data_offsets\":[0,2]}}", 2);
    try (SafetensorsFile f = SafetensorsFile.open(p)) {
      assertThat(f.readFloats("e")).isEmpty();
      assertThat(f.readFloats("x")).containsExactly(0f, 1f);
    }
  }

  @Test
  void rejectsMalformedHeaders() throws IOException {
    String ok = "\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[0,8]";
    rejects("{\"a\":{" + ok + "}", 8, "invalid header JSON");
    rejects("[1,2]", 8, "does not start with '{'");
    rejects("{\"a\":{\"dtype\":\"Q4\",\"shape\":[2],\"data_offsets\":[0,8]}}", 8, "tensor 'a'", "unknown dtype 'Q4'");
    rejects("{\"a\":{\"dtype\":\"F32\",\"shape\":[3],\"data_offsets\":[0,8]}}", 8, "tensor 'a'", "needs 12 bytes");
    rejects("{\"a\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[0,8]}}", 4, "tensor 'a'", "past the data area");
    rejects("{\"a\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[8,0]}}", 8, "end before they begin");
    rejects("{\"a\":{" + ok + "},\"b\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[4,12]}}", 12, "overlap");
    rejects("{\"a\":{" + ok + "},\"a\":{" + ok + "}}", 8, "Duplicate field 'a'", "unique");
    rejects("{\"a\":{\"dtype\":\"F32\",\"shape\":[-2],\"data_offsets\":[0,8]}}", 8, "out of range");
    rejects("{\"a\":{\"dtype\":\"F32\",\"shape\":[2.5],\"data_offsets\":[0,8]}}", 8, "non-negative integers");
    rejects("{\"a\":{\"dtype\":\"F32\",\"shape\":[4294967296,4294967296,4],\"data_offsets\":[0,8]}}", 8, "overflows");
    rejects("{\"a\":{\"dtype\":\"F32\",\"shape\":[2]}}", 8, "missing data_offsets");
    rejects("{\"__metadata__\":{\"k\":1}}", 0, "__metadata__.k must be a string");
    rejects("{\"__metadata__\":[1]}", 0, "__metadata__ must be an object");
    rejects("{\"a\":{" + ok + "}} x", 8, "invalid header JSON");
    rejects("{\"a\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[0,8,16]}}", 8, "must have 2 entries");
  }

  @Test
  void rejectsBadLengthsAndForeignFormatsWithoutBigAllocations() throws IOException {
    Path tiny = dir.resolve("tiny.safetensors");
    Files.write(tiny, new byte[] {1, 2, 3});
    assertThatThrownBy(() -> SafetensorsFile.open(tiny)).isInstanceOf(SafetensorsFormatException.class).hasMessageContaining("shorter than");

    Path huge = dir.resolve("huge.safetensors");
    ByteBuffer b = ByteBuffer.allocate(16).order(ByteOrder.LITTLE_ENDIAN).putLong(Long.MAX_VALUE - 3).putLong(0);
    Files.write(huge, b.array());
    assertThatThrownBy(() -> SafetensorsFile.open(huge)).hasMessageContaining("header length at byte 0");

    Path longer = dir.resolve("longer.safetensors");
    b = ByteBuffer.allocate(16).order(ByteOrder.LITTLE_ENDIAN).putLong(1000).putLong(0);
    Files.write(longer, b.array());
    assertThatThrownBy(() -> SafetensorsFile.open(longer)).hasMessageContaining("says 1000 bytes but only 8 bytes follow");

    Path pickle = dir.resolve("pytorch_model.bin");
    Files.write(pickle, new byte[] {(byte) 0x80, 2, (byte) 0x8a, 0x0a, 0x6c, (byte) 0xfc, (byte) 0x9c, 0x46, 0x20, 0x00});
    assertThatThrownBy(() -> SafetensorsFile.open(pickle)).hasMessageContaining("pickle").hasMessageContaining("save_file");

    Path zip = dir.resolve("model.pt");
    Files.write(zip, new byte[] {'P', 'K', 3, 4, 0, 0, 0, 0, 0, 0, 0, 0});
    assertThatThrownBy(() -> SafetensorsFile.open(zip)).hasMessageContaining("zip archive");

    assertThatThrownBy(() -> SafetensorsFile.open(dir.resolve("missing.safetensors")))
        .isInstanceOf(InvalidInputException.class).hasMessageContaining("no such file");
  }

  @Test
  void warnsAboutGapsTheOfficialLibraryRefuses() throws IOException {
    Path p = raw(dir, "{\"a\":{\"dtype\":\"U8\",\"shape\":[2],\"data_offsets\":[2,4]}}", 6);
    try (SafetensorsFile f = SafetensorsFile.open(p)) {
      assertThat(f.header().warnings()).hasSize(2);
      assertThat(f.readFloats("a")).containsExactly(2f, 3f);
    }
  }

  @Test
  void mapsChunksOfATensor() throws IOException {
    Path out = dir.resolve("c.safetensors");
    float[] v = new float[1000];
    for (int i = 0; i < v.length; i++) {
      v[i] = i * 0.5f;
    }
    var e = new SafetensorsWriter.Entry("w", DType.BF16, Shape.of(10, 100));
    try (SafetensorsWriter w = SafetensorsWriter.createFile(out, java.util.List.of(e), null)) {
      w.writeFloats("w", 0, v, 0, 500);
      w.writeFloats("w", 500, v, 500, 500);
      w.finish();
    }
    try (SafetensorsFile f = SafetensorsFile.open(out); MappedTensor m = f.map(f.info("w"), 250, 100)) {
      float[] chunk = m.toFloatArray();
      assertThat(chunk[0]).isEqualTo(125f);
      assertThat(chunk[99]).isEqualTo(DTypeCodec.roundTo(349 * 0.5f, DType.BF16));
      m.close();
      assertThatThrownBy(() -> m.readFloats(0, new float[1], 0, 1)).isInstanceOf(IllegalStateException.class);
    }
  }
}
