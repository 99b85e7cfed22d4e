package dev.graft.io;

import static org.assertj.core.api.Assertions.assertThat;

import dev.graft.tensor.DType;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;

class DTypeCodecTest {

  @Test
  void bf16DecodeEncodeIsIdentityOnEveryNonNanPattern() {
    for (int b = 0; b < 65536; b++) {
      float f = DTypeCodec.bf16ToFloat((short) b);
      if (Float.isNaN(f)) {
        assertThat(DTypeCodec.floatToBf16(f)).isEqualTo((short) 0x7FC0);
      } else {
        assertThat(DTypeCodec.floatToBf16(f) & 0xFFFF).as("pattern %x", b).isEqualTo(b);
      }
    }
  }

  @Test
  void f16DecodeEncodeIsIdentityOnEveryNonNanPattern() {
    for (int b = 0; b < 65536; b++) {
      float f = DTypeCodec.f16ToFloat((short) b);
      if (Float.isNaN(f)) {
        assertThat(DTypeCodec.floatToF16(f) & 0x7FFF).isEqualTo(0x7E00);
        assertThat(DTypeCodec.floatToF16(f) & 0x8000).isEqualTo(b & 0x8000);
      } else {
        assertThat(DTypeCodec.floatToF16(f) & 0xFFFF).as("pattern %x", b).isEqualTo(b);
      }
    }
  }

  @Test
  void f8DecodeEncodeIsIdentityOnEveryNonNanPattern() {
    for (int b = 0; b < 256; b++) {
      float e4 = DTypeCodec.e4m3ToFloat((byte) b);
      float e5 = DTypeCodec.e5m2ToFloat((byte) b);
      if (Float.isNaN(e4)) {
        assertThat(DTypeCodec.floatToE4M3(e4) & 0x7F).isEqualTo(0x7F);
      } else {
        assertThat(DTypeCodec.floatToE4M3(e4) & 0xFF).as("e4m3 %x", b).isEqualTo(b);
      }
      if (!Float.isNaN(e5)) {
        assertThat(DTypeCodec.floatToE5M2(e5) & 0xFF).as("e5m2 %x", b).isEqualTo(b);
      }
    }
  }

  @Test
  void knownValuesMatchPyTorch() {
    // bf16: 1 + 2^-8 is a tie between 1 and 1 + 2^-7: even mantissa (1.0) wins; 1 + 3*2^-8 rounds up.
    assertThat(DTypeCodec.floatToBf16(1f + 0x1p-8f)).isEqualTo((short) 0x3F80);
    assertThat(DTypeCodec.floatToBf16(1f + 3 * 0x1p-8f)).isEqualTo((short) 0x3F82);
    assertThat(DTypeCodec.floatToBf16(Float.MAX_VALUE)).isEqualTo((short) 0x7F80); // overflow to +Inf
    assertThat(DTypeCodec.floatToBf16(Float.NEGATIVE_INFINITY)).isEqualTo((short) 0xFF80);
    assertThat(DTypeCodec.floatToBf16(-Float.NaN)).isEqualTo((short) 0x7FC0);
    assertThat(DTypeCodec.floatToBf16(Float.MIN_VALUE)).isEqualTo((short) 0x0000); // f32 subnormal tie rounds to 0
    assertThat(DTypeCodec.floatToBf16(0x1p-133f)).isEqualTo((short) 0x0001); // smallest bf16 subnormal
    // f16
    assertThat(DTypeCodec.floatToF16(65504f)).isEqualTo((short) 0x7BFF);
    assertThat(DTypeCodec.floatToF16(65520f)).isEqualTo((short) 0x7C00); // tie at the top rounds to Inf
    assertThat(DTypeCodec.floatToF16(0x1p-24f)).isEqualTo((short) 0x0001);
    assertThat(DTypeCodec.floatToF16(0x1p-25f)).isEqualTo((short) 0x0000); // tie to even (0)
    assertThat(DTypeCodec.floatToF16(-0f)).isEqualTo((short) 0x8000);
    // e4m3fn: max 448, 464 is a tie that rounds to 448, >= 480 is NaN, Inf is NaN
    assertThat(DTypeCodec.floatToE4M3(448f)).isEqualTo((byte) 0x7E);
    assertThat(DTypeCodec.floatToE4M3(464f)).isEqualTo((byte) 0x7E);
    assertThat(DTypeCodec.floatToE4M3(464.1f)).isEqualTo((byte) 0x7F); // rounds to 480: NaN, as c10
    assertThat(DTypeCodec.floatToE4M3(-470f)).isEqualTo((byte) 0xFF);
    assertThat(DTypeCodec.floatToE4M3(480f)).isEqualTo((byte) 0x7F);
    assertThat(DTypeCodec.floatToE4M3(Float.NEGATIVE_INFINITY)).isEqualTo((byte) 0xFF);
    assertThat(DTypeCodec.floatToE4M3(0x1p-9f)).isEqualTo((byte) 0x01); // smallest subnormal
    assertThat(DTypeCodec.floatToE4M3(0x1p-10f)).isEqualTo((byte) 0x00); // tie to even
    assertThat(DTypeCodec.e4m3ToFloat((byte) 0x7E)).isEqualTo(448f);
    // e5m2: max 57344; 61440 ties up to Inf; Inf stays Inf; NaN to 0x7F
    assertThat(DTypeCodec.floatToE5M2(57344f)).isEqualTo((byte) 0x7B);
    assertThat(DTypeCodec.floatToE5M2(61439f)).isEqualTo((byte) 0x7B);
    assertThat(DTypeCodec.floatToE5M2(61440f)).isEqualTo((byte) 0x7C);
    assertThat(DTypeCodec.floatToE5M2(Float.POSITIVE_INFINITY)).isEqualTo((byte) 0x7C);
    assertThat(DTypeCodec.floatToE5M2(Float.NaN)).isEqualTo((byte) 0x7F);
    assertThat(DTypeCodec.floatToE5M2(0x1p-16f)).isEqualTo((byte) 0x01);
  }

  /** For random inputs, the encoded value is the nearest representable one, ties to the even code. */
  @Test
  void narrowingRoundsToNearestEven() {
    SplittableRandom rnd = new SplittableRandom(7);
    for (DType d : new DType[] {DType.BF16, DType.F16, DType.F8_E4M3, DType.F8_E5M2}) {
      float limit = switch (d) {
        case F16 -> 65504f;
        case F8_E4M3 -> 448f;
        case F8_E5M2 -> 57344f;
        default -> 3.3895314e38f; // largest finite bf16
      };
      for (int i = 0; i < 200_000; i++) {
        float x = Float.intBitsToFloat(rnd.nextInt());
        if (Float.isNaN(x) || Math.abs(x) > limit) {
          continue;
        }
        int code = code(x, d);
        float y = value(code, d);
        float up = value(code + 1, d);
        float down = value(code - 1, d);
        double err = Math.abs((double) y - x);
        for (float nb : new float[] {up, down}) {
          if (!Float.isNaN(nb) && !Float.isInfinite(nb) && Math.signum(nb) == Math.signum(y)) {
            double e2 = Math.abs((double) nb - x);
            assertThat(err).as("%s: %s encoded as %s, neighbour %s is closer", d, x, y, nb).isLessThanOrEqualTo(e2);
            if (err == e2 && y != 0) {
              assertThat(code & 1).as("%s tie for %s must go to even", d, x).isZero();
            }
          }
        }
      }
    }
  }

  private static int code(float x, DType d) {
    return switch (d) {
      case BF16 -> DTypeCodec.floatToBf16(x) & 0xFFFF;
      case F16 -> DTypeCodec.floatToF16(x) & 0xFFFF;
      case F8_E4M3 -> DTypeCodec.floatToE4M3(x) & 0xFF;
      case F8_E5M2 -> DTypeCodec.floatToE5M2(x) & 0xFF;
      default -> throw new IllegalArgumentException();
    };
  }

  private static float value(int code, DType d) {
    return switch (d) {
      case BF16 -> DTypeCodec.bf16ToFloat((short) code);
      case F16 -> DTypeCodec.f16ToFloat((short) code);
      case F8_E4M3 -> DTypeCodec.e4m3ToFloat((byte) code);
      case F8_E5M2 -> DTypeCodec.e5m2ToFloat((byte) code);
      default -> throw new IllegalArgumentException();
    };
  }

  @Test
  void bulkMatchesScalarForEveryDtype() {
    SplittableRandom rnd = new SplittableRandom(3);
    float[] src = new float[1001];
    for (int i = 0; i < src.length; i++) {
      src[i] = (float) (rnd.nextGaussian() * 50);
    }
    src[0] = Float.NaN;
    src[1] = Float.POSITIVE_INFINITY;
    src[2] = -0f;
    try (Arena a = Arena.ofConfined()) {
      for (DType d : DType.values()) {
        MemorySegment seg = a.allocate((long) src.length * d.byteSize() + 3);
        DTypeCodec.encode(src, 0, src.length, d, seg, 3); // unaligned on purpose
        float[] back = new float[src.length];
        DTypeCodec.decode(seg, 3, d, back, 0, back.length);
        for (int i = 3; i < src.length; i++) {
          float expected = d.isFloating() ? DTypeCodec.roundTo(src[i], d) : expectedInt(src[i], d);
          assertThat(back[i]).as("%s element %d (%s)", d, i, src[i]).isEqualTo(expected);
        }
      }
    }
  }

  private static float expectedInt(float v, DType d) {
    double r = Math.rint(v);
    return switch (d) {
      case BOOL -> v != 0 ? 1 : 0;
      case U8 -> (float) Math.max(0, Math.min(255, r));
      case I8 -> (float) Math.max(-128, Math.min(127, r));
      case U16, U32, U64 -> (float) Math.max(0, r);
      default -> (float) r;
    };
  }
}
