package dev.graft.io;

import com.code_intelligence.jazzer.junit.FuzzTest;
import dev.graft.InvalidInputException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;

/**
 * Fuzzes the header parser with arbitrary file contents: it must either accept the bytes (and then every tensor
 * lies inside the data area with the right size) or throw {@link SafetensorsFormatException}, never anything
 * else, and never allocate by an untrusted size.
 *
 * <p>In the normal test run Jazzer replays the seed corpus in {@code src/test/resources} plus a short budget
 * ({@code maxDuration}, coverage-guided since Jazzer 0.30 instruments JDK 25 classes); {@link SafetensorsLongFuzzTest}
 * runs the same check for 15 minutes on demand.
 */
class SafetensorsFuzzTest {
  @FuzzTest(maxDuration = "20s")
  void headerParserNeverCrashes(byte[] file) {
    check(file);
  }

  static void check(byte[] file) {
    ByteBuffer prefix = ByteBuffer.wrap(file, 0, Math.min(8, file.length)).slice().order(ByteOrder.LITTLE_ENDIAN);
    try {
      long n;
      if (file.length < 8) {
        SafetensorsHeader.checkLength("fuzz", prefix, file.length);
        throw new AssertionError("a file shorter than 8 bytes was accepted");
      }
      n = SafetensorsHeader.checkLength("fuzz", ByteBuffer.wrap(file, 0, 8).slice(), file.length);
      byte[] json = java.util.Arrays.copyOfRange(file, 8, (int) (8 + n));
      long data = file.length - 8 - n;
      SafetensorsHeader h = SafetensorsHeader.parse("fuzz", json, data);
      for (TensorInfo ti : h.tensors().values()) {
        if (ti.begin() < 0 || ti.end() > data || ti.byteSize() != ti.numel() * ti.dtype().byteSize()) {
          throw new AssertionError("accepted an inconsistent tensor " + ti);
        }
      }
    } catch (InvalidInputException expected) {
      // the one allowed way to refuse
    }
  }
}
