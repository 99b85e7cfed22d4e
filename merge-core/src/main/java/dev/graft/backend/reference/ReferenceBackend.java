package dev.graft.backend.reference;

import dev.graft.tensor.Device;
import dev.graft.tensor.Shape;
import dev.graft.tensor.Tensor;
import dev.graft.tensor.TensorScope;
import dev.graft.tensor.spi.Backend;
import dev.graft.tensor.spi.BackendProvider;

/**
 * Plain-Java backend: float32 storage on the heap, double-precision accumulation, both cores for large tensors.
 * The test oracle of the conformance suite, and the default on CPU ({@code auto}): the merge operators that dominate
 * merge time run on its heap arrays as fused single-pass kernels ({@code dev.graft.op.FusedKernels}), which read the
 * inputs without a copy and give the bytes the tensor-layer formulation gives on DJL.
 */
public final class ReferenceBackend implements Backend {
  public static final ReferenceBackend INSTANCE = new ReferenceBackend();

  /** ServiceLoader entry. */
  public static final class Provider implements BackendProvider {
    @Override
    public String name() {
      return "reference";
    }

    @Override
    public int rank() {
      return 30; // the default on CPU: merge operators run as fused single-pass kernels on its heap arrays
    }

    @Override
    public boolean supports(Device device) {
      return device.kind() == Device.Kind.CPU;
    }

    @Override
    public Backend create(Device device) {
      return INSTANCE;
    }
  }

  @Override
  public String name() {
    return "reference";
  }

  @Override
  public Device device() {
    return Device.CPU;
  }

  @Override
  public Tensor fromFloats(TensorScope scope, float[] data, Shape shape) {
    Backend.checkFills(data, shape);
    return new ReferenceTensor(scope, shape, data.clone());
  }

  @Override
  public Tensor adopt(TensorScope scope, float[] data, Shape shape) {
    Backend.checkFills(data, shape);
    return new ReferenceTensor(scope, shape, data);
  }
}
