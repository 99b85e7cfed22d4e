package dev.graft.tensor.spi;

import dev.graft.tensor.Shape;
import dev.graft.tensor.Tensor;
import dev.graft.tensor.TensorScope;

/** Scope bookkeeping and argument checks shared by the backends' tensors. */
public abstract class AbstractTensor implements Tensor {
  protected final Shape shape;
  private volatile TensorScope scope;
  private volatile boolean closed;

  protected AbstractTensor(TensorScope scope, Shape shape) {
    this.shape = shape;
    this.scope = scope;
    scope.attach(this);
  }

  @Override
  public final Shape shape() {
    return shape;
  }

  @Override
  public final TensorScope scope() {
    return scope;
  }

  /** Throws when closed. */
  protected final void checkOpen() {
    if (closed) {
      throw new IllegalStateException("tensor of shape " + shape + " on " + backend().name() + " used after close");
    }
  }

  /** Checks that {@code other} is an open tensor of this backend class and of the same shape. */
  @SuppressWarnings("unchecked")
  protected final <T extends AbstractTensor> T same(Tensor other, String op) {
    checkOpen();
    if (other.getClass() != getClass()) {
      throw new IllegalArgumentException(op + ": tensors are on different backends (" + backend().name() + " and " + other.backend().name() + ")");
    }
    if (!other.shape().equals(shape)) {
      throw new IllegalArgumentException(op + ": shapes differ: " + shape + " and " + other.shape());
    }
    ((AbstractTensor) other).checkOpen();
    return (T) other;
  }

  protected final void checkAxis(int axis, int[] indices) {
    checkOpen();
    if (axis < 0 || axis >= shape.rank()) {
      throw new IllegalArgumentException("take: axis " + axis + " out of range for shape " + shape);
    }
    long n = shape.dim(axis);
    for (int i : indices) {
      if (i < 0 || i >= n) {
        throw new IllegalArgumentException("take: index " + i + " out of range [0, " + n + ") on axis " + axis + " of shape " + shape);
      }
    }
  }

  protected final void checkMatmul(Tensor other) {
    checkOpen();
    if (shape.rank() != 2 || other.shape().rank() != 2 || shape.dim(1) != other.shape().dim(0)) {
      throw new IllegalArgumentException("matmul: shapes " + shape + " and " + other.shape() + " do not chain");
    }
  }

  protected final void checkK(long k) {
    if (k < 1 || k > shape.numel()) {
      throw new IllegalArgumentException("kthLargestAbs: k must be in [1, " + shape.numel() + "], found " + k);
    }
  }

  protected final void checkReshape(Shape to) {
    checkOpen();
    if (to.numel() != shape.numel()) {
      throw new IllegalArgumentException("reshape: " + shape + " has " + shape.numel() + " elements, " + to + " has " + to.numel());
    }
  }

  @Override
  public Tensor moveTo(TensorScope target) {
    checkOpen();
    TensorScope old = scope;
    if (old != target) {
      target.attach(this);
      old.detach(this);
      scope = target;
    }
    return this;
  }

  @Override
  public final void close() {
    if (!closed) {
      closed = true;
      scope.detach(this);
      release();
    }
  }

  @Override
  public final boolean isClosed() {
    return closed;
  }

  /** Frees the backend memory. */
  protected abstract void release();

  @Override
  public String toString() {
    return backend().name() + " tensor " + shape + (closed ? " (closed)" : "");
  }
}
