package dev.graft.model;

import dev.graft.io.SafetensorsWriter;
import dev.graft.tensor.DType;
import dev.graft.tensor.Shape;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/** Diagonal Fisher files: safetensors with the model's tensor names, where the {@code fisher} merge operator finds them. */
public final class FisherFiles {
  private FisherFiles() {}

  /** Where a model's Fisher goes by default: {@code MODEL.fisher.safetensors} beside the model folder. */
  public static Path besides(Path model) {
    Path m = model.toAbsolutePath().normalize();
    return m.resolveSibling(m.getFileName() + ".fisher.safetensors");
  }

  /**
   * Writes a Fisher (float32) under a temporary name, renamed when complete.
   *
   * @param estimator how it was estimated (exact, sampled, empirical), kept in the metadata
   * @param examples examples (or sequences) averaged over
   */
  public static void write(Path out, Map<String, float[]> fisher, Map<String, Shape> shapes, String estimator, int examples) {
    List<SafetensorsWriter.Entry> entries = new ArrayList<>();
    fisher.keySet().forEach(k -> entries.add(new SafetensorsWriter.Entry(k, DType.F32, shapes.get(k))));
    Map<String, String> md = new LinkedHashMap<>();
    md.put("format", "pt");
    md.put("graft.fisher", "estimator=" + estimator + ",examples=" + examples);
    try (SafetensorsWriter w = SafetensorsWriter.createFile(out, entries, md)) {
      fisher.forEach((k, v) -> w.writeFloats(k, 0, v, 0, v.length));
      w.finish();
    }
  }
}
