package dev.graft.cli;

import java.io.PrintWriter;
import picocli.CommandLine.Option;

/** The {@code -q} option of commands that show a progress line. */
final class QuietOption {
  @Option(names = {"-q", "--quiet"}, description = "No progress line.")
  boolean quiet;

  ProgressLine progress(PrintWriter err, String label, String unit) {
    return new ProgressLine(err, label, unit, quiet);
  }
}
