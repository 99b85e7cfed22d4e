package dev.graft.evolve;

import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ArrayBlockingQueue;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.function.Supplier;

/** Evaluation on threads of this JVM: one {@link CandidateEvaluator} per thread, opened once and kept for the run. */
public final class LocalEvaluation implements BatchEvaluator {
  private final List<CandidateEvaluator> opened = new ArrayList<>();
  private final BlockingQueue<CandidateEvaluator> pool;
  private final ExecutorService workers;

  public LocalEvaluation(Supplier<CandidateEvaluator> evaluators, int threads) {
    if (threads < 1) {
      throw new IllegalArgumentException("threads < 1");
    }
    this.pool = new ArrayBlockingQueue<>(threads);
    this.workers = threads > 1 ? Executors.newFixedThreadPool(threads, r -> {
      Thread t = new Thread(r, "graft-evaluator");
      t.setDaemon(true);
      return t;
    }) : null;
    try {
      for (int i = 0; i < threads; i++) {
        CandidateEvaluator ev = evaluators.get();
        opened.add(ev);
        pool.add(ev);
      }
    } catch (RuntimeException | Error e) {
      close();
      throw e;
    }
  }

  /** Evaluates one genome with an evaluator; a failure the candidate causes becomes a failed result. */
  public static Result evaluateOne(CandidateEvaluator ev, Genome g) {
    long t0 = System.nanoTime();
    try {
      return ev.evaluate(g);
    } catch (RuntimeException e) {
      return Result.failed(Evaluators.reason(e), (System.nanoTime() - t0) / 1e9);
    }
  }

  @Override
  public void evaluate(List<Proposal> proposals, Sink sink) {
    Runnable[] jobs = new Runnable[proposals.size()];
    for (int j = 0; j < jobs.length; j++) {
      int i = j;
      jobs[j] = () -> {
        CandidateEvaluator ev = take();
        Result r;
        try {
          r = evaluateOne(ev, proposals.get(i).genome());
        } finally {
          pool.add(ev);
        }
        sink.done(i, r);
      };
    }
    if (workers == null || jobs.length == 1) {
      for (Runnable r : jobs) {
        r.run();
      }
      return;
    }
    List<Future<?>> fs = new ArrayList<>();
    for (Runnable r : jobs) {
      fs.add(workers.submit(r));
    }
    for (Future<?> f : fs) {
      try {
        f.get();
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        throw new IllegalStateException("interrupted", e);
      } catch (ExecutionException e) {
        if (e.getCause() instanceof Error err) {
          throw err;
        }
        throw e.getCause() instanceof RuntimeException re ? re : new IllegalStateException(e.getCause());
      }
    }
  }

  private CandidateEvaluator take() {
    try {
      return pool.take();
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new IllegalStateException("interrupted", e);
    }
  }

  @Override
  public void close() {
    if (workers != null) {
      workers.shutdownNow();
    }
    opened.forEach(CandidateEvaluator::close);
  }
}
