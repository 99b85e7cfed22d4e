package dev.graft.align;

import ai.djl.ndarray.NDManager;
import dev.graft.InvalidInputException;
import dev.graft.backend.djl.DjlBackend;
import dev.graft.io.AtomicFiles;
import dev.graft.io.Checkpoint;
import dev.graft.io.MappedTensor;
import dev.graft.io.ModelConfig;
import dev.graft.io.SafetensorsWriter;
import dev.graft.io.TensorInfo;
import dev.graft.model.ClassifierConfig;
import dev.graft.model.LlamaConfig;
import dev.graft.model.Weights;
import dev.graft.tensor.Device;
import dev.graft.tensor.Shape;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.ByteBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/** Aligns models to a reference: picks the spec, runs weight matching, measures, writes the aligned checkpoints. */
public final class Aligner {
  /** Power iterations of the randomized SVD behind the singular-subspace agreement. */
  static final int POWER_ITERATIONS = 8;

  private Aligner() {}

  /**
   * How a tensor moved.
   *
   * @param tensor name
   * @param distanceBefore ‖A − B‖ for this tensor
   * @param distanceAfter ‖A − π(B)‖
   * @param agreementBefore top-k singular subspace agreement of A and B (NaN when not measured: not a permuted matrix)
   * @param agreementAfter the same with B aligned
   */
  public record TensorReport(String tensor, double distanceBefore, double distanceAfter, double agreementBefore, double agreementAfter) {}

  /**
   * One model's alignment.
   *
   * @param matching the permutations and sweeps
   * @param tensors per tensor distances and agreements, in the model's order
   */
  public record Report(WeightMatching.Result matching, List<TensorReport> tensors) {
    public double distanceBefore() {
      return Math.sqrt(tensors.stream().mapToDouble(t -> t.distanceBefore() * t.distanceBefore()).sum());
    }

    public double distanceAfter() {
      return Math.sqrt(tensors.stream().mapToDouble(t -> t.distanceAfter() * t.distanceAfter()).sum());
    }

    /** Mean agreement over the measured matrices, before (false) or after (true). */
    public double meanAgreement(boolean after) {
      return tensors.stream().mapToDouble(after ? TensorReport::agreementAfter : TensorReport::agreementBefore).filter(d -> !Double.isNaN(d)).average().orElse(Double.NaN);
    }

    /** Permutations that are not the identity. */
    public long moved() {
      return matching.perms().values().stream().filter(p -> !Permuter.isIdentity(p)).count();
    }
  }

  /**
   * The spec named by {@code spec} for the model {@code reference}: {@code auto} (from config.json's model_type:
   * llama, mistral, qwen2, qwen3 → {@code llama}; otherwise {@code mlp}), {@code llama}, {@code mlp}, or a YAML file.
   */
  public static PermutationSpec spec(String spec, Checkpoint reference) {
    return spec(spec, reference.config().orElse(null), WeightMatching.shapes(Weights.of(reference)), reference.root().toString());
  }

  /** The spec named by {@code spec} for a model known by its config (or null) and tensor shapes. */
  public static PermutationSpec spec(String spec, ModelConfig cfg, Map<String, Shape> shapes, String where) {
    String kind = spec;
    if (spec.equals("auto")) {
      String type = cfg == null ? "" : cfg.modelType().orElse("");
      kind = LlamaConfig.SUPPORTED.contains(type) ? "llama" : "mlp";
    }
    switch (kind) {
      case "llama" -> {
        if (cfg == null) {
          throw new InvalidInputException(where + " has no config.json; the llama spec reads sizes from it (hidden_size, heads, layers)");
        }
        String type = cfg.modelType().orElse("(none)");
        if (!LlamaConfig.SUPPORTED.contains(type)) {
          throw new InvalidInputException("the llama spec is for model_type llama, mistral, qwen2 or qwen3; " + where + " is " + type
              + ". Use --spec auto (or mlp, or a spec file)");
        }
        return PermutationSpec.llama(LlamaConfig.of(cfg, where + "/config.json"));
      }
      case "mlp" -> {
        if (cfg != null && ClassifierConfig.isClassifier(cfg)) {
          ClassifierConfig.of(cfg, where + "/config.json"); // reports a broken classifier config by field
        }
        return PermutationSpec.mlp(shapes, where);
      }
      default -> {
        return PermutationSpec.read(Path.of(spec));
      }
    }
  }

  /** Aligns {@code b} to {@code a} and measures distances and singular-subspace agreement before and after. */
  public static Report align(PermutationSpec spec, Weights a, Weights b, WeightMatching.Options o, int topK, WeightMatching.Listener listener) {
    WeightMatching.Result r = WeightMatching.match(spec, a, b, o, listener);
    return new Report(r, measure(spec, a, b, r.perms(), topK, o.device()));
  }

  /** Distances of every tensor and, for permuted matrices, top-k singular subspace agreement (k ≤ 0: none). */
  public static List<TensorReport> measure(PermutationSpec spec, Weights a, Weights b, Map<String, int[]> perms, int topK, Device device) {
    List<TensorReport> out = new ArrayList<>();
    try (NDManager m = DjlBackend.newManager(device)) {
      for (String t : a.names()) {
        if (!b.names().contains(t)) {
          continue;
        }
        Shape s = a.shape(t);
        List<PermutationSpec.Axis> axes = spec.tensors().get(t);
        int[][] maps = Permuter.maps(axes, perms, -1);
        double[] d = {0, 0}; // squared distances before, after
        WeightMatching.chunks(spec, a, b, t, perms, -1, (x, y, z, cs) -> {
          double before = squaredDistance(x, y);
          d[0] += before;
          d[1] += z == y ? before : squaredDistance(x, z); // z is y itself when nothing moves
        });
        double ab = Double.NaN;
        double aa = Double.NaN;
        boolean permutedMatrix = axes != null && s.rank() == 2 && axes.stream().anyMatch(java.util.Objects::nonNull);
        if (topK > 0 && permutedMatrix && Math.min(s.dim(0), s.dim(1)) > topK && s.numel() <= SVD_LIMIT) {
          int rows = (int) s.dim(0);
          int cols = (int) s.dim(1);
          SingularSubspaces.Top ta = SingularSubspaces.of(m, a.floats(t), rows, cols, topK, POWER_ITERATIONS, 1);
          SingularSubspaces.Top tb = SingularSubspaces.of(m, b.floats(t), rows, cols, topK, POWER_ITERATIONS, 1);
          ab = SingularSubspaces.agreement(ta, tb, null, null);
          aa = maps == null ? ab : SingularSubspaces.agreement(ta, tb, maps[0], maps[1]);
        }
        out.add(new TensorReport(t, Math.sqrt(d[0]), Math.sqrt(d[1]), ab, aa));
      }
    }
    return out;
  }

  /** Matrices larger than this (elements) are left out of the singular-subspace diagnostic (it needs them whole). */
  static final long SVD_LIMIT = 16L << 20;

  private static double squaredDistance(float[] x, float[] y) {
    double s = 0;
    for (int i = 0; i < x.length; i++) {
      double d = (double) x[i] - y[i];
      s += d * d;
    }
    return s;
  }


  /**
   * Writes {@code model} with {@code perms} applied to {@code out}: the same tensor names, dtypes and order, sharded at
   * {@code shardBytes}, with the model's config and tokenizer files; written under a temporary sibling name and
   * renamed when complete.
   */
  public static void write(Checkpoint model, PermutationSpec spec, Map<String, int[]> perms, Path out, long shardBytes, String alignedTo) {
    Path abs = out.toAbsolutePath().normalize();
    Path tmp = abs.resolveSibling("." + abs.getFileName() + ".graft-partial");
    try {
      AtomicFiles.deleteTree(tmp);
      AtomicFiles.unfinished(tmp);
      Files.createDirectories(tmp);
      List<SafetensorsWriter.Entry> entries = new ArrayList<>();
      for (Map.Entry<String, TensorInfo> e : model.tensors().entrySet()) {
        entries.add(new SafetensorsWriter.Entry(e.getKey(), e.getValue().dtype(), e.getValue().shape()));
      }
      Map<String, String> meta = new LinkedHashMap<>(model.metadata());
      meta.putIfAbsent("format", "pt");
      meta.put("graft.aligned_to", alignedTo);
      try (SafetensorsWriter w = SafetensorsWriter.create(tmp, entries, shardBytes, meta)) {
        for (Map.Entry<String, TensorInfo> e : model.tensors().entrySet()) {
          String t = e.getKey();
          TensorInfo info = e.getValue();
          List<PermutationSpec.Axis> axes = spec.tensors().get(t);
          int[][] maps = Permuter.maps(axes, perms, -1);
          Shape s = info.shape();
          int es = info.dtype().byteSize();
          if (maps == null) {
            try (MappedTensor mt = model.map(t)) {
              w.write(t, 0, mt.segment().asByteBuffer());
            }
            continue;
          }
          // Rows in ranges when the first axis does not move (embeddings), so memory stays at a chunk.
          long rows = s.rank() >= 2 && maps[0] == null ? s.dim(0) : 1;
          long rowSize = s.numel() / rows;
          long per = Math.max(1, WeightMatching.CHUNK / rowSize);
          for (long r0 = 0; r0 < rows; r0 += per) {
            long r1 = Math.min(rows, r0 + per);
            long[] dims = s.dims().clone();
            if (rows > 1) {
              dims[0] = r1 - r0;
            }
            try (MappedTensor mt = model.map(t, r0 * rowSize, (r1 - r0) * rowSize)) {
              byte[] bytes = mt.segment().toArray(java.lang.foreign.ValueLayout.JAVA_BYTE);
              w.write(t, r0 * rowSize * es, ByteBuffer.wrap(Permuter.apply(bytes, es, Shape.of(dims), maps)));
            }
          }
        }
        w.finish();
      }
      Path dir = Files.isDirectory(model.root()) ? model.root() : model.root().getParent();
      if (dir != null && Files.isRegularFile(dir.resolve("config.json"))) {
        Files.copy(dir.resolve("config.json"), tmp.resolve("config.json"), StandardCopyOption.REPLACE_EXISTING);
      }
      for (Path aux : model.auxiliaryFiles()) {
        Files.copy(aux, tmp.resolve(aux.getFileName().toString()), StandardCopyOption.REPLACE_EXISTING);
      }
      AtomicFiles.replaceDirectory(tmp, abs);
    } catch (IOException e) {
      throw new UncheckedIOException("writing " + out + ": " + e.getMessage(), e);
    } finally {
      AtomicFiles.deleteTree(tmp);
      AtomicFiles.finished(tmp);
    }
  }

  /** The permutations as JSON-ready data: name → indices. */
  public static String permutationsJson(Map<String, Map<String, int[]>> byModel, String reference, String spec) {
    StringBuilder b = new StringBuilder("{\n  \"reference\": ").append(quote(reference)).append(",\n  \"spec\": ").append(quote(spec))
        .append(",\n  \"convention\": \"aligned[..., i, ...] = model[..., p[i], ...] along every axis the permutation acts on\",\n  \"models\": {");
    int mi = 0;
    for (Map.Entry<String, Map<String, int[]>> e : byModel.entrySet()) {
      b.append(mi++ == 0 ? "\n" : ",\n").append("    ").append(quote(e.getKey())).append(": {");
      int pi = 0;
      for (Map.Entry<String, int[]> p : e.getValue().entrySet()) {
        b.append(pi++ == 0 ? "\n" : ",\n").append("      ").append(quote(p.getKey())).append(": ").append(java.util.Arrays.toString(p.getValue()));
      }
      b.append("\n    }");
    }
    return b.append("\n  }\n}\n").toString();
  }

  static String quote(String s) {
    return "\"" + new String(com.fasterxml.jackson.core.io.JsonStringEncoder.getInstance().quoteAsString(s)) + "\"";
  }



  /** Writes the permutations file atomically. */
  public static void writePermutations(Path file, Map<String, Map<String, int[]>> byModel, String reference, String spec) {
    AtomicFiles.writeString(file, permutationsJson(byModel, reference, spec));
  }
}
