package dev.graft.evolve;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;

/**
 * Per-example scores in compact form, for the run's record and the cache of results: one bit per example when every
 * score is 0 or 1 (accuracy, exact match), else float32 values.
 */
final class PackedScores {
  private PackedScores() {}

  static byte[] pack(float[] s) {
    boolean binary = true;
    for (float v : s) {
      if (v != 0f && v != 1f) {
        binary = false;
        break;
      }
    }
    ByteBuffer b;
    if (binary) {
      b = ByteBuffer.allocate(5 + (s.length + 7) / 8).order(ByteOrder.LITTLE_ENDIAN);
      b.put((byte) 'b').putInt(s.length);
      for (int i = 0; i < s.length; i += 8) {
        int x = 0;
        for (int k = 0; k < 8 && i + k < s.length; k++) {
          if (s[i + k] == 1f) {
            x |= 1 << k;
          }
        }
        b.put((byte) x);
      }
    } else {
      b = ByteBuffer.allocate(5 + 4 * s.length).order(ByteOrder.LITTLE_ENDIAN);
      b.put((byte) 'f').putInt(s.length);
      for (float v : s) {
        b.putFloat(v);
      }
    }
    return b.array();
  }

  static float[] unpack(byte[] p) {
    ByteBuffer b = ByteBuffer.wrap(p).order(ByteOrder.LITTLE_ENDIAN);
    byte kind = b.get();
    int n = b.getInt();
    if (n < 0 || n > (p.length - 5) * (kind == 'b' ? 8L : 1L)) {
      throw new IllegalArgumentException("damaged per-example scores");
    }
    float[] s = new float[n];
    if (kind == 'b') {
      for (int i = 0; i < n; i++) {
        s[i] = (p[5 + (i >>> 3)] >>> (i & 7) & 1) != 0 ? 1f : 0f;
      }
    } else if (kind == 'f') {
      for (int i = 0; i < n; i++) {
        s[i] = b.getFloat();
      }
    } else {
      throw new IllegalArgumentException("damaged per-example scores");
    }
    return s;
  }
}
