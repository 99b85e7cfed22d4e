package dev.graft.tensor.spi;

import dev.graft.tensor.Device;

/**
 * Finds a backend through {@link java.util.ServiceLoader}. Higher rank wins when no backend is named.
 */
public interface BackendProvider {
  String name();

  int rank();

  /** Whether this provider can run on the device (natives present, GPU present for CUDA). */
  boolean supports(Device device);

  /** Creates the backend; may load native libraries (seconds on first use). */
  Backend create(Device device);
}
