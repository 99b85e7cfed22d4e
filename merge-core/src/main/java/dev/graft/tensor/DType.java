package dev.graft.tensor;

import java.util.Arrays;
import java.util.Locale;
import java.util.Optional;

/**
 * Element types of stored tensors, with their safetensors tag and byte width.
 *
 * <p>No logic depends on ordinals. Compute happens in {@link #F32} (or {@link #F64} for reference checks);
 * the narrow float types exist at the I/O boundary only.
 */
public enum DType {
  F64("F64", 8, true),
  F32("F32", 4, true),
  F16("F16", 2, true),
  BF16("BF16", 2, true),
  F8_E4M3("F8_E4M3", 1, true),
  F8_E5M2("F8_E5M2", 1, true),
  I64("I64", 8, false),
  I32("I32", 4, false),
  I16("I16", 2, false),
  I8("I8", 1, false),
  U64("U64", 8, false),
  U32("U32", 4, false),
  U16("U16", 2, false),
  U8("U8", 1, false),
  BOOL("BOOL", 1, false);

  private final String tag;
  private final int byteSize;
  private final boolean floating;

  DType(String tag, int byteSize, boolean floating) {
    this.tag = tag;
    this.byteSize = byteSize;
    this.floating = floating;
  }

  /** The name used in safetensors headers, e.g. {@code BF16}. */
  public String tag() {
    return tag;
  }

  /** Bytes per element. */
  public int byteSize() {
    return byteSize;
  }

  /** True for floating-point types (the ones merges compute on). */
  public boolean isFloating() {
    return floating;
  }

  /** Looks a safetensors tag up exactly (case-sensitive, as the format is). */
  public static Optional<DType> fromTag(String tag) {
    for (DType d : values()) {
      if (d.tag.equals(tag)) {
        return Optional.of(d);
      }
    }
    return Optional.empty();
  }

  /**
   * Parses a user-facing name: a safetensors tag or a PyTorch-style alias ({@code bfloat16}, {@code float16},
   * {@code half}, {@code float32}, {@code float}, {@code fp8_e4m3}, ...), case-insensitive.
   *
   * @throws IllegalArgumentException naming the accepted values
   */
  public static DType parse(String name) {
    String n = name.trim().toLowerCase(Locale.ROOT).replace("torch.", "");
    DType d =
        switch (n) {
          case "bf16", "bfloat16" -> BF16;
          case "f16", "fp16", "float16", "half" -> F16;
          case "f32", "fp32", "float32", "float" -> F32;
          case "f64", "fp64", "float64", "double" -> F64;
          case "f8_e4m3", "fp8_e4m3", "float8_e4m3fn", "e4m3" -> F8_E4M3;
          case "f8_e5m2", "fp8_e5m2", "float8_e5m2", "e5m2" -> F8_E5M2;
          default -> fromTag(name.trim().toUpperCase(Locale.ROOT)).orElse(null);
        };
    if (d == null) {
      throw new IllegalArgumentException(
          "unknown dtype '" + name + "' (expected one of: bf16, f16, f32, f64, f8_e4m3, f8_e5m2, or a safetensors tag "
              + Arrays.toString(values()) + ")");
    }
    return d;
  }
}
