package dev.graft.tensor;

import dev.graft.InvalidInputException;
import dev.graft.tensor.spi.Backend;
import dev.graft.tensor.spi.BackendProvider;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.ServiceLoader;

/** The backends found on the class path, by name. */
public final class Backends {
  private Backends() {}

  /** Every provider, highest rank first. */
  public static List<BackendProvider> providers() {
    List<BackendProvider> list = new ArrayList<>();
    ServiceLoader.load(BackendProvider.class, Backends.class.getClassLoader()).forEach(list::add);
    list.sort(Comparator.comparingInt(BackendProvider::rank).reversed().thenComparing(BackendProvider::name));
    return list;
  }

  /**
   * Creates the named backend ({@code reference}, {@code djl}, {@code nd4j}) on a device, or the highest-ranked
   * one that supports the device when {@code name} is null or {@code auto}.
   *
   * @throws InvalidInputException for an unknown name or an unsupported device
   */
  public static Backend create(String name, Device device) {
    return provider(name, device).create(device);
  }

  /** The name of the backend {@link #create} would create, without creating it. */
  public static String resolve(String name, Device device) {
    return provider(name, device).name();
  }

  private static BackendProvider provider(String name, Device device) {
    List<BackendProvider> ps = providers();
    for (BackendProvider p : ps) {
      boolean named = name != null && !name.equals("auto");
      if ((!named || p.name().equals(name)) && p.supports(device)) {
        return p;
      }
      if (named && p.name().equals(name)) {
        throw new InvalidInputException("backend '" + name + "' cannot run on " + device
            + (device.kind() == Device.Kind.CUDA ? " (needs a GPU and a CUDA libtorch: see README, 'GPU')" : ""));
      }
    }
    throw new InvalidInputException(
        "no backend " + (name == null ? "" : "'" + name + "' ") + "for " + device + " (available: "
            + ps.stream().map(BackendProvider::name).toList() + ")");
  }
}
