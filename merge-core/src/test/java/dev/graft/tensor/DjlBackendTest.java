package dev.graft.tensor;

import dev.graft.backend.djl.DjlBackend;
import dev.graft.tensor.spi.Backend;
import org.junit.jupiter.api.AfterAll;

class DjlBackendTest extends BackendConformanceTest {
  private static DjlBackend backend;

  @Override
  Backend backend() {
    if (backend == null) {
      backend = new DjlBackend(Device.CPU);
    }
    return backend;
  }

  @AfterAll
  static void closeEngine() {
    if (backend != null) {
      backend.close();
    }
  }
}
