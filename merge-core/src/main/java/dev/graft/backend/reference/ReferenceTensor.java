package dev.graft.backend.reference;

import dev.graft.internal.Parallel;
import dev.graft.io.DTypeCodec;
import dev.graft.tensor.DType;
import dev.graft.tensor.Device;
import dev.graft.tensor.Shape;
import dev.graft.tensor.Tensor;
import dev.graft.tensor.TensorScope;
import dev.graft.tensor.spi.AbstractTensor;
import dev.graft.tensor.spi.Backend;
import java.util.Arrays;

/** A heap float32 tensor. */
final class ReferenceTensor extends AbstractTensor {
  private float[] data;

  ReferenceTensor(TensorScope scope, Shape shape, float[] data) {
    super(scope, shape);
    this.data = data;
  }

  private interface FloatOp {
    float apply(float x);
  }

  private interface FloatOp2 {
    float apply(float x, float y);
  }

  private ReferenceTensor map(FloatOp f) {
    checkOpen();
    float[] src = data;
    float[] out = new float[src.length];
    Parallel.forRange(src.length, (lo, hi) -> {
      for (int i = lo; i < hi; i++) {
        out[i] = f.apply(src[i]);
      }
    });
    return new ReferenceTensor(scope(), shape, out);
  }

  private ReferenceTensor zip(Tensor other, String op, FloatOp2 f) {
    float[] a = data;
    float[] b = this.<ReferenceTensor>same(other, op).data;
    float[] out = new float[a.length];
    Parallel.forRange(a.length, (lo, hi) -> {
      for (int i = lo; i < hi; i++) {
        out[i] = f.apply(a[i], b[i]);
      }
    });
    return new ReferenceTensor(scope(), shape, out);
  }

  float[] data() {
    checkOpen();
    return data;
  }

  @Override
  public float[] heapArray() {
    return data();
  }

  @Override
  public Device device() {
    return Device.CPU;
  }

  @Override
  public Backend backend() {
    return ReferenceBackend.INSTANCE;
  }

  @Override
  public Tensor add(Tensor o) {
    return zip(o, "add", Float::sum);
  }

  @Override
  public Tensor sub(Tensor o) {
    return zip(o, "sub", (x, y) -> x - y);
  }

  @Override
  public Tensor mul(Tensor o) {
    return zip(o, "mul", (x, y) -> x * y);
  }

  @Override
  public Tensor div(Tensor o) {
    return zip(o, "div", (x, y) -> x / y);
  }

  @Override
  public Tensor add(double s) {
    float f = (float) s;
    return map(x -> x + f);
  }

  @Override
  public Tensor mul(double s) {
    float f = (float) s;
    return map(x -> x * f);
  }

  @Override
  public Tensor abs() {
    return map(Math::abs);
  }

  @Override
  public Tensor sign() {
    return map(Math::signum);
  }

  @Override
  public Tensor neg() {
    return map(x -> -x);
  }

  @Override
  public Tensor sqrt() {
    return map(x -> (float) Math.sqrt(x));
  }

  @Override
  public Tensor square() {
    return map(x -> x * x);
  }

  @Override
  public Tensor clampMin(double lo) {
    float f = (float) lo;
    return map(x -> Float.isNaN(x) ? x : Math.max(x, f));
  }

  @Override
  public Tensor maximum(Tensor o) {
    return zip(o, "maximum", Math::max);
  }

  @Override
  public Tensor gt(double s) {
    return map(x -> x > s ? 1f : 0f);
  }

  @Override
  public Tensor ge(double s) {
    return map(x -> x >= s ? 1f : 0f);
  }

  @Override
  public Tensor lt(double s) {
    return map(x -> x < s ? 1f : 0f);
  }

  @Override
  public Tensor gt(Tensor o) {
    return zip(o, "gt", (x, y) -> x > y ? 1f : 0f);
  }

  @Override
  public Tensor eq(Tensor o) {
    return zip(o, "eq", (x, y) -> x == y ? 1f : 0f);
  }

  @Override
  public Tensor where(Tensor a, Tensor b) {
    float[] m = data;
    float[] x = this.<ReferenceTensor>same(a, "where").data;
    float[] y = this.<ReferenceTensor>same(b, "where").data;
    float[] out = new float[m.length];
    Parallel.forRange(m.length, (lo, hi) -> {
      for (int i = lo; i < hi; i++) {
        out[i] = m[i] != 0f ? x[i] : y[i];
      }
    });
    return new ReferenceTensor(scope(), shape, out);
  }

  @Override
  public double sum() {
    float[] d = data();
    return Parallel.sum(d.length, (lo, hi) -> {
      double s = 0;
      for (int i = lo; i < hi; i++) {
        s += d[i];
      }
      return s;
    });
  }

  @Override
  public double norm() {
    float[] d = data();
    return Math.sqrt(Parallel.sum(d.length, (lo, hi) -> {
      double s = 0;
      for (int i = lo; i < hi; i++) {
        s += (double) d[i] * d[i];
      }
      return s;
    }));
  }

  @Override
  public double sumAbs() {
    float[] d = data();
    return Parallel.sum(d.length, (lo, hi) -> {
      double s = 0;
      for (int i = lo; i < hi; i++) {
        s += Math.abs(d[i]);
      }
      return s;
    });
  }

  @Override
  public double dot(Tensor o) {
    float[] a = data;
    float[] b = this.<ReferenceTensor>same(o, "dot").data;
    return Parallel.sum(a.length, (lo, hi) -> {
      double s = 0;
      for (int i = lo; i < hi; i++) {
        s += (double) a[i] * b[i];
      }
      return s;
    });
  }

  @Override
  public long countNonZero() {
    float[] d = data();
    return (long) Parallel.sum(d.length, (lo, hi) -> {
      long c = 0;
      for (int i = lo; i < hi; i++) {
        if (d[i] != 0f) {
          c++;
        }
      }
      return c;
    });
  }

  @Override
  public double kthLargestAbs(long k) {
    checkOpen();
    checkK(k);
    float[] a = new float[data.length];
    for (int i = 0; i < a.length; i++) {
      a[i] = Math.abs(data[i]);
    }
    return select(a, a.length - (int) k);
  }

  /** Quickselect: the value that would sit at index {@code k} of the ascending sort (NaN sorts last). */
  static float select(float[] a, int k) {
    int lo = 0;
    int hi = a.length - 1;
    java.util.SplittableRandom r = new java.util.SplittableRandom(a.length);
    while (lo < hi) {
      float pivot = a[lo + r.nextInt(hi - lo + 1)];
      int i = lo;
      int j = hi;
      while (i <= j) {
        while (Float.compare(a[i], pivot) < 0) {
          i++;
        }
        while (Float.compare(a[j], pivot) > 0) {
          j--;
        }
        if (i <= j) {
          float t = a[i];
          a[i] = a[j];
          a[j] = t;
          i++;
          j--;
        }
      }
      if (k <= j) {
        hi = j;
      } else if (k >= i) {
        lo = i;
      } else {
        return a[k];
      }
    }
    return a[k];
  }

  @Override
  public Tensor take(int axis, int[] indices) {
    checkAxis(axis, indices);
    long[] dims = shape.dims();
    int outer = (int) (shape.numel() == 0 ? 0 : shape.numel() / (dims[axis] * shape.stride(axis)));
    int inner = (int) shape.stride(axis);
    int n = (int) dims[axis];
    dims[axis] = indices.length;
    float[] out = new float[(int) ((long) outer * indices.length * inner)];
    for (int o = 0; o < outer; o++) {
      for (int j = 0; j < indices.length; j++) {
        System.arraycopy(data, (o * n + indices[j]) * inner, out, (o * indices.length + j) * inner, inner);
      }
    }
    return new ReferenceTensor(scope(), Shape.of(dims), out);
  }

  @Override
  public Tensor matmul(Tensor other) {
    checkMatmul(other);
    float[] a = data;
    float[] b = ((ReferenceTensor) other).data();
    int m = (int) shape.dim(0);
    int k = (int) shape.dim(1);
    int n = (int) other.shape().dim(1);
    float[] out = new float[m * n];
    Parallel.forRange(m, (lo, hi) -> {
      double[] acc = new double[n];
      for (int i = lo; i < hi; i++) {
        Arrays.fill(acc, 0);
        for (int p = 0; p < k; p++) {
          double av = a[i * k + p];
          if (av == 0) {
            continue;
          }
          int bo = p * n;
          for (int j = 0; j < n; j++) {
            acc[j] += av * b[bo + j];
          }
        }
        for (int j = 0; j < n; j++) {
          out[i * n + j] = (float) acc[j];
        }
      }
    });
    return new ReferenceTensor(scope(), Shape.of(m, n), out);
  }

  @Override
  public Tensor transpose() {
    checkOpen();
    if (shape.rank() != 2) {
      throw new IllegalArgumentException("transpose: needs a 2-D tensor, found " + shape);
    }
    int r = (int) shape.dim(0);
    int c = (int) shape.dim(1);
    float[] out = new float[data.length];
    for (int i = 0; i < r; i++) {
      for (int j = 0; j < c; j++) {
        out[j * r + i] = data[i * c + j];
      }
    }
    return new ReferenceTensor(scope(), Shape.of(c, r), out);
  }

  @Override
  public Tensor reshape(Shape to) {
    checkReshape(to);
    return new ReferenceTensor(scope(), to, data.clone());
  }

  @Override
  public Tensor cast(DType dtype) {
    if (!dtype.isFloating()) {
      throw new IllegalArgumentException("cast: only floating dtypes, found " + dtype);
    }
    return dtype == DType.F32 || dtype == DType.F64 ? map(x -> x) : map(x -> DTypeCodec.roundTo(x, dtype));
  }

  @Override
  public Tensor to(Device device) {
    checkOpen();
    if (device.kind() != Device.Kind.CPU) {
      throw new IllegalArgumentException("the reference backend runs on cpu only, not " + device);
    }
    return map(x -> x);
  }

  @Override
  public float[] toFloatArray() {
    return data().clone();
  }

  @Override
  protected void release() {
    data = null;
  }
}
