package dev.graft.backend.nd4j;

import dev.graft.io.DTypeCodec;
import dev.graft.tensor.DType;
import dev.graft.tensor.Device;
import dev.graft.tensor.Shape;
import dev.graft.tensor.Tensor;
import dev.graft.tensor.TensorScope;
import dev.graft.tensor.spi.AbstractTensor;
import dev.graft.tensor.spi.Backend;
import java.util.function.Function;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;
import org.nd4j.linalg.indexing.INDArrayIndex;
import org.nd4j.linalg.indexing.NDArrayIndex;
import org.nd4j.linalg.ops.transforms.Transforms;

/** A float32 INDArray. */
final class Nd4jTensor extends AbstractTensor {
  private final INDArray array;

  Nd4jTensor(TensorScope scope, Shape shape, INDArray array) {
    super(scope, shape);
    this.array = array;
  }

  private Nd4jTensor wrapShaped(INDArray a, Shape s) {
    return new Nd4jTensor(scope(), s, a.isView() ? a.dup() : a);
  }

  private Nd4jTensor op(Function<INDArray, INDArray> f) {
    checkOpen();
    return wrapShaped(f.apply(array), shape);
  }

  private INDArray other(Tensor o, String name) {
    return this.<Nd4jTensor>same(o, name).array;
  }

  private static void closeQuietly(INDArray a) {
    if (a != null && a.closeable()) {
      a.close();
    }
  }

  private static INDArray mask(INDArray bool) {
    INDArray f = bool.castTo(DataType.FLOAT);
    closeQuietly(bool);
    return f;
  }

  private double reduce64(Function<INDArray, Number> f) {
    checkOpen();
    INDArray d = array.castTo(DataType.DOUBLE);
    try {
      return f.apply(d).doubleValue();
    } finally {
      closeQuietly(d);
    }
  }

  @Override
  public Device device() {
    return Device.CPU;
  }

  @Override
  public Backend backend() {
    return Nd4jBackend.INSTANCE;
  }

  @Override
  public Tensor add(Tensor o) {
    return wrapShaped(array.add(other(o, "add")), shape);
  }

  @Override
  public Tensor sub(Tensor o) {
    return wrapShaped(array.sub(other(o, "sub")), shape);
  }

  @Override
  public Tensor mul(Tensor o) {
    return wrapShaped(array.mul(other(o, "mul")), shape);
  }

  @Override
  public Tensor div(Tensor o) {
    return wrapShaped(array.div(other(o, "div")), shape);
  }

  @Override
  public Tensor add(double s) {
    return op(a -> a.add((float) s));
  }

  @Override
  public Tensor mul(double s) {
    return op(a -> a.mul((float) s));
  }

  @Override
  public Tensor abs() {
    return op(a -> Transforms.abs(a, true));
  }

  @Override
  public Tensor sign() {
    return op(a -> Transforms.sign(a, true));
  }

  @Override
  public Tensor neg() {
    return op(INDArray::neg);
  }

  @Override
  public Tensor sqrt() {
    return op(a -> Transforms.sqrt(a, true));
  }

  @Override
  public Tensor square() {
    return op(a -> a.mul(a));
  }

  @Override
  public Tensor clampMin(double lo) {
    return op(a -> Transforms.max(a, (float) lo, true));
  }

  @Override
  public Tensor maximum(Tensor o) {
    return wrapShaped(Transforms.max(array, other(o, "maximum"), true), shape);
  }

  @Override
  public Tensor gt(double s) {
    return op(a -> mask(a.gt((float) s)));
  }

  @Override
  public Tensor ge(double s) {
    return op(a -> mask(a.gte((float) s)));
  }

  @Override
  public Tensor lt(double s) {
    return op(a -> mask(a.lt((float) s)));
  }

  @Override
  public Tensor gt(Tensor o) {
    return wrapShaped(mask(array.gt(other(o, "gt"))), shape);
  }

  @Override
  public Tensor eq(Tensor o) {
    return wrapShaped(mask(array.eq(other(o, "eq"))), shape);
  }

  @Override
  public Tensor where(Tensor a, Tensor b) {
    // Host-side select: ND4J's putWhereWithMask and Nd4j.where(cond, x, y) both returned wrong elements in the
    // conformance suite (1.0.0-M2.1), so this one operation round-trips through the heap.
    float[] m = toFloatArray();
    float[] x = this.<Nd4jTensor>same(a, "where").toFloatArray();
    float[] y = this.<Nd4jTensor>same(b, "where").toFloatArray();
    for (int i = 0; i < m.length; i++) {
      y[i] = m[i] != 0f ? x[i] : y[i];
    }
    return Nd4jBackend.INSTANCE.fromFloats(scope(), y, shape);
  }

  @Override
  public double sum() {
    return reduce64(INDArray::sumNumber);
  }

  @Override
  public double norm() {
    return reduce64(INDArray::norm2Number);
  }

  @Override
  public double sumAbs() {
    return reduce64(INDArray::norm1Number);
  }

  @Override
  public double dot(Tensor o) {
    INDArray b = other(o, "dot");
    INDArray x = array.castTo(DataType.DOUBLE);
    INDArray y = b.castTo(DataType.DOUBLE);
    INDArray p = x.muli(y);
    try {
      return p.sumNumber().doubleValue();
    } finally {
      closeQuietly(x);
      closeQuietly(y);
    }
  }

  @Override
  public long countNonZero() {
    checkOpen();
    INDArray nz = array.neq(0f);
    INDArray d = nz.castTo(DataType.DOUBLE);
    try {
      return Math.round(d.sumNumber().doubleValue());
    } finally {
      closeQuietly(nz);
      closeQuietly(d);
    }
  }

  @Override
  public double kthLargestAbs(long k) {
    checkOpen();
    checkK(k);
    INDArray ab = Transforms.abs(array, true).reshape(shape.numel()).dup();
    try {
      INDArray sorted = Nd4j.sort(ab, true);
      return sorted.getFloat(shape.numel() - k);
    } finally {
      closeQuietly(ab);
    }
  }

  @Override
  public Tensor take(int axis, int[] indices) {
    checkAxis(axis, indices);
    long[] dims = shape.dims();
    dims[axis] = indices.length;
    Shape out = Shape.of(dims);
    if (out.numel() == 0) {
      return wrapShaped(Nd4j.create(DataType.FLOAT, dims), out);
    }
    INDArrayIndex[] idx = new INDArrayIndex[shape.rank()];
    for (int i = 0; i < idx.length; i++) {
      idx[i] = i == axis ? NDArrayIndex.indices(java.util.Arrays.stream(indices).asLongStream().toArray()) : NDArrayIndex.all();
    }
    INDArray r = array.get(idx);
    INDArray own = r.dup().reshape(dims).dup();
    return wrapShaped(own, out);
  }

  @Override
  public Tensor matmul(Tensor o) {
    checkMatmul(o);
    INDArray r = array.mmul(((Nd4jTensor) o).array);
    return wrapShaped(r, Shape.of(r.shape()));
  }

  @Override
  public Tensor transpose() {
    checkOpen();
    if (shape.rank() != 2) {
      throw new IllegalArgumentException("transpose: needs a 2-D tensor, found " + shape);
    }
    return wrapShaped(array.transpose().dup('c'), Shape.of(shape.dim(1), shape.dim(0)));
  }

  @Override
  public Tensor reshape(Shape to) {
    checkReshape(to);
    return wrapShaped(array.dup('c').reshape('c', to.dims()).dup('c'), to);
  }

  @Override
  public Tensor cast(DType dtype) {
    checkOpen();
    if (!dtype.isFloating()) {
      throw new IllegalArgumentException("cast: only floating dtypes, found " + dtype);
    }
    if (dtype == DType.F32 || dtype == DType.F64) {
      return op(INDArray::dup);
    }
    if (dtype == DType.F16) {
      INDArray h = array.castTo(DataType.HALF);
      INDArray back = h.castTo(DataType.FLOAT);
      closeQuietly(h);
      return wrapShaped(back, shape);
    }
    float[] v = toFloatArray();
    for (int i = 0; i < v.length; i++) {
      v[i] = DTypeCodec.roundTo(v[i], dtype);
    }
    return Nd4jBackend.INSTANCE.fromFloats(scope(), v, shape);
  }

  @Override
  public Tensor to(Device device) {
    checkOpen();
    if (device.kind() != Device.Kind.CPU) {
      throw new IllegalArgumentException("the nd4j backend runs on cpu only, not " + device);
    }
    return op(INDArray::dup);
  }

  @Override
  public float[] toFloatArray() {
    checkOpen();
    if (shape.numel() == 0) {
      return new float[0];
    }
    return array.dup('c').reshape(shape.numel()).toFloatVector();
  }

  @Override
  protected void release() {
    closeQuietly(array);
  }
}
