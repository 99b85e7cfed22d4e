package dev.graft.evolve;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.graft.InvalidInputException;
import dev.graft.io.Checkpoint;
import dev.graft.io.SafetensorsWriter;
import dev.graft.tensor.DType;
import dev.graft.tensor.Shape;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * A checkpoint of a run's state: a JSON document (kept in the safetensors {@code __metadata__}) plus float arrays
 * too large for JSON (model-space genomes, per-example scores) as float32 tensors, all in one file written under a
 * temporary name and renamed when complete, so a crash never leaves half a checkpoint.
 *
 * <p>Gene vectors are written into the JSON as decimal doubles (they round-trip exactly).
 */
public final class GenomeStore {
  static final String STATE_KEY = "graft_evolve_state";
  private static final ObjectMapper JSON = new ObjectMapper();

  private final Map<String, float[]> arrays = new LinkedHashMap<>();

  /** An empty store to write into. */
  public GenomeStore() {}

  private GenomeStore(Map<String, float[]> arrays) {
    this.arrays.putAll(arrays);
  }

  /** Keeps {@code values}; returns the key to find it again. */
  public String put(float[] values) {
    String key = "a" + arrays.size();
    arrays.put(key, values);
    return key;
  }

  /** The array stored under {@code key}. */
  public float[] get(String key) {
    float[] a = arrays.get(key);
    if (a == null) {
      throw new InvalidInputException("the checkpoint has no array '" + key + "'; it is damaged, start the run again without --resume");
    }
    return a;
  }

  /** A genome as JSON: genes inline, weights by key. */
  public JsonNode putGenome(Genome g) {
    ObjectNode n = JSON.createObjectNode();
    switch (g) {
      case Genome.Genes x -> {
        ArrayNode a = n.putArray("genes");
        for (double v : x.values()) {
          a.add(v);
        }
      }
      case Genome.Flat f -> n.put("weights", put(f.values()));
    }
    return n;
  }

  /** The genome {@link #putGenome} wrote. */
  public Genome getGenome(JsonNode n) {
    if (n.has("genes")) {
      double[] v = new double[n.get("genes").size()];
      for (int i = 0; i < v.length; i++) {
        v[i] = n.get("genes").get(i).asDouble();
      }
      return new Genome.Genes(v);
    }
    return new Genome.Flat(get(n.get("weights").asText()));
  }

  /** Writes {@code state} and the arrays to {@code file} (atomically). */
  public void write(Path file, ObjectNode state) {
    List<SafetensorsWriter.Entry> entries = new ArrayList<>();
    arrays.forEach((k, v) -> entries.add(new SafetensorsWriter.Entry(k, DType.F32, Shape.of(v.length))));
    Map<String, String> md = new LinkedHashMap<>();
    md.put("format", "graft-evolve");
    try {
      md.put(STATE_KEY, JSON.writeValueAsString(state));
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
    try (SafetensorsWriter w = SafetensorsWriter.createFile(file, entries, md)) {
      arrays.forEach((k, v) -> w.writeFloats(k, 0, v, 0, v.length));
      w.finish();
    }
  }

  /**
   * Reads a checkpoint.
   *
   * @return the store and its state
   */
  public static Loaded read(Path file) {
    try (Checkpoint c = Checkpoint.open(file)) {
      String json = c.metadata().get(STATE_KEY);
      if (json == null) {
        throw new InvalidInputException(file + " is not a Graft evolution checkpoint (no " + STATE_KEY + " in its metadata)");
      }
      Map<String, float[]> a = new LinkedHashMap<>();
      for (String name : c.tensors().keySet()) {
        a.put(name, c.readFloats(name));
      }
      return new Loaded(new GenomeStore(a), (ObjectNode) JSON.readTree(json));
    } catch (IOException e) {
      throw new InvalidInputException("cannot read checkpoint " + file + ": " + e.getMessage(), e);
    }
  }

  /**
   * A checkpoint read back.
   *
   * @param store its arrays
   * @param state its JSON state
   */
  public record Loaded(GenomeStore store, ObjectNode state) {}
}
