package dev.graft.io;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.io.IOException;
import java.io.RandomAccessFile;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** A tensor of more than 2^31 elements (a sparse 2.1 GB file: no disk is used) is readable in chunks. */
class HugeTensorTest {
  @TempDir Path dir;

  @Test
  void tensorsBeyondTwoToThe31ElementsAreReadInChunks() throws IOException {
    long n = (1L << 31) + 4096;
    String header = "{\"huge\":{\"dtype\":\"U8\",\"shape\":[" + n + "],\"data_offsets\":[0," + n + "]}}";
    byte[] h = header.getBytes(StandardCharsets.UTF_8);
    Path p = dir.resolve("huge.safetensors");
    try (RandomAccessFile f = new RandomAccessFile(p.toFile(), "rw")) {
      f.write(ByteBuffer.allocate(8).order(ByteOrder.LITTLE_ENDIAN).putLong(h.length).array());
      f.write(h);
      f.setLength(8 + h.length + n);
      f.seek(8 + h.length + n - 3); // the last three elements
      f.write(new byte[] {7, 8, 9});
    }
    try (Checkpoint cp = Checkpoint.open(p)) {
      assertThat(cp.info("huge").numel()).isEqualTo(n);
      try (MappedTensor whole = cp.map("huge")) {
        assertThat(whole.segment().byteSize()).isEqualTo(n);
        assertThatThrownBy(whole::toFloatArray).isInstanceOf(IllegalStateException.class).hasMessageContaining("read it in chunks");
        float[] tail = new float[5];
        whole.readFloats(n - 5, tail, 0, 5);
        assertThat(tail).containsExactly(0, 0, 7, 8, 9);
      }
      try (MappedTensor chunk = cp.map("huge", n - 3, 3)) {
        assertThat(chunk.toFloatArray()).containsExactly(7, 8, 9);
      }
      ByteBuffer raw = ByteBuffer.allocate(3);
      cp.read("huge", n - 3, 3, raw);
      assertThat(raw.array()).containsExactly(7, 8, 9);
    }
  }
}
