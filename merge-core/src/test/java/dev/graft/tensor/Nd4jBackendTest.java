package dev.graft.tensor;

import dev.graft.tensor.spi.Backend;

class Nd4jBackendTest extends BackendConformanceTest {
  @Override
  Backend backend() {
    return Backends.create("nd4j", Device.CPU);
  }
}
