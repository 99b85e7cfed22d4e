package dev.graft.backend.djl;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDArrays;
import ai.djl.ndarray.index.NDIndex;
import ai.djl.ndarray.types.DataType;
import dev.graft.io.DTypeCodec;
import dev.graft.tensor.DType;
import dev.graft.tensor.Device;
import dev.graft.tensor.Shape;
import dev.graft.tensor.Tensor;
import dev.graft.tensor.TensorScope;
import dev.graft.tensor.spi.AbstractTensor;
import dev.graft.tensor.spi.Backend;
import java.util.function.Function;

/** A float32 NDArray of DJL's PyTorch engine. */
final class DjlTensor extends AbstractTensor {
  private final DjlBackend backend;
  private final NDArray array;

  DjlTensor(DjlBackend backend, TensorScope scope, Shape shape, NDArray array) {
    super(scope, shape);
    this.backend = backend;
    this.array = array;
  }

  NDArray array() {
    checkOpen();
    return array;
  }

  private DjlTensor wrap(NDArray a) {
    return new DjlTensor(backend, scope(), Shape.of(a.getShape().getShape()), a);
  }

  /** Runs f, closing every intermediate array it created except the result. */
  private DjlTensor op(Function<NDArray, NDArray> f) {
    checkOpen();
    return wrap(f.apply(array));
  }

  private NDArray other(Tensor o, String name) {
    return this.<DjlTensor>same(o, name).array;
  }

  private static NDArray toMask(NDArray bool) {
    try (bool) {
      return bool.toType(DataType.FLOAT32, false);
    }
  }

  private static double scalar(NDArray a) {
    try (a) {
      return a.toType(DataType.FLOAT64, false).getDouble();
    }
  }

  private double reduce64(Function<NDArray, NDArray> f) {
    checkOpen();
    try (NDArray d = array.toType(DataType.FLOAT64, true); NDArray r = f.apply(d)) {
      return r.getDouble();
    }
  }

  @Override
  public Device device() {
    ai.djl.Device d = array.getDevice();
    return d.isGpu() ? new Device(Device.Kind.CUDA, d.getDeviceId()) : Device.CPU;
  }

  @Override
  public Backend backend() {
    return backend;
  }

  @Override
  public Tensor add(Tensor o) {
    return wrap(array().add(other(o, "add")));
  }

  @Override
  public Tensor sub(Tensor o) {
    return wrap(array().sub(other(o, "sub")));
  }

  @Override
  public Tensor mul(Tensor o) {
    return wrap(array().mul(other(o, "mul")));
  }

  @Override
  public Tensor div(Tensor o) {
    return wrap(array().div(other(o, "div")));
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
    return op(NDArray::abs);
  }

  @Override
  public Tensor sign() {
    return op(NDArray::sign);
  }

  @Override
  public Tensor neg() {
    return op(NDArray::neg);
  }

  @Override
  public Tensor sqrt() {
    return op(NDArray::sqrt);
  }

  @Override
  public Tensor square() {
    return op(NDArray::square);
  }

  @Override
  public Tensor clampMin(double lo) {
    return op(a -> a.maximum((float) lo));
  }

  @Override
  public Tensor maximum(Tensor o) {
    return wrap(array().maximum(other(o, "maximum")));
  }

  @Override
  public Tensor gt(double s) {
    return op(a -> toMask(a.gt((float) s)));
  }

  @Override
  public Tensor ge(double s) {
    return op(a -> toMask(a.gte((float) s)));
  }

  @Override
  public Tensor lt(double s) {
    return op(a -> toMask(a.lt((float) s)));
  }

  @Override
  public Tensor gt(Tensor o) {
    return wrap(toMask(array().gt(other(o, "gt"))));
  }

  @Override
  public Tensor eq(Tensor o) {
    return wrap(toMask(array().eq(other(o, "eq"))));
  }

  @Override
  public Tensor where(Tensor a, Tensor b) {
    NDArray x = other(a, "where");
    NDArray y = other(b, "where");
    try (NDArray cond = array.neq(0f)) {
      return wrap(NDArrays.where(cond, x, y));
    }
  }

  @Override
  public double sum() {
    return reduce64(NDArray::sum);
  }

  @Override
  public double norm() {
    return Math.sqrt(reduce64(d -> {
      try (NDArray sq = d.square()) {
        return sq.sum();
      }
    }));
  }

  @Override
  public double sumAbs() {
    return reduce64(d -> {
      try (NDArray ab = d.abs()) {
        return ab.sum();
      }
    });
  }

  @Override
  public double dot(Tensor o) {
    NDArray b = other(o, "dot");
    try (NDArray x = array.toType(DataType.FLOAT64, true);
        NDArray y = b.toType(DataType.FLOAT64, true);
        NDArray p = x.mul(y)) {
      return scalar(p.sum());
    }
  }

  @Override
  public long countNonZero() {
    checkOpen();
    try (NDArray c = array.countNonzero()) {
      return c.toType(DataType.INT64, false).getLong();
    }
  }

  @Override
  public double kthLargestAbs(long k) {
    checkOpen();
    checkK(k);
    try (NDArray ab = array.abs(); NDArray flat = ab.flatten(); NDArray sorted = flat.sort(0)) {
      return sorted.getFloat(shape.numel() - k);
    }
  }

  @Override
  public Tensor take(int axis, int[] indices) {
    checkAxis(axis, indices);
    try (NDArray idx = backend.manager().create(java.util.Arrays.stream(indices).asLongStream().toArray())) {
      NDArray moved = array.getDevice().equals(idx.getDevice()) ? idx : idx.toDevice(array.getDevice(), true);
      String spec = ":, ".repeat(axis) + "{}";
      NDArray r = array.get(new NDIndex(spec, moved));
      if (moved != idx) {
        moved.close();
      }
      return wrap(r);
    }
  }

  @Override
  public Tensor matmul(Tensor o) {
    checkMatmul(o);
    return wrap(array.matMul(((DjlTensor) o).array()));
  }

  @Override
  public Tensor transpose() {
    checkOpen();
    if (shape.rank() != 2) {
      throw new IllegalArgumentException("transpose: needs a 2-D tensor, found " + shape);
    }
    return op(a -> a.transpose().duplicate());
  }

  @Override
  public Tensor reshape(Shape to) {
    checkReshape(to);
    return op(a -> a.reshape(new ai.djl.ndarray.types.Shape(to.dims())).duplicate());
  }

  @Override
  public Tensor cast(DType dtype) {
    checkOpen();
    return switch (dtype) {
      case F32, F64 -> op(NDArray::duplicate);
      case F16 -> op(a -> {
        try (NDArray h = a.toType(DataType.FLOAT16, true)) {
          return h.toType(DataType.FLOAT32, true);
        }
      });
      case BF16, F8_E4M3, F8_E5M2 -> {
        // never create bf16 arrays in this engine (native abort): round on the host
        float[] v = array.toFloatArray();
        for (int i = 0; i < v.length; i++) {
          v[i] = DTypeCodec.roundTo(v[i], dtype);
        }
        NDArray r = backend.manager().create(v, array.getShape());
        yield wrap(r.getDevice().equals(array.getDevice()) ? r : moveClose(r, array.getDevice()));
      }
      default -> throw new IllegalArgumentException("cast: only floating dtypes, found " + dtype);
    };
  }

  private static NDArray moveClose(NDArray a, ai.djl.Device d) {
    try (a) {
      return a.toDevice(d, true);
    }
  }

  @Override
  public Tensor to(Device device) {
    checkOpen();
    ai.djl.Device d = device.kind() == Device.Kind.CPU ? ai.djl.Device.cpu() : ai.djl.Device.gpu(device.index());
    NDArray moved = array.toDevice(d, true);
    if (moved == array) {
      moved = array.duplicate();
    }
    return new DjlTensor(backend, scope(), shape, moved);
  }

  @Override
  public float[] toFloatArray() {
    checkOpen();
    if (array.getDevice().isGpu()) {
      try (NDArray c = array.toDevice(ai.djl.Device.cpu(), true)) {
        return c.toFloatArray();
      }
    }
    return array.toFloatArray();
  }

  @Override
  protected void release() {
    array.close();
  }
}
