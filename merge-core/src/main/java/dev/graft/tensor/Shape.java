package dev.graft.tensor;

import java.util.Arrays;

/**
 * An immutable tensor shape. A 0-d shape ({@code []}) holds one element.
 *
 * @implNote immutable and thread-safe.
 */
public final class Shape {
  private static final Shape SCALAR = new Shape(new long[0]);
  private final long[] dims;
  private final long numel;

  private Shape(long[] dims) {
    long n = 1;
    for (long d : dims) {
      if (d < 0) {
        throw new IllegalArgumentException("shape dimensions must be >= 0, found " + Arrays.toString(dims));
      }
      n = Math.multiplyExact(n, d);
    }
    this.dims = dims;
    this.numel = n;
  }

  /**
   * A shape of the given dimensions.
   *
   * @throws IllegalArgumentException for a negative dimension
   * @throws ArithmeticException when the element count overflows a long
   */
  public static Shape of(long... dims) {
    return dims.length == 0 ? SCALAR : new Shape(dims.clone());
  }

  public static Shape of(int... dims) {
    return of(Arrays.stream(dims).asLongStream().toArray());
  }

  public int rank() {
    return dims.length;
  }

  public long dim(int axis) {
    return dims[axis < 0 ? dims.length + axis : axis];
  }

  public long[] dims() {
    return dims.clone();
  }

  /** Element count (1 for a 0-d shape). */
  public long numel() {
    return numel;
  }

  /** Element count as an int, for backends that index with ints. */
  public int numelInt() {
    if (numel > Integer.MAX_VALUE - 8) {
      throw new IllegalStateException("tensor of shape " + this + " has " + numel + " elements, more than one array can hold; process it in chunks");
    }
    return (int) numel;
  }

  /** Product of the dimensions after {@code axis} (the stride of that axis in a row-major layout). */
  public long stride(int axis) {
    long s = 1;
    for (int i = axis + 1; i < dims.length; i++) {
      s *= dims[i];
    }
    return s;
  }

  @Override
  public boolean equals(Object o) {
    return o instanceof Shape s && Arrays.equals(dims, s.dims);
  }

  @Override
  public int hashCode() {
    return Arrays.hashCode(dims);
  }

  @Override
  public String toString() {
    return Arrays.toString(dims);
  }
}
