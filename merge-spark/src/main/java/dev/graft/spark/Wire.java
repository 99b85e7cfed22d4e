package dev.graft.spark;

import dev.graft.evolve.Genome;
import dev.graft.evolve.Result;
import java.io.Serializable;
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
   * @param weights model-space weights, or null
   */
  record Work(int index, double[] genes, float[] weights) implements Serializable {
    static Work of(int index, Genome g) {
      return switch (g) {
        case Genome.Genes x -> new Work(index, x.values(), null);
        case Genome.Flat x -> new Work(index, null, x.values());
      };
    }

    Genome genome() {
      return genes != null ? new Genome.Genes(genes) : new Genome.Flat(weights);
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
