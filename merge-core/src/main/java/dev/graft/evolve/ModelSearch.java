package dev.graft.evolve;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.graft.io.AtomicFiles;
import dev.graft.io.ModelConfig;
import dev.graft.io.SafetensorsWriter;
import dev.graft.model.Weights;
import dev.graft.op.Operators;
import dev.graft.tensor.DType;
import dev.graft.tensor.Device;
import dev.graft.tensor.spi.Backend;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Model space (M2N2, GENOME): genomes are whole models' weights, flattened by a {@link WeightLayout}. The first
 * models are given checkpoints or random draws {@code N(0, std²)} (from scratch); fresh genomes for a first
 * population are random draws (from scratch) or SLERP mixes of two given models with a random ratio.
 */
public final class ModelSearch implements SearchSpace {
  private final TaskSet tasks;
  private final ModelConfig config;
  private final WeightLayout layout;
  private final List<Genome> seeds;
  private final Genome.Flat base;
  private final double initStd;
  private final Path filesFrom;
  private final DType outDtype;
  private final Device device;
  private final Backend backend;

  /**
   * @param seeds the first models
   * @param base the base model (for crossover through task-vector operators), or null
   * @param initStd std of random genomes when starting from scratch, 0 when starting from given models
   * @param filesFrom folder whose tokenizer files a saved model gets, or null
   * @param outDtype dtype of saved models
   * @param backend backend of crossover through merge operators
   */
  public ModelSearch(TaskSet tasks, ModelConfig config, WeightLayout layout, List<Genome> seeds, Genome.Flat base, double initStd,
      Path filesFrom, DType outDtype, Device device, Backend backend) {
    this.tasks = tasks;
    this.config = config;
    this.layout = layout;
    this.seeds = List.copyOf(seeds);
    this.base = base;
    this.initStd = initStd;
    this.filesFrom = filesFrom;
    this.outDtype = outDtype;
    this.device = device;
    this.backend = backend;
  }

  /** {@code count} genomes with weights drawn from {@code N(0, std²)}, from {@code seed}. */
  public static List<Genome> random(WeightLayout layout, int count, double std, long seed) {
    List<Genome> out = new ArrayList<>();
    for (int m = 0; m < count; m++) {
      out.add(gaussian(layout.size(), std, new java.util.SplittableRandom(dev.graft.tensor.spi.SeededMasks.mix(seed ^ 0x1A17L, m))));
    }
    return out;
  }

  private static Genome.Flat gaussian(int n, double std, java.util.SplittableRandom rng) {
    float[] w = new float[n];
    for (int i = 0; i < n; i++) {
      w[i] = (float) (rng.nextGaussian() * std);
    }
    return new Genome.Flat(w);
  }

  public WeightLayout layout() {
    return layout;
  }

  public ModelConfig config() {
    return config;
  }

  @Override
  public String kind() {
    return "model";
  }

  @Override
  public List<Genome> seeds() {
    return seeds;
  }

  @Override
  public Genome start() {
    return seeds.get(0);
  }

  @Override
  public Bounds bounds() {
    return null;
  }

  @Override
  public Generator generator() {
    if (initStd > 0 || seeds.size() < 2) {
      double std = initStd > 0 ? initStd : 0.01;
      return (rng, origin) -> {
        origin.put("init", "gaussian").put("std", std);
        return gaussian(layout.size(), std, rng);
      };
    }
    SlerpCrossover mix = new SlerpCrossover(false, null);
    return (rng, origin) -> {
      int a = rng.nextInt(seeds.size());
      int b = (a + 1 + rng.nextInt(seeds.size() - 1)) % seeds.size();
      origin.put("init", "mix").putArray("seeds").add(a).add(b);
      return mix.cross(seeds.get(a), seeds.get(b), rng, origin);
    };
  }

  @Override
  public Crossover crossover(String name, Map<String, Object> parameters) {
    return switch (name) {
      case "slerp_split" -> new SlerpCrossover(true, null);
      case "slerp" -> new SlerpCrossover(false, null);
      default -> new OperatorCrossover(Operators.builtIn().get(name), layout, base, parameters, backend);
    };
  }

  @Override
  public CandidateEvaluator newEvaluator() {
    return new ModelEvaluator(config, layout, tasks.fitness(), tokenizerDir(), device);
  }

  private Path tokenizerDir() {
    return filesFrom != null && Files.isRegularFile(filesFrom.resolve("tokenizer.json")) ? filesFrom : null;
  }

  @Override
  public Evolution.HeldOut heldOut() {
    return new ModelEvaluator(config, layout, tasks.fitness(), tokenizerDir(), device).heldOut(tasks);
  }

  @Override
  public ObjectNode describe(Genome genome) {
    return States.JSON.createObjectNode();
  }

  @Override
  public void saveModel(Genome genome, Path dir) {
    Path abs = dir.toAbsolutePath().normalize();
    Path tmp = abs.resolveSibling("." + abs.getFileName() + ".graft-partial");
    AtomicFiles.deleteTree(tmp);
    AtomicFiles.unfinished(tmp);
    Weights w = layout.weights((Genome.Flat) genome, "evolved");
    List<SafetensorsWriter.Entry> entries = new ArrayList<>();
    layout.shapes().forEach((n, s) -> entries.add(new SafetensorsWriter.Entry(n, outDtype, s)));
    Map<String, String> md = new LinkedHashMap<>();
    md.put("format", "pt");
    md.put("producer", "graft evolve");
    try {
      Files.createDirectories(tmp);
      try (SafetensorsWriter out = SafetensorsWriter.create(tmp, entries, Long.MAX_VALUE, md)) {
        for (String n : layout.names()) {
          float[] v = w.floats(n);
          out.writeFloats(n, 0, v, 0, v.length);
        }
        out.finish();
      }
      ObjectNode cfg = config.json().deepCopy();
      cfg.put("torch_dtype", dev.graft.io.Convert.torchName(outDtype));
      AtomicFiles.writeString(tmp.resolve("config.json"), new ObjectMapper().writerWithDefaultPrettyPrinter().writeValueAsString(cfg) + "\n");
      if (filesFrom != null) {
        try (dev.graft.io.Checkpoint c = dev.graft.io.Checkpoint.open(filesFrom)) {
          for (Path aux : c.auxiliaryFiles()) {
            Files.copy(aux, tmp.resolve(aux.getFileName().toString()), StandardCopyOption.REPLACE_EXISTING);
          }
        }
      }
      AtomicFiles.replaceDirectory(tmp, abs);
    } catch (IOException e) {
      throw new UncheckedIOException("cannot write " + dir + ": " + e.getMessage(), e);
    } finally {
      AtomicFiles.deleteTree(tmp);
      AtomicFiles.finished(tmp);
    }
  }
}
