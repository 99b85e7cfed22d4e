package dev.graft.spark;

import dev.graft.evolve.Genome;
import dev.graft.evolve.Result;
import java.io.Serializable;
import java.lang.foreign.MemorySegment;
import java.util.LinkedHashMap;
import java.util.Map;

/** What travels between the driver and executors: genomes out, results back (Java serialisation of records). */
final class Wire {
  private Wire() {}

  /**
   * One candidate to score.
   *
   * @param index its position in the batch
   * @param genes recipe-space genes, or null
   * @param weights model-space weights as little-endian float32 bytes, or null (Java serialisation writes a byte[] as
   *     one block but a float[] one element at a time, 3-4x slower for the megabytes of a model-space batch)
   */
  record Work(int index, double[] genes, byte[] weights) implements Serializable {
    static Work of(int index, Genome g) {
      return switch (g) {
        case Genome.Genes x -> new Work(index, x.values(), null);
        case Genome.Flat x -> {
          byte[] b = new byte[x.size() * Float.BYTES];
          MemorySegment.ofArray(b).copyFrom(MemorySegment.ofArray(x.values()));
          yield new Work(index, null, b);
        }
      };
    }

    Genome genome() {
      if (genes != null) {
        return new Genome.Genes(genes);
      }
      float[] w = new float[weights.length / Float.BYTES];
      MemorySegment.ofArray(w).copyFrom(MemorySegment.ofArray(weights));
      return new Genome.Flat(w);
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
