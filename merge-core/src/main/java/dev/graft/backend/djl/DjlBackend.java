package dev.graft.backend.djl;

import ai.djl.engine.Engine;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import dev.graft.InvalidInputException;
import dev.graft.tensor.Device;
import dev.graft.tensor.Shape;
import dev.graft.tensor.Tensor;
import dev.graft.tensor.TensorScope;
import dev.graft.tensor.spi.Backend;
import dev.graft.tensor.spi.BackendProvider;

/**
 * DJL's PyTorch engine (libtorch) on CPU, or on CUDA when a GPU and a CUDA libtorch are present
 * ({@code PYTORCH_LIBRARY_PATH}; see README). Only float32 arrays are ever created: bf16 aborts the JVM in this
 * engine, so narrow types are converted in Java.
 */
public final class DjlBackend implements Backend {
  private final Device device;
  private final NDManager manager;

  /** ServiceLoader entry. */
  public static final class Provider implements BackendProvider {
    @Override
    public String name() {
      return "djl";
    }

    @Override
    public int rank() {
      return 20;
    }

    @Override
    public boolean supports(Device device) {
      if (device.kind() == Device.Kind.CPU) {
        return true;
      }
      try {
        return Engine.getEngine("PyTorch").getGpuCount() > device.index();
      } catch (RuntimeException | LinkageError e) {
        return false;
      }
    }

    @Override
    public Backend create(Device device) {
      return new DjlBackend(device);
    }
  }

  public DjlBackend(Device device) {
    this.device = device;
    this.manager = newManager(device);
  }

  /** A base manager of DJL's PyTorch engine on {@code device}; an engine that cannot start is bad input (exit 2). */
  public static NDManager newManager(Device device) {
    ai.djl.Device d = device.kind() == Device.Kind.CPU ? ai.djl.Device.cpu() : ai.djl.Device.gpu(device.index());
    try {
      return NDManager.newBaseManager(d, "PyTorch");
    } catch (RuntimeException | LinkageError e) {
      throw new InvalidInputException("cannot start DJL's PyTorch engine on " + device + ": " + e.getMessage(), e);
    }
  }

  @Override
  public String name() {
    return "djl";
  }

  @Override
  public Device device() {
    return device;
  }

  NDManager manager() {
    return manager;
  }

  @Override
  public Tensor fromFloats(TensorScope scope, float[] data, Shape shape) {
    Backend.checkFills(data, shape);
    NDArray a = manager.create(data, new ai.djl.ndarray.types.Shape(shape.dims()));
    return new DjlTensor(this, scope, shape, a);
  }

  @Override
  public void close() {
    manager.close();
  }
}
