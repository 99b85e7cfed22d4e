package dev.graft.cli;

import java.io.PrintWriter;
import picocli.CommandLine.Option;

/** Options shared by commands that do long, parallel work: worker threads and the progress line. */
final class WorkOptions {
  @Option(names = "--threads", paramLabel = "N", description = "Worker threads (default: all cores).")
  Integer threads;

  @Option(names = {"-q", "--quiet"}, description = "No progress line.")
  boolean quiet;

  /** The thread count to use: all cores by default; a bad value is a usage error (exit code 2). */
  int threads() {
    int n = threads == null ? Runtime.getRuntime().availableProcessors() : threads;
    if (n < 1) {
      throw new GraftCommand.UsageException("--threads must be >= 1, found " + n);
    }
    return n;
  }

  ProgressLine progress(PrintWriter err, String label, String unit) {
    return new ProgressLine(err, label, unit, quiet);
  }
}
