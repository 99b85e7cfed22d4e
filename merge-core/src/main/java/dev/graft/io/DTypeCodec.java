package dev.graft.io;

import dev.graft.tensor.DType;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteOrder;

/**
 * Conversions between stored element types and float32, in plain Java (bf16 must never reach DJL).
 *
 * <p>Narrowing conversions round to nearest, ties to even, and follow PyTorch's c10 scalar code for the special
 * values: bf16 NaN becomes the canonical {@code 0x7FC0}; f16 NaN becomes {@code sign|0x7E00}; overflow goes to
 * ±Inf in f16, bf16 and F8_E5M2; F8_E4M3 (PyTorch's {@code float8_e4m3fn}, no infinities) turns ±Inf, NaN and
 * anything that rounds above 448 in magnitude (more than 464) into NaN ({@code 0x7F|sign}); subnormals are kept in every format.
 * Integer types convert exactly where float32 can hold the value and round otherwise.
 *
 * @implNote stateless and thread-safe. Storage is little-endian, as in safetensors.
 */
public final class DTypeCodec {
  static final ValueLayout.OfShort SHORT = ValueLayout.JAVA_SHORT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);
  static final ValueLayout.OfInt INT = ValueLayout.JAVA_INT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);
  static final ValueLayout.OfFloat FLOAT = ValueLayout.JAVA_FLOAT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);
  static final ValueLayout.OfLong LONG = ValueLayout.JAVA_LONG_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);
  static final ValueLayout.OfDouble DOUBLE = ValueLayout.JAVA_DOUBLE_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);

  private static final int BLOCK = 4096;
  private static final ThreadLocal<int[]> SCRATCH_INT = ThreadLocal.withInitial(() -> new int[BLOCK]);
  private static final ThreadLocal<short[]> SCRATCH_SHORT = ThreadLocal.withInitial(() -> new short[BLOCK]);
  private static final ThreadLocal<float[]> SCRATCH_FLOAT = ThreadLocal.withInitial(() -> new float[BLOCK]);
  private static final float[] E4M3_TO_F32 = new float[256];
  private static final float[] E5M2_TO_F32 = new float[256];

  static {
    for (int b = 0; b < 256; b++) {
      E4M3_TO_F32[b] = decodeE4M3(b);
      E5M2_TO_F32[b] = Float.float16ToFloat((short) (b << 8));
    }
  }

  private DTypeCodec() {}

  // ---------------------------------------------------------------- scalar conversions

  /** bf16 bits to float32 (exact). */
  public static float bf16ToFloat(short bits) {
    return Float.intBitsToFloat(bits << 16);
  }

  /** float32 to bf16 bits, round-to-nearest-even; NaN to 0x7FC0 as c10 does. */
  public static short floatToBf16(float f) {
    return (short) bf16Bits(f);
  }

  /** bf16 bits of a float in the low 16 bits of an int (branch-free, so loops over it vectorise). */
  private static int bf16Bits(float f) {
    int b = Float.floatToRawIntBits(f);
    int rounded = (b + 0x7FFF + ((b >>> 16) & 1)) >>> 16;
    return (b & 0x7fffffff) > 0x7f800000 ? 0x7FC0 : rounded;
  }

  /** f16 bits to float32 (exact). */
  public static float f16ToFloat(short bits) {
    return Float.float16ToFloat(bits);
  }

  /** float32 to f16 bits, round-to-nearest-even, overflow to ±Inf, NaN to {@code sign|0x7E00}. */
  public static short floatToF16(float f) {
    if (Float.isNaN(f)) {
      return (short) (((Float.floatToRawIntBits(f) >>> 16) & 0x8000) | 0x7E00);
    }
    return Float.floatToFloat16(f);
  }

  /** F8_E4M3 (float8_e4m3fn) bits to float32 (exact). */
  public static float e4m3ToFloat(byte bits) {
    return E4M3_TO_F32[bits & 0xFF];
  }

  /** F8_E5M2 bits to float32 (exact). */
  public static float e5m2ToFloat(byte bits) {
    return E5M2_TO_F32[bits & 0xFF];
  }

  private static float decodeE4M3(int b) {
    int sign = (b & 0x80) != 0 ? -1 : 1;
    int e = (b >>> 3) & 0xF;
    int m = b & 7;
    if (e == 15 && m == 7) {
      return Float.NaN;
    }
    float mag = e == 0 ? m * 0x1p-9f : (1f + m / 8f) * (float) Math.scalb(1.0, e - 7);
    return sign * mag;
  }

  /** float32 to F8_E4M3 (float8_e4m3fn), as c10's {@code fp8e4m3fn_from_fp32_value}. */
  public static byte floatToE4M3(float f) {
    final int fp8Max = 1087 << 20; // 480.0f: at or above it the result is NaN (no infinities in e4m3fn)
    final int denormMask = 141 << 23;
    int fBits = Float.floatToRawIntBits(f);
    int sign = fBits & 0x80000000;
    fBits ^= sign;
    int result;
    if (fBits >= fp8Max) {
      result = 0x7F;
    } else if (fBits < (121 << 23)) {
      int sum = Float.floatToRawIntBits(Float.intBitsToFloat(fBits) + Float.intBitsToFloat(denormMask));
      result = (sum - denormMask) & 0xFF;
    } else {
      int mantOdd = (fBits >>> 20) & 1;
      fBits += ((7 - 127) << 23) + 0x7FFFF;
      fBits += mantOdd;
      result = (fBits >>> 20) & 0xFF;
    }
    return (byte) (result | (sign >>> 24));
  }

  /** float32 to F8_E5M2, as c10's {@code fp8e5m2_from_fp32_value}: overflow to ±Inf, NaN to 0x7F|sign. */
  public static byte floatToE5M2(float f) {
    final int fp32Inf = 255 << 23;
    final int fp8Max = 143 << 23;
    final int denormMask = 134 << 23;
    int fBits = Float.floatToRawIntBits(f);
    int sign = fBits & 0x80000000;
    fBits ^= sign;
    int result;
    if (fBits >= fp8Max) {
      result = fBits > fp32Inf ? 0x7F : 0x7C;
    } else if (fBits < (113 << 23)) {
      int sum = Float.floatToRawIntBits(Float.intBitsToFloat(fBits) + Float.intBitsToFloat(denormMask));
      result = (sum - denormMask) & 0xFF;
    } else {
      int mantOdd = (fBits >>> 21) & 1;
      fBits += ((15 - 127) << 23) + 0xFFFFF;
      fBits += mantOdd;
      result = (fBits >>> 21) & 0xFF;
    }
    return (byte) (result | (sign >>> 24));
  }

  // ---------------------------------------------------------------- bulk conversions

  /**
   * Decodes {@code n} elements of {@code dtype} starting at byte {@code offset} of {@code src} into float32.
   *
   * @throws IndexOutOfBoundsException when the range is outside the segment or the array
   */
  public static void decode(MemorySegment src, long offset, DType dtype, float[] dst, int dstOff, int n) {
    java.util.Objects.checkFromIndexSize(dstOff, n, dst.length);
    java.util.Objects.checkFromIndexSize(offset, (long) n * dtype.byteSize(), src.byteSize());
    switch (dtype) {
      case F32 -> MemorySegment.copy(src, FLOAT, offset, dst, dstOff, n);
      case BF16 -> {
        // two bf16 per 32-bit load, through an int[] block: a bulk copy, then int-only work C2 vectorises
        int[] tmp = SCRATCH_INT.get();
        int pairs = n >>> 1;
        for (int done = 0; done < pairs; done += BLOCK) {
          int m = Math.min(BLOCK, pairs - done);
          MemorySegment.copy(src, INT, offset + 4L * done, tmp, 0, m);
          int base = dstOff + 2 * done;
          for (int i = 0; i < m; i++) {
            int v = tmp[i];
            dst[base + 2 * i] = Float.intBitsToFloat(v << 16);
            dst[base + 2 * i + 1] = Float.intBitsToFloat(v & 0xFFFF0000);
          }
        }
        if ((n & 1) != 0) {
          dst[dstOff + n - 1] = Float.intBitsToFloat(src.get(SHORT, offset + 2L * (n - 1)) << 16);
        }
      }
      case F16 -> {
        for (int i = 0; i < n; i++) {
          dst[dstOff + i] = Float.float16ToFloat(src.get(SHORT, offset + 2L * i));
        }
      }
      case F64 -> {
        for (int i = 0; i < n; i++) {
          dst[dstOff + i] = (float) src.get(DOUBLE, offset + 8L * i);
        }
      }
      case F8_E4M3 -> {
        for (int i = 0; i < n; i++) {
          dst[dstOff + i] = E4M3_TO_F32[src.get(ValueLayout.JAVA_BYTE, offset + i) & 0xFF];
        }
      }
      case F8_E5M2 -> {
        for (int i = 0; i < n; i++) {
          dst[dstOff + i] = E5M2_TO_F32[src.get(ValueLayout.JAVA_BYTE, offset + i) & 0xFF];
        }
      }
      case I64 -> {
        for (int i = 0; i < n; i++) {
          dst[dstOff + i] = src.get(LONG, offset + 8L * i);
        }
      }
      case U64 -> {
        for (int i = 0; i < n; i++) {
          long v = src.get(LONG, offset + 8L * i);
          dst[dstOff + i] = v >= 0 ? v : (float) (v >>> 1) * 2f + (v & 1);
        }
      }
      case I32 -> {
        for (int i = 0; i < n; i++) {
          dst[dstOff + i] = src.get(INT, offset + 4L * i);
        }
      }
      case U32 -> {
        for (int i = 0; i < n; i++) {
          dst[dstOff + i] = Integer.toUnsignedLong(src.get(INT, offset + 4L * i));
        }
      }
      case I16 -> {
        for (int i = 0; i < n; i++) {
          dst[dstOff + i] = src.get(SHORT, offset + 2L * i);
        }
      }
      case U16 -> {
        for (int i = 0; i < n; i++) {
          dst[dstOff + i] = src.get(SHORT, offset + 2L * i) & 0xFFFF;
        }
      }
      case I8 -> {
        for (int i = 0; i < n; i++) {
          dst[dstOff + i] = src.get(ValueLayout.JAVA_BYTE, offset + i);
        }
      }
      case U8, BOOL -> {
        for (int i = 0; i < n; i++) {
          dst[dstOff + i] = src.get(ValueLayout.JAVA_BYTE, offset + i) & 0xFF;
        }
      }
    }
  }

  /**
   * Encodes {@code n} float32 values into {@code dtype} at byte {@code offset} of {@code dst}.
   *
   * <p>Floating types round as described in the class comment. Integer types round half to even and saturate at
   * their range (NaN becomes 0); {@code BOOL} stores 1 for any non-zero value.
   */
  public static void encode(float[] src, int srcOff, int n, DType dtype, MemorySegment dst, long offset) {
    java.util.Objects.checkFromIndexSize(srcOff, n, src.length);
    java.util.Objects.checkFromIndexSize(offset, (long) n * dtype.byteSize(), dst.byteSize());
    switch (dtype) {
      case F32 -> MemorySegment.copy(src, srcOff, dst, FLOAT, offset, n);
      case BF16 -> {
        // two bf16 per 32-bit store, through an int[] block
        int[] tmp = SCRATCH_INT.get();
        int pairs = n >>> 1;
        for (int done = 0; done < pairs; done += BLOCK) {
          int m = Math.min(BLOCK, pairs - done);
          int base = srcOff + 2 * done;
          for (int i = 0; i < m; i++) {
            tmp[i] = (bf16Bits(src[base + 2 * i]) & 0xFFFF) | (bf16Bits(src[base + 2 * i + 1]) << 16);
          }
          MemorySegment.copy(tmp, 0, dst, INT, offset + 4L * done, m);
        }
        if ((n & 1) != 0) {
          dst.set(SHORT, offset + 2L * (n - 1), floatToBf16(src[srcOff + n - 1]));
        }
      }
      case F16 -> {
        // blocked through a short[] so the intrinsic conversion vectorises; NaNs are canonicalised afterwards
        short[] tmp = SCRATCH_SHORT.get();
        for (int done = 0; done < n; done += BLOCK) {
          int m = Math.min(BLOCK, n - done);
          int base = srcOff + done;
          for (int i = 0; i < m; i++) {
            tmp[i] = Float.floatToFloat16(src[base + i]);
          }
          for (int i = 0; i < m; i++) {
            if (src[base + i] != src[base + i]) {
              tmp[i] = floatToF16(src[base + i]);
            }
          }
          MemorySegment.copy(tmp, 0, dst, SHORT, offset + 2L * done, m);
        }
      }
      case F64 -> {
        for (int i = 0; i < n; i++) {
          dst.set(DOUBLE, offset + 8L * i, src[srcOff + i]);
        }
      }
      case F8_E4M3 -> {
        for (int i = 0; i < n; i++) {
          dst.set(ValueLayout.JAVA_BYTE, offset + i, floatToE4M3(src[srcOff + i]));
        }
      }
      case F8_E5M2 -> {
        for (int i = 0; i < n; i++) {
          dst.set(ValueLayout.JAVA_BYTE, offset + i, floatToE5M2(src[srcOff + i]));
        }
      }
      case I64 -> {
        for (int i = 0; i < n; i++) {
          dst.set(LONG, offset + 8L * i, (long) Math.rint(src[srcOff + i]));
        }
      }
      case U64 -> {
        for (int i = 0; i < n; i++) {
          double v = Math.rint(src[srcOff + i]);
          long bits = v <= 0 ? 0 : v >= 0x1p64 ? -1L : v < 0x1p63 ? (long) v : ((long) (v / 2)) << 1;
          dst.set(LONG, offset + 8L * i, bits);
        }
      }
      case I32 -> {
        for (int i = 0; i < n; i++) {
          dst.set(INT, offset + 4L * i, (int) Math.rint(src[srcOff + i]));
        }
      }
      case U32 -> {
        for (int i = 0; i < n; i++) {
          dst.set(INT, offset + 4L * i, (int) saturate(src[srcOff + i], 0, 0xFFFFFFFFL));
        }
      }
      case I16 -> {
        for (int i = 0; i < n; i++) {
          dst.set(SHORT, offset + 2L * i, (short) saturate(src[srcOff + i], Short.MIN_VALUE, Short.MAX_VALUE));
        }
      }
      case U16 -> {
        for (int i = 0; i < n; i++) {
          dst.set(SHORT, offset + 2L * i, (short) saturate(src[srcOff + i], 0, 0xFFFF));
        }
      }
      case I8 -> {
        for (int i = 0; i < n; i++) {
          dst.set(ValueLayout.JAVA_BYTE, offset + i, (byte) saturate(src[srcOff + i], Byte.MIN_VALUE, Byte.MAX_VALUE));
        }
      }
      case U8 -> {
        for (int i = 0; i < n; i++) {
          dst.set(ValueLayout.JAVA_BYTE, offset + i, (byte) saturate(src[srcOff + i], 0, 0xFF));
        }
      }
      case BOOL -> {
        for (int i = 0; i < n; i++) {
          dst.set(ValueLayout.JAVA_BYTE, offset + i, (byte) (src[srcOff + i] != 0f ? 1 : 0));
        }
      }
    }
  }

  /**
   * Converts {@code n} stored elements of type {@code from} at {@code srcOff} into type {@code to} at {@code dstOff},
   * through float32 in cache-sized blocks (no large intermediate array). Identical types are copied.
   */
  public static void convert(MemorySegment src, long srcOff, DType from, MemorySegment dst, long dstOff, DType to, long n) {
    if (from == to) {
      MemorySegment.copy(src, srcOff, dst, dstOff, n * from.byteSize());
      return;
    }
    float[] tmp = SCRATCH_FLOAT.get();
    for (long done = 0; done < n; done += BLOCK) {
      int m = (int) Math.min(BLOCK, n - done);
      decode(src, srcOff + done * from.byteSize(), from, tmp, 0, m);
      encode(tmp, 0, m, to, dst, dstOff + done * to.byteSize());
    }
  }

  private static long saturate(float v, long lo, long hi) {
    if (Float.isNaN(v)) {
      return 0;
    }
    double r = Math.rint(v);
    return r <= lo ? lo : r >= hi ? hi : (long) r;
  }

  /** Rounds every value to the nearest one representable in {@code dtype} (a quantise/dequantise round trip). */
  public static float roundTo(float v, DType dtype) {
    return switch (dtype) {
      case F32 -> v;
      case F64 -> v;
      case BF16 -> bf16ToFloat(floatToBf16(v));
      case F16 -> f16ToFloat(floatToF16(v));
      case F8_E4M3 -> e4m3ToFloat(floatToE4M3(v));
      case F8_E5M2 -> e5m2ToFloat(floatToE5M2(v));
      default -> throw new IllegalArgumentException("roundTo supports floating types only, not " + dtype);
    };
  }
}
