package dev.graft.spark;

import com.fasterxml.jackson.core.JsonProcessingException;
import dev.graft.evolve.Breeder;
import dev.graft.evolve.Evolution;
import dev.graft.evolve.Genome;
import dev.graft.evolve.Result;
import java.io.Serializable;
import java.lang.foreign.MemorySegment;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.apache.spark.broadcast.Broadcast;

/** What travels between the driver and executors: genomes or lineages out, results back (Java serialisation of records). */
final class Wire {
  private static final com.fasterxml.jackson.databind.ObjectMapper JSON = new com.fasterxml.jackson.databind.ObjectMapper();

  private Wire() {}

  /**
   * One candidate to score: its genes, its weights, or (a model-space child) its lineage.
   *
   * @param index its position in the batch
   * @param genes recipe-space genes, or null
   * @param weights model-space weights as little-endian float32 bytes, or null (Java serialisation writes a byte[] as
   *     one block but a float[] one element at a time, 3-4x slower for the megabytes of a model-space batch)
   * @param lineage how to rebuild it from its parents, or null
   */
  record Work(int index, double[] genes, byte[] weights, Lineage lineage) implements Serializable {
    static Work of(int index, Genome g) {
      return switch (g) {
        case Genome.Genes x -> new Work(index, x.values(), null, null);
        case Genome.Flat x -> new Work(index, null, bytes(x), null);
      };
    }

    /** The genome: as sent, or rebuilt by {@code breeder} from the parents' broadcast weights ({@code parents} caches them). */
    Genome genome(Breeder breeder, Map<Long, Genome.Flat> parents) {
      if (genes != null) {
        return new Genome.Genes(genes);
      }
      if (weights != null) {
        return flat(weights);
      }
      return lineage.rebuild(breeder, parents);
    }
  }

  /**
   * A child described by its lineage (algorithms.md §2.5's crossover and mutation with every draw recorded): the
   * parents' weights travel once per executor in broadcast variables, the child as a few numbers.
   *
   * @param parents the parents' candidate ids, parent 1 first
   * @param from for each parent, the broadcast that holds its weights (by candidate id)
   * @param origin the lineage record (JSON: split point, ratio, seeds)
   * @param hash the child's {@link Genome#hash()} on the driver, checked after rebuilding
   */
  record Lineage(long[] parents, List<Broadcast<HashMap<Long, byte[]>>> from, String origin, long hash) implements Serializable {
    Genome rebuild(Breeder breeder, Map<Long, Genome.Flat> cache) {
      if (breeder == null) {
        throw new IllegalStateException("a candidate came as a lineage but the executor's source cannot rebuild children");
      }
      List<Genome> ps = new ArrayList<>();
      for (int j = 0; j < parents.length; j++) {
        Broadcast<HashMap<Long, byte[]>> b = from.get(j);
        ps.add(cache.computeIfAbsent(parents[j], id -> flat(b.value().get(id))));
      }
      Genome g;
      try {
        g = breeder.rebuild(ps, JSON.readTree(origin));
      } catch (JsonProcessingException e) {
        throw new IllegalStateException("unreadable lineage " + origin, e);
      }
      if (g.hash() != hash) {
        throw new IllegalStateException("a child rebuilt from its lineage differs from the driver's (hash " + Long.toHexString(g.hash())
            + " instead of " + Long.toHexString(hash) + "): the executors run another Graft build or backend than the driver. Lineage: " + origin);
      }
      return g;
    }
  }

  static byte[] bytes(Genome.Flat x) {
    byte[] b = new byte[x.size() * Float.BYTES];
    MemorySegment.ofArray(b).copyFrom(MemorySegment.ofArray(x.values()));
    return b;
  }

  private static Genome.Flat flat(byte[] b) {
    float[] w = new float[b.length / Float.BYTES];
    MemorySegment.ofArray(w).copyFrom(MemorySegment.ofArray(b));
    return new Genome.Flat(w);
  }

  /**
   * A held-out score.
   *
   * @param tasks primary metric per held-out task
   * @param fitness their weighted mean
   */
  record Held(LinkedHashMap<String, Double> tasks, double fitness) implements Serializable {
    static Held of(Evolution.HeldOutScore s) {
      return new Held(new LinkedHashMap<>(s.tasks()), s.fitness());
    }

    Evolution.HeldOutScore score() {
      return new Evolution.HeldOutScore(tasks, fitness);
    }
  }

  /**
   * One result.
   *
   * @param index the candidate's position in the batch
   * @param fitness its fitness
   * @param tasks primary metric per task
   * @param examples per-example scores, or null
   * @param error why it failed, or null
   * @param seconds evaluation time
   * @param executor the Spark executor id that scored it
   * @param pid that executor's process id
   * @param loads how many times that process has opened a source so far
   */
  record Done(int index, double fitness, LinkedHashMap<String, Double> tasks, float[] examples, String error, double seconds,
      String executor, long pid, int loads) implements Serializable {
    static Done of(int index, Result r, String executor, long pid, int loads) {
      return new Done(index, r.fitness(), new LinkedHashMap<>(r.tasks()), r.examples(), r.error(), r.seconds(), executor, pid, loads);
    }

    Result result() {
      Map<String, Double> t = tasks;
      return new Result(fitness, t, examples, error, seconds);
    }
  }
}
