package dev.graft.spark;

import dev.graft.evolve.BatchEvaluator;
import dev.graft.evolve.CandidateEvaluator;
import dev.graft.evolve.Genome;
import dev.graft.evolve.LocalEvaluation;
import dev.graft.evolve.Result;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutionException;
import org.apache.spark.SparkEnv;
import org.apache.spark.api.java.JavaFutureAction;
import org.apache.spark.api.java.JavaSparkContext;
import org.apache.spark.api.java.function.FlatMapFunction;

/**
 * Scores each batch of candidates on a Spark cluster. A batch is cut into one partition per executor core (tasks of
 * one candidate each would cost 5–14 ms apiece in scheduling), each partition runs as its own job, and executors keep
 * the run's models and tasks across generations ({@link ExecutorCache}).
 *
 * <p>Failures: Spark retries the tasks of a lost executor elsewhere (up to {@code spark.task.maxFailures}). When a
 * partition still fails because its executors kept dying, its candidates run again one per job, so that only the
 * candidate that kills its executor (a native abort, an out-of-memory exit) is recorded as failed, with Spark's
 * reason, and the others get their scores. Any other failure (the cluster gone, classes or files missing on the
 * executors) stops the run with the reason: it can be resumed.
 */
public final class SparkBatchEvaluator implements BatchEvaluator {
  private final JavaSparkContext sc;
  private final EvaluatorSource source;
  private final boolean ownsContext;
  private final Map<String, Executor> executors = new ConcurrentHashMap<>();

  /**
   * An executor that returned results.
   *
   * @param pid its process id
   * @param loads how many times it opened the run's source (1: loaded once, kept across generations)
   */
  public record Executor(long pid, int loads) {}

  /**
   * @param ownsContext stop the context on {@link #close}
   */
  public SparkBatchEvaluator(JavaSparkContext sc, EvaluatorSource source, boolean ownsContext) {
    this.sc = sc;
    this.source = source;
    this.ownsContext = ownsContext;
  }

  /** The Spark context (for listeners and tests). */
  public JavaSparkContext context() {
    return sc;
  }

  /** Every executor that returned a result so far, by Spark executor id. */
  public Map<String, Executor> executors() {
    return Map.copyOf(executors);
  }

  @Override
  public int parallelism() {
    return Math.max(1, sc.defaultParallelism());
  }

  private record Job(List<Wire.Work> work, JavaFutureAction<List<Wire.Done>> future) {}

  @Override
  public void evaluate(List<Genome> genomes, Sink sink) {
    if (genomes.isEmpty()) {
      return;
    }
    int p = Math.min(genomes.size(), parallelism());
    List<List<Wire.Work>> parts = new ArrayList<>();
    for (int i = 0; i < p; i++) {
      parts.add(new ArrayList<>());
    }
    for (int i = 0; i < genomes.size(); i++) {
      parts.get(i % p).add(Wire.Work.of(i, genomes.get(i)));
    }
    sc.setJobDescription("graft: score " + genomes.size() + " candidates");
    List<Job> jobs = parts.stream().map(this::submit).toList();
    List<Job> singles = new ArrayList<>();
    for (Job j : jobs) {
      String lost = await(j, sink);
      if (lost != null) {
        if (j.work().size() == 1) {
          sink.done(j.work().get(0).index(), Result.failed(lost, 0));
        } else { // find the candidate that kills its executor: one job each
          j.work().forEach(w -> singles.add(submit(List.of(w))));
        }
      }
    }
    for (Job j : singles) {
      String lost = await(j, sink);
      if (lost != null) {
        sink.done(j.work().get(0).index(), Result.failed(lost, 0));
      }
    }
  }

  private Job submit(List<Wire.Work> work) {
    return new Job(work, sc.parallelize(work, 1).mapPartitions(new Score(source)).collectAsync());
  }

  /** Delivers a job's results; returns why its executors were lost, or null. Throws on any other failure. */
  private String await(Job j, Sink sink) {
    List<Wire.Done> done;
    try {
      done = j.future().get();
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      j.future().cancel(true);
      throw new IllegalStateException("interrupted while the cluster scored candidates", e);
    } catch (ExecutionException e) {
      String m = String.valueOf(e.getCause() == null ? e.getMessage() : e.getCause().getMessage());
      if (sc.sc().isStopped()) {
        throw new IllegalStateException("the connection to the Spark cluster ended (" + firstLine(m) + "); resume the run with --resume", e);
      }
      if (m.contains("ExecutorLostFailure")) {
        return "the evaluation ended the executor process in every attempt: " + lostReason(m);
      }
      throw new IllegalStateException("the cluster could not score candidates: " + firstLine(m)
          + ". Check that every node sees the run's files and runs Graft's jars (see README, Evolution on a cluster); the run can be resumed", e);
    }
    for (Wire.Done d : done) {
      executors.put(d.executor(), new Executor(d.pid(), d.loads()));
      sink.done(d.index(), d.result());
    }
    return null;
  }

  private static String firstLine(String m) {
    return m.lines().findFirst().orElse(m).replaceFirst("^Job aborted due to stage failure: ", "");
  }

  /** The useful part of Spark's abort message: which executor, and the exit reason. */
  static String lostReason(String m) {
    String first = firstLine(m);
    int r = first.indexOf("ExecutorLostFailure");
    return r >= 0 ? first.substring(r) : first;
  }

  @Override
  public void close() {
    if (ownsContext) {
      boolean inProcess = sc.isLocal();
      sc.stop();
      if (inProcess) {
        ExecutorCache.clear(); // local masters run their executor in this JVM
      }
    }
  }

  /** The task: scores a partition's candidates on the executor, with the executor's cached evaluators. */
  record Score(EvaluatorSource source) implements FlatMapFunction<Iterator<Wire.Work>, Wire.Done> {
    @Override
    public Iterator<Wire.Done> call(Iterator<Wire.Work> it) {
      String executor = SparkEnv.get() == null ? "driver" : SparkEnv.get().executorId();
      long pid = ProcessHandle.current().pid();
      List<Wire.Done> out = new ArrayList<>();
      CandidateEvaluator ev = ExecutorCache.take(source);
      try {
        while (it.hasNext()) {
          Wire.Work w = it.next();
          out.add(Wire.Done.of(w.index(), LocalEvaluation.evaluateOne(ev, w.genome()), executor, pid, ExecutorCache.loads()));
        }
      } finally {
        ExecutorCache.give(source, ev);
      }
      return out.iterator();
    }
  }
}
