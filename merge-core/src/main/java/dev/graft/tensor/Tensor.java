package dev.graft.tensor;

import dev.graft.tensor.spi.Backend;

/**
 * A float32 tensor on one backend and device, owned by one {@link TensorScope}.
 *
 * <p>The surface is deliberately small: what merge operators need. Every operation returns a new tensor owned by
 * the receiver's scope; nothing changes in place. Binary operations require the same backend and the same shape
 * (no broadcasting) and throw {@link IllegalArgumentException} naming both shapes otherwise. Masks are float
 * tensors of 0 and 1. Reductions return doubles accumulated in double precision.
 *
 * <p>Using a tensor after it (or its scope) was closed throws {@link IllegalStateException}.
 */
public interface Tensor extends AutoCloseable {
  Shape shape();

  /** Always {@link DType#F32}: the compute type. Narrow storage types live at the I/O boundary. */
  default DType dtype() {
    return DType.F32;
  }

  Device device();

  Backend backend();

  TensorScope scope();

  // ------------------------------------------------------------ elementwise arithmetic

  Tensor add(Tensor other);

  Tensor sub(Tensor other);

  Tensor mul(Tensor other);

  /** Elementwise division; x/0 follows IEEE (±Inf or NaN). */
  Tensor div(Tensor other);

  Tensor add(double scalar);

  Tensor mul(double scalar);

  Tensor abs();

  /** -1, 0 or 1 (NaN stays NaN). */
  Tensor sign();

  Tensor neg();

  Tensor sqrt();

  Tensor square();

  /** Elementwise {@code max(x, lo)}. */
  Tensor clampMin(double lo);

  /** Elementwise maximum of two tensors. */
  Tensor maximum(Tensor other);

  // ------------------------------------------------------------ comparisons and masks

  /** Mask of {@code x > s}. */
  Tensor gt(double s);

  /** Mask of {@code x >= s}. */
  Tensor ge(double s);

  /** Mask of {@code x < s}. */
  Tensor lt(double s);

  /** Mask of {@code x > other}. */
  Tensor gt(Tensor other);

  /** Mask of {@code x == other}. */
  Tensor eq(Tensor other);

  /** With this tensor as a mask: {@code mask != 0 ? a : b}, elementwise (NaN and Inf in the other branch are harmless). */
  Tensor where(Tensor a, Tensor b);

  // ------------------------------------------------------------ reductions (double precision)

  double sum();

  default double mean() {
    long n = shape().numel();
    return n == 0 ? Double.NaN : sum() / n;
  }

  /** L2 norm. */
  double norm();

  /** Sum of absolute values (L1 norm). */
  double sumAbs();

  double dot(Tensor other);

  /** Number of non-zero elements. */
  long countNonZero();

  /**
   * The k-th largest absolute value (k = 1 is the maximum), the threshold of a top-k-by-magnitude mask:
   * {@code abs().ge(kthLargestAbs(k))} keeps at least k elements (more on ties).
   *
   * @throws IllegalArgumentException unless 1 <= k <= numel
   */
  double kthLargestAbs(long k);

  // ------------------------------------------------------------ layout

  /** Gathers along {@code axis}: {@code out[..., i, ...] = this[..., indices[i], ...]}; a permutation when indices is one. */
  Tensor take(int axis, int[] indices);

  /** Matrix product of two 2-D tensors. */
  Tensor matmul(Tensor other);

  /** Transpose of a 2-D tensor. */
  Tensor transpose();

  Tensor reshape(Shape shape);

  /**
   * Rounds every value to the precision of a floating storage type ({@code BF16}, {@code F16}, {@code F8_*}),
   * keeping float32 compute: the values a save in that dtype would write. bf16 is rounded in Java.
   */
  Tensor cast(DType dtype);

  /** A copy on another device of the same backend. */
  Tensor to(Device device);

  /** A copy of the values on the heap (at most 2^31 - 9 elements). */
  float[] toFloatArray();

  /**
   * The values themselves when this tensor keeps them in one heap float array (the reference backend), so that fused
   * kernels can read them without a copy; null for every other backend. Callers must not modify the array.
   */
  default float[] heapArray() {
    return null;
  }

  /** Moves ownership to another scope (of the same backend); returns this. */
  Tensor moveTo(TensorScope scope);

  /** Frees the native memory now. Idempotent. */
  @Override
  void close();

  boolean isClosed();
}
