package dev.graft.cli;

import java.io.PrintWriter;
import dev.graft.align.WeightMatching;
import dev.graft.io.Progress;
import dev.graft.plan.MergePlan;
import dev.graft.plan.MergeRunner;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

/** Options shared by commands that do long, parallel work: worker threads and the progress line. */
final class WorkOptions {
  @Option(names = "--threads", paramLabel = "N", description = "Worker threads (default: all cores).")
  Integer threads;

  @Mixin QuietOption quiet;

  /** The thread count to use: all cores by default; a bad value is a usage error (exit code 2). */
  int threads() {
    int n = threads == null ? Runtime.getRuntime().availableProcessors() : threads;
    if (n < 1) {
      throw new GraftCommand.UsageException("--threads must be >= 1, found " + n);
    }
    return n;
  }

  ProgressLine progress(PrintWriter err, String label, String unit) {
    return quiet.progress(err, label, unit);
  }

  /**
   * Progress of a merge run: a line per stage ("merge", or "stage i/n NAME") and, for stages with an {@code align:}
   * step, a line per sweep; the current line is kept in {@code bar[0]} so the caller can finish it.
   */
  MergeRunner.Listener mergeProgress(PrintWriter err, ProgressLine[] bar) {
    return new MergeRunner.Listener() {
      @Override
      public Progress stage(int i, int n, MergePlan p) {
        if (bar[0] != null) {
          bar[0].finish();
        }
        String label = n == 1 ? "merge" : "stage " + (i + 1) + "/" + n + (p.recipe().name() == null ? "" : " " + p.recipe().name());
        bar[0] = progress(err, label, "tensors");
        return bar[0];
      }

      @Override
      public WeightMatching.Listener aligning(String model) {
        return ProgressLine.perSweep(err, model, quiet, bar);
      }
    };
  }
}
