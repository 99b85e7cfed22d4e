package dev.graft.cli;

import dev.graft.io.ByteSize;
import dev.graft.io.Progress;
import java.io.PrintWriter;
import java.util.Locale;

/**
 * A live progress line on stderr: units done, bytes, rate and ETA, redrawn at most every 200 ms (in place on a
 * terminal, as plain lines every 5 s otherwise).
 */
final class ProgressLine implements Progress {
  private final PrintWriter err;
  private final String label;
  private final String unit;
  private final boolean terminal;
  private final long start = System.nanoTime();
  private long lastDraw = start;
  private boolean drawn;
  private volatile String detail = "";

  ProgressLine(PrintWriter err, String label, String unit, boolean quiet) {
    this.err = quiet ? null : err;
    this.label = label;
    this.unit = unit;
    this.terminal = System.console() != null;
  }

  @Override
  public synchronized void update(long done, long total, long bytes, long totalBytes) {
    if (err == null) {
      return;
    }
    long now = System.nanoTime();
    boolean last = done >= total;
    if (!last && now - lastDraw < (terminal ? 200_000_000L : 5_000_000_000L)) {
      return;
    }
    lastDraw = now;
    double secs = Math.max(1e-9, (now - start) / 1e9);
    String line;
    if (totalBytes > 0) {
      double rate = bytes / secs;
      double eta = rate > 0 ? (totalBytes - bytes) / rate : 0;
      line = String.format(Locale.ROOT, "%s %3d%% %d/%d %s, %s of %s, %s/s, ETA %s", label,
          total == 0 ? 100 : done * 100 / total, done, total, unit, ByteSize.format(bytes), ByteSize.format(totalBytes),
          ByteSize.format((long) rate), last ? "0s" : formatSecs(eta));
    } else {
      // Counting units only: the ETA follows the rate of units.
      double eta = done > 0 ? (total - done) * secs / done : 0;
      line = String.format(Locale.ROOT, "%s %3d%% %d/%d %s, %s elapsed, ETA %s", label, total == 0 ? 100 : done * 100 / total, done, total, unit,
          formatSecs(secs), last ? "0s" : formatSecs(eta));
    }
    line += detail;
    if (terminal) {
      err.print("\r" + line + "   ");
    } else {
      err.println(line);
    }
    drawn = true;
    err.flush();
  }

  /** Text appended to the line from the next redraw on (e.g. ", best 0.93"). */
  void detail(String text) {
    detail = text;
  }

  /** Ends the line on a terminal. */
  synchronized void finish() {
    if (err != null && terminal && drawn) {
      err.println();
      err.flush();
    }
  }

  /** A line per sweep of weight matching ("align MODEL sweep N"), kept in {@code bar[0]} so the caller can finish it. */
  static dev.graft.align.WeightMatching.Listener perSweep(PrintWriter err, String model, QuietOption quiet, ProgressLine[] bar) {
    int[] shown = {0};
    return (sweep, done, total, perm) -> {
      if (sweep != shown[0]) {
        if (bar[0] != null) {
          bar[0].finish();
        }
        bar[0] = quiet.progress(err, "align " + model + " sweep " + sweep, "permutations");
        shown[0] = sweep;
      }
      bar[0].update(done, total, 0, 0);
    };
  }

  /**
   * Progress of an evolution: a line of evaluations (or seconds, for a time budget), with the generation, the best
   * fitness and its held-out score appended as they come; a new line for each run.
   */
  static Evolution evolution(PrintWriter err, QuietOption quiet) {
    return new Evolution(err, quiet);
  }

  /** The progress of evolution runs (see {@link #evolution}); {@link #finish()} ends a line a run left open. */
  static final class Evolution implements dev.graft.evolve.Evolution.Listener {
    private final PrintWriter err;
    private final QuietOption quiet;
    private ProgressLine bar;

    Evolution(PrintWriter err, QuietOption quiet) {
      this.err = err;
      this.quiet = quiet;
    }

    @Override
    public synchronized void evaluated(long evaluations, long budget, double secs, double budgetSeconds) {
      boolean byEvals = budget > 0;
      if (bar == null) {
        bar = quiet.progress(err, "evolve", byEvals ? "evaluations" : "s");
      }
      long done = byEvals ? evaluations : (long) secs;
      long total = byEvals ? budget : (long) budgetSeconds;
      bar.update(done, total, 0, 0);
      if (done >= total) {
        finish();
      }
    }

    @Override
    public synchronized void generation(dev.graft.evolve.Evolution.Generation g) {
      if (bar != null && g.best() != null) {
        bar.detail(String.format(Locale.ROOT, ", generation %d, best %.4f%s", g.index(), g.best().fitness(),
            g.heldOut() == null ? "" : String.format(Locale.ROOT, " (held-out %.4f)", g.heldOut().fitness())));
      }
    }

    synchronized void finish() {
      if (bar != null) {
        bar.finish();
        bar = null;
      }
    }
  }

  static String formatSecs(double s) {
    if (s < 60) {
      return String.format(Locale.ROOT, "%.0fs", s);
    }
    return String.format(Locale.ROOT, "%dm%02ds", (long) s / 60, (long) s % 60);
  }
}
