package dev.graft.backend.nd4j;

import dev.graft.InvalidInputException;
import dev.graft.tensor.Device;
import dev.graft.tensor.Shape;
import dev.graft.tensor.Tensor;
import dev.graft.tensor.TensorScope;
import dev.graft.tensor.spi.Backend;
import dev.graft.tensor.spi.BackendProvider;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;

/** ND4J (native CPU backend). Every result is its own buffer (views are copied), so closing one never frees another. */
public final class Nd4jBackend implements Backend {
  static final Nd4jBackend INSTANCE = new Nd4jBackend();

  /** ServiceLoader entry. */
  public static final class Provider implements BackendProvider {
    @Override
    public String name() {
      return "nd4j";
    }

    @Override
    public int rank() {
      return 10;
    }

    @Override
    public boolean supports(Device device) {
      return device.kind() == Device.Kind.CPU;
    }

    @Override
    public Backend create(Device device) {
      try {
        Nd4j.getBackend();
      } catch (RuntimeException | LinkageError e) {
        throw new InvalidInputException("cannot start ND4J's native backend: " + e.getMessage(), e);
      }
      return INSTANCE;
    }
  }

  @Override
  public String name() {
    return "nd4j";
  }

  @Override
  public Device device() {
    return Device.CPU;
  }

  @Override
  public Tensor fromFloats(TensorScope scope, float[] data, Shape shape) {
    Backend.checkFills(data, shape);
    INDArray a = shape.rank() == 0 ? Nd4j.scalar(DataType.FLOAT, data[0]) : Nd4j.create(data, shape.dims(), DataType.FLOAT);
    return new Nd4jTensor(scope, shape, a);
  }
}
