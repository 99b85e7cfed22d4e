package dev.graft.cli;

import dev.graft.evolve.Quickstart;
import java.io.PrintWriter;
import java.nio.file.Path;
import java.util.Locale;
import java.util.concurrent.Callable;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/** {@code graft quickstart}: everything Graft does, offline, in a few minutes on two cores. */
@Command(
    name = "quickstart",
    mixinStandardHelpOptions = true,
    description = {
      "Run the whole of Graft on a small offline example (no downloads, no data",
      "files): train a base classifier on a few procedurally drawn 8x8 digits,",
      "fine-tune two specialists on digits 0-4 and 5-9, merge them (linear, task",
      "arithmetic, TIES, Breadcrumbs, Fisher, aligned average), evolve a recipe",
      "(CMA-ES) and a population (M2N2), and print held-out accuracy per method.",
      "DIR gets report.md with heldout.png, the evolution runs (runs/) and every",
      "model, task and recipe made on the way."
    },
    exitCodeListHeading = "%nExit codes:%n",
    exitCodeList = {"0:success", "1:failure at run time", "2:bad input"})
final class QuickstartCommand implements Callable<Integer> {
  @CommandLine.Spec CommandLine.Model.CommandSpec spec;

  @Option(names = {"-o", "--output"}, defaultValue = "quickstart", paramLabel = "DIR", description = "Output folder (default: ${DEFAULT-VALUE}).")
  Path out;

  @Option(names = "--seed", defaultValue = "1", paramLabel = "N", description = "Seed of everything (default: ${DEFAULT-VALUE}).")
  long seed;

  @CommandLine.Mixin DeviceOption device;

  @CommandLine.Mixin QuietOption quiet;

  @Override
  public Integer call() {
    PrintWriter o = spec.commandLine().getOut();
    PrintWriter err = spec.commandLine().getErr();
    ProgressLine.Evolution progress = ProgressLine.evolution(err, quiet);
    Quickstart.Outcome r = Quickstart.run(out, seed, device.device(), line -> {
      progress.finish();
      if (!quiet.quiet) {
        err.println(line);
        err.flush();
      }
    }, progress);
    progress.finish();
    o.println();
    o.print(Quickstart.table(r.rows(), false));
    o.println();
    o.printf(Locale.ROOT, "held-out = accuracy on digits the optimisers never saw. Report: %s (%.0f s)%n", r.report(), r.seconds());
    o.flush();
    return 0;
  }
}
