package dev.graft.spark;

import dev.graft.evolve.BatchEvaluator;
import dev.graft.evolve.Breeder;
import dev.graft.evolve.CandidateEvaluator;
import dev.graft.evolve.Evaluated;
import dev.graft.evolve.Evolution;
import dev.graft.evolve.Genome;
import dev.graft.evolve.LocalEvaluation;
import dev.graft.evolve.Proposal;
import dev.graft.evolve.Result;
import java.io.Serializable;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import org.apache.spark.SimpleFutureAction;
import org.apache.spark.SparkEnv;
import org.apache.spark.api.java.JavaFutureAction;
import org.apache.spark.api.java.JavaRDD;
import org.apache.spark.api.java.JavaSparkContext;
import org.apache.spark.broadcast.Broadcast;
import scala.jdk.javaapi.CollectionConverters;
import scala.runtime.AbstractFunction0;
import scala.runtime.AbstractFunction1;
import scala.runtime.AbstractFunction2;
import scala.runtime.BoxedUnit;

/**
 * Scores each batch of candidates on a Spark cluster: one job per batch, cut into one partition per executor core
 * (tasks of one candidate each would cost 5–14 ms apiece in scheduling), each partition's results recorded as soon as
 * it completes. Executors keep the run's models and tasks across generations ({@link ExecutorCache}). Recipe-space
 * candidates travel as their genes; model-space children as their lineage (parents, split point, ratio, seeds), rebuilt
 * on the executor from their parents' weights, which are broadcast once and kept while they keep having children.
 *
 * <p>Failures: Spark retries the tasks of a lost executor elsewhere (up to {@code spark.task.maxFailures}). When a
 * partition still fails because its executors kept dying, the candidates of the partitions that did not complete run
 * again one per job, so that only the candidate that kills its executor (a native abort, an out-of-memory exit) is recorded as failed, with Spark's
 * reason, and the others get their scores. Any other failure (the cluster gone, classes or files missing on the
 * executors) stops the run with the reason: it can be resumed.
 */
public final class SparkBatchEvaluator implements BatchEvaluator {
  private final JavaSparkContext sc;
  private final EvaluatorSource source;
  private final boolean ownsContext;
  private final AutoCloseable alsoOnClose;
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
    this(sc, source, ownsContext, () -> { });
  }

  /** ... and releases {@code alsoOnClose} (the run's log file) after the context. */
  SparkBatchEvaluator(JavaSparkContext sc, EvaluatorSource source, boolean ownsContext, AutoCloseable alsoOnClose) {
    this.sc = sc;
    this.source = source;
    this.ownsContext = ownsContext;
    this.alsoOnClose = alsoOnClose;
  }

  /** The Spark context (for listeners and tests). */
  public JavaSparkContext context() {
    return sc;
  }

  /** Every executor that returned a result so far, by Spark executor id. */
  public Map<String, Executor> executors() {
    return Map.copyOf(executors);
  }

  /** Evaluations that run at the same time: the cluster's executor cores (one partition each). */
  public int parallelism() {
    return Math.max(1, sc.defaultParallelism());
  }

  /**
   * What went to the executors so far.
   *
   * @param lineages model-space children sent as their lineage
   * @param weights genomes sent as their values (recipe genes, first models, samples without parents)
   * @param broadcasts parents' weights broadcast (each once per executor, kept while they keep having children)
   * @param broadcastBytes their size
   * @param heldOut held-out scores computed on executors
   */
  public record Traffic(long lineages, long weights, long broadcasts, long broadcastBytes, long heldOut) {}

  private long lineages;
  private long sentAsValues;
  private long broadcasts;
  private long broadcastBytes;
  private long batch;
  private long heldOutScores;

  /** Parents' weights broadcast together (those first needed in one batch), and the last batch that used one of them. */
  private static final class Shared {
    final Broadcast<HashMap<Long, byte[]>> data;
    long lastUsed;

    Shared(Broadcast<HashMap<Long, byte[]>> data) {
      this.data = data;
    }
  }

  /** For each broadcast parent (by candidate id), the broadcast that holds it. */
  private final Map<Long, Shared> shared = new HashMap<>();

  /** What went to the executors so far. */
  public synchronized Traffic traffic() {
    return new Traffic(lineages, sentAsValues, broadcasts, broadcastBytes, heldOutScores);
  }

  @Override
  public void evaluate(List<Proposal> proposals, Sink sink) {
    if (proposals.isEmpty()) {
      return;
    }
    List<Wire.Work> work = new ArrayList<>();
    synchronized (this) {
      batch++;
      share(proposals);
      for (int i = 0; i < proposals.size(); i++) {
        work.add(work(i, proposals.get(i)));
      }
    }
    sc.setJobDescription("graft: score " + proposals.size() + " candidates");
    try {
      score(work, sink);
    } finally {
      release();
    }
  }

  private static boolean asLineage(Proposal p) {
    return p.genome() instanceof Genome.Flat && !p.parents().isEmpty();
  }

  /**
   * Broadcasts, in one variable, the weights of the parents this batch needs that the cluster does not hold yet: each
   * executor fetches it once (one round trip per batch, not one per parent) and keeps it while its parents keep having
   * children.
   */
  private void share(List<Proposal> proposals) {
    HashMap<Long, byte[]> fresh = new LinkedHashMap<>();
    for (Proposal p : proposals) {
      if (asLineage(p)) {
        for (Evaluated e : p.parents()) {
          if (!shared.containsKey(e.id()) && !fresh.containsKey(e.id())) {
            fresh.put(e.id(), Wire.bytes((Genome.Flat) e.genome()));
          }
        }
      }
    }
    if (fresh.isEmpty()) {
      return;
    }
    Shared s = new Shared(sc.broadcast(fresh));
    for (Map.Entry<Long, byte[]> e : fresh.entrySet()) {
      shared.put(e.getKey(), s);
      broadcasts++;
      broadcastBytes += e.getValue().length;
    }
  }

  /** A model-space child goes as its lineage (its parents already broadcast); anything else as its values. */
  private Wire.Work work(int index, Proposal p) {
    if (!asLineage(p)) {
      sentAsValues++;
      return Wire.Work.of(index, p.genome());
    }
    long[] ids = new long[p.parents().size()];
    List<Broadcast<HashMap<Long, byte[]>>> from = new ArrayList<>();
    for (int j = 0; j < ids.length; j++) {
      ids[j] = p.parents().get(j).id();
      Shared s = shared.get(ids[j]);
      s.lastUsed = batch;
      from.add(s.data);
    }
    lineages++;
    return new Wire.Work(index, null, null, new Wire.Lineage(ids, from, p.origin().toString(), p.genome().hash()));
  }

  /** Frees the broadcasts none of whose parents had a child in the last two batches (archives and populations move on). */
  private synchronized void release() {
    java.util.Set<Shared> stale = new java.util.HashSet<>();
    shared.values().stream().filter(s -> s.lastUsed < batch - 1).forEach(stale::add);
    if (!stale.isEmpty()) {
      shared.values().removeIf(stale::contains);
      stale.forEach(s -> s.data.destroy());
    }
  }

  private void score(List<Wire.Work> work, Sink sink) {
    boolean[] delivered = new boolean[work.size()];
    String lost = run(work, Math.min(work.size(), parallelism()), sink, delivered);
    if (lost == null) {
      return;
    }
    // the partitions that failed: their candidates one per job, so that only the one that kills its executor fails
    List<Wire.Work> left = work.stream().filter(w -> !delivered[w.index()]).toList();
    if (left.size() == 1) {
      sink.done(left.get(0).index(), Result.failed(lost, 0));
      return;
    }
    List<Thread> threads = new ArrayList<>();
    List<RuntimeException> errors = java.util.Collections.synchronizedList(new ArrayList<>());
    for (Wire.Work w : left) {
      threads.add(Thread.ofVirtual().start(() -> {
        try {
          String why = run(List.of(w), 1, sink, delivered);
          if (why != null) {
            sink.done(w.index(), Result.failed(why, 0));
          }
        } catch (RuntimeException e) {
          errors.add(e);
        }
      }));
    }
    for (Thread t : threads) {
      try {
        t.join();
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        throw new IllegalStateException("interrupted while the cluster scored candidates", e);
      }
    }
    if (!errors.isEmpty()) {
      throw errors.get(0);
    }
  }

  /**
   * Runs one job of {@code slices} partitions, delivering each partition's results as it completes. Returns null when
   * every partition completed, or why the executors of a failed one were lost; throws on any other failure.
   */
  private String run(List<Wire.Work> work, int slices, Sink sink, boolean[] delivered) {
    JavaRDD<Wire.Work> rdd = sc.parallelize(work, slices);
    List<Object> parts = new ArrayList<>();
    for (int i = 0; i < slices; i++) {
      parts.add(i);
    }
    AbstractFunction2<Object, ArrayList<Wire.Done>, BoxedUnit> handler = new AbstractFunction2<>() {
      @Override
      public BoxedUnit apply(Object partition, ArrayList<Wire.Done> done) {
        for (Wire.Done d : done) {
          executors.put(d.executor(), new Executor(d.pid(), d.loads()));
          delivered[d.index()] = true;
          sink.done(d.index(), d.result());
        }
        return BoxedUnit.UNIT;
      }
    };
    SimpleFutureAction<Object> job = sc.sc().submitJob(rdd.rdd(), new Score(source), CollectionConverters.asScala(parts).toSeq(), handler,
        new AbstractFunction0<>() {
          @Override
          public Object apply() {
            return null;
          }
        });
    try {
      awaitWithExecutors(job);
      job.get(); // Scala: throws SparkException (and InterruptedException) undeclared
      return null;
    } catch (IllegalStateException e) {
      throw e;
    } catch (Exception e) {
      if (e instanceof InterruptedException) {
        Thread.currentThread().interrupt();
        job.cancel();
        throw new IllegalStateException("interrupted while the cluster scored candidates", e);
      }
      String m = rootMessage(e);
      if (sc.sc().isStopped()) {
        throw new IllegalStateException("the connection to the Spark cluster ended (" + firstLine(m) + "); resume the run with --resume", e);
      }
      if (m.contains("ExecutorLostFailure")) {
        return "the evaluation ended the executor process in every attempt: " + lostReason(m);
      }
      throw new IllegalStateException("the cluster could not score candidates: " + firstLine(m)
          + ". Check that every node sees the run's files and runs Graft's jars (see README, Evolution on a cluster); the run can be resumed", e);
    }
  }

  /**
   * How long a job may wait with no executor at all before the run stops (Spark itself would wait forever); the system
   * property {@code graft.cluster.wait.seconds}, 180 by default.
   */
  private final long noExecutorSeconds = Long.getLong("graft.cluster.wait.seconds", 180);

  /**
   * Scores {@code genome} on the held-out splits on an executor (one task, on the executor's open run), so that the
   * driver needs neither the evaluation's device nor its time; on the driver ({@code local}) only when the cluster
   * cannot (its failure logged in {@code spark.log}).
   */
  @Override
  public Evolution.HeldOutScore heldOut(Genome genome, Evolution.HeldOut local) {
    sc.setJobDescription("graft: held-out score of the best");
    JavaFutureAction<List<Wire.Held>> job = sc.parallelize(List.of(Wire.Work.of(0, genome)), 1).map(new HeldOutTask(source)).collectAsync();
    try {
      awaitWithExecutors(job, () -> job.cancel(true));
      Evolution.HeldOutScore score = job.get().get(0).score();
      synchronized (this) {
        heldOutScores++;
      }
      return score;
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      job.cancel(true);
      throw new IllegalStateException("interrupted while the cluster scored the held-out splits", e);
    } catch (java.util.concurrent.ExecutionException | RuntimeException e) {
      if (sc.sc().isStopped()) {
        throw new IllegalStateException("the connection to the Spark cluster ended (" + firstLine(rootMessage(e)) + "); resume the run with --resume", e);
      }
      org.slf4j.LoggerFactory.getLogger(SparkBatchEvaluator.class).warn("graft: the cluster could not score the best on the held-out splits ({});"
          + " scoring it on the driver", firstLine(rootMessage(e)));
      return local.evaluate(genome);
    }
  }

  /** The held-out task: scores one genome with the executor's held-out scorer of the open run. */
  static final class HeldOutTask implements org.apache.spark.api.java.function.Function<Wire.Work, Wire.Held> {
    private static final long serialVersionUID = 1L;
    private final EvaluatorSource source;

    HeldOutTask(EvaluatorSource source) {
      this.source = source;
    }

    @Override
    public Wire.Held call(Wire.Work w) {
      Evolution.HeldOut h = ExecutorCache.heldOut(source);
      synchronized (h) {
        return Wire.Held.of(h.evaluate(w.genome(null, Map.of())));
      }
    }
  }

  /** Waits for {@code job}, see {@link #awaitWithExecutors(java.util.concurrent.Future, Runnable)}. */
  private void awaitWithExecutors(SimpleFutureAction<Object> job) throws InterruptedException {
    java.util.concurrent.CompletableFuture<Void> done = new java.util.concurrent.CompletableFuture<>();
    job.onComplete(new AbstractFunction1<scala.util.Try<Object>, Object>() {
      @Override
      public Object apply(scala.util.Try<Object> t) {
        done.complete(null);
        return null;
      }
    }, scala.concurrent.ExecutionContext$.MODULE$.fromExecutor(Runnable::run));
    awaitWithExecutors(done, job::cancel);
  }

  /**
   * Waits until {@code done}; fails (after {@code cancel}) when the cluster has had no executor for
   * {@link #noExecutorSeconds} seconds (no worker can give the cores and memory asked for, or none is registered),
   * which Spark only reports as a repeated warning.
   */
  private void awaitWithExecutors(java.util.concurrent.Future<?> done, Runnable cancel) throws InterruptedException {
    long since = System.nanoTime();
    while (true) {
      try {
        done.get(2, java.util.concurrent.TimeUnit.SECONDS);
        return;
      } catch (java.util.concurrent.TimeoutException e) {
        if (sc.isLocal() || sc.statusTracker().getExecutorInfos().length > 1) { // the driver counts as one
          since = System.nanoTime();
        } else if ((System.nanoTime() - since) / 1e9 > noExecutorSeconds) {
          cancel.run();
          throw new IllegalStateException("no executor joined the run in " + noExecutorSeconds + " s: " + sc.master()
              + " has no worker with the free cores and memory asked for (spark.executor.memory=" + sc.getConf().get("spark.executor.memory", "1g")
              + ", spark.executor.cores=" + sc.getConf().get("spark.executor.cores", "all of a worker's") + "), or no worker at all."
              + " Start workers (bin/graft-spark worker) or ask for less with --spark-conf; the run can be resumed");
        }
      } catch (java.util.concurrent.ExecutionException e) {
        return;
      }
    }
  }

  /** The message of the innermost cause that has one (Spark wraps the job's failure in "Exception thrown in awaitResult"). */
  static String rootMessage(Throwable e) {
    String m = String.valueOf(e.getMessage());
    for (Throwable t = e; t != null; t = t.getCause()) {
      if (t.getMessage() != null && !t.getMessage().isBlank()) {
        m = t.getMessage().strip();
      }
      if (t.getCause() == t) {
        break;
      }
    }
    return m;
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
    try {
      Traffic t = traffic();
      org.slf4j.LoggerFactory.getLogger(SparkBatchEvaluator.class).info(
          "graft: {} children sent as lineages, {} genomes as values, {} parents broadcast ({} bytes); {} held-out scores on executors",
          t.lineages(), t.weights(), t.broadcasts(), t.broadcastBytes(), t.heldOut());
      if (ownsContext) {
        boolean inProcess = sc.isLocal();
        sc.stop();
        if (inProcess) {
          ExecutorCache.clear(); // local masters run their executor in this JVM
        }
      }
    } finally {
      SparkEvaluation.closeQuietly(alsoOnClose);
    }
  }

  /** The task: scores a partition's candidates on the executor, with the executor's cached evaluators. */
  static final class Score extends AbstractFunction1<scala.collection.Iterator<Wire.Work>, ArrayList<Wire.Done>> implements Serializable {
    private static final long serialVersionUID = 1L;
    private final EvaluatorSource source;

    Score(EvaluatorSource source) {
      this.source = source;
    }

    @Override
    public ArrayList<Wire.Done> apply(scala.collection.Iterator<Wire.Work> it) {
      String executor = SparkEnv.get() == null ? "driver" : SparkEnv.get().executorId();
      long pid = ProcessHandle.current().pid();
      ArrayList<Wire.Done> out = new ArrayList<>();
      CandidateEvaluator ev = ExecutorCache.take(source);
      Breeder breeder = ExecutorCache.breeder();
      Map<Long, Genome.Flat> parents = new HashMap<>(); // this task's parents, decoded once
      try {
        while (it.hasNext()) {
          Wire.Work w = it.next();
          Genome g = w.genome(breeder, parents);
          out.add(Wire.Done.of(w.index(), LocalEvaluation.evaluateOne(ev, g), executor, pid, ExecutorCache.loads()));
        }
      } finally {
        ExecutorCache.give(source, ev);
      }
      return out;
    }
  }
}
