package dev.graft.cli;

import dev.graft.tensor.Device;
import picocli.CommandLine.Option;

/** The {@code --device} option of commands that run models. */
final class DeviceOption {
  @Option(names = "--device", paramLabel = "DEVICE", defaultValue = "cpu", description = "cpu or cuda[:N] (default: ${DEFAULT-VALUE}).")
  String device;

  Device device() {
    return Device.parse(device);
  }
}
