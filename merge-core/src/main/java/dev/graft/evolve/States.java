package dev.graft.evolve;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.function.Function;

/** JSON forms of evaluated candidates and numeric arrays, for checkpoints. */
final class States {
  static final ObjectMapper JSON = new ObjectMapper();

  private States() {}

  static ObjectNode evaluated(Evaluated e, GenomeStore s) {
    ObjectNode n = JSON.createObjectNode();
    Candidate c = e.candidate();
    n.put("id", c.id());
    n.put("step", c.step());
    n.set("genome", s.putGenome(c.genome()));
    n.set("origin", c.origin());
    putResult(n, e.result(), s::put);
    n.put("duplicate_of", e.duplicateOf());
    return n;
  }

  static Evaluated evaluated(JsonNode n, GenomeStore s) {
    Candidate c = new Candidate(n.get("id").asLong(), n.get("step").asLong(), s.getGenome(n.get("genome")), (ObjectNode) n.get("origin"));
    return new Evaluated(c, result(n, s::get), n.get("duplicate_of").asLong());
  }

  /**
   * A result's fields into {@code n} (the record's lines and the checkpoints share them): fitness (null when the
   * evaluation failed), per-task scores, per-example scores as {@code examples} encodes them, error, seconds.
   */
  static void putResult(ObjectNode n, Result r, Function<float[], String> examples) {
    if (Double.isFinite(r.fitness())) {
      n.put("fitness", r.fitness());
    } else {
      n.putNull("fitness");
    }
    ObjectNode t = n.putObject("tasks");
    r.tasks().forEach(t::put);
    if (r.examples() != null) {
      n.put("examples", examples.apply(r.examples()));
    }
    if (r.error() != null) {
      n.put("error", r.error());
    }
    n.put("seconds", r.seconds());
  }

  /** The result {@link #putResult} wrote. */
  static Result result(JsonNode n, Function<String, float[]> examples) {
    Map<String, Double> tasks = new LinkedHashMap<>();
    n.get("tasks").fields().forEachRemaining(f -> tasks.put(f.getKey(), f.getValue().asDouble()));
    double fitness = n.path("fitness").isNumber() ? n.get("fitness").asDouble() : Double.NEGATIVE_INFINITY;
    float[] ex = n.has("examples") ? examples.apply(n.get("examples").asText()) : null;
    return new Result(fitness, tasks, ex, n.has("error") ? n.get("error").asText() : null, n.get("seconds").asDouble());
  }

  static ArrayNode list(List<Evaluated> es, GenomeStore s) {
    ArrayNode a = JSON.createArrayNode();
    for (Evaluated e : es) {
      a.add(e == null ? JSON.nullNode() : evaluated(e, s));
    }
    return a;
  }

  static List<Evaluated> list(JsonNode a, GenomeStore s) {
    List<Evaluated> out = new ArrayList<>();
    for (JsonNode n : a) {
      out.add(n.isNull() ? null : evaluated(n, s));
    }
    return out;
  }

  static ArrayNode doubles(double[] v) {
    ArrayNode a = JSON.createArrayNode();
    for (double x : v) {
      a.add(x);
    }
    return a;
  }

  static double[] doubles(JsonNode a) {
    double[] v = new double[a.size()];
    for (int i = 0; i < v.length; i++) {
      v[i] = a.get(i).asDouble();
    }
    return v;
  }

  static ArrayNode matrix(double[][] m) {
    ArrayNode a = JSON.createArrayNode();
    for (double[] row : m) {
      a.add(doubles(row));
    }
    return a;
  }

  static double[][] matrix(JsonNode a) {
    double[][] m = new double[a.size()][];
    for (int i = 0; i < m.length; i++) {
      m[i] = doubles(a.get(i));
    }
    return m;
  }

  static ObjectNode origin(String op) {
    return JSON.createObjectNode().put("op", op);
  }
}
