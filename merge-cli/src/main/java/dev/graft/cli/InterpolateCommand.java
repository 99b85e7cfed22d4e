package dev.graft.cli;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.graft.align.Aligner;
import dev.graft.align.PermutationSpec;
import dev.graft.align.WeightMatching;
import dev.graft.eval.Interpolation;
import dev.graft.io.Checkpoint;
import dev.graft.model.Weights;
import dev.graft.eval.Score;
import dev.graft.eval.Task;
import dev.graft.io.AtomicFiles;
import dev.graft.report.LinePlot;
import java.io.PrintWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.Callable;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

/** {@code graft interpolate}: loss and accuracy along the straight line between two models. */
@Command(
    name = "interpolate",
    mixinStandardHelpOptions = true,
    description = {
      "Evaluate models on the straight line (1-a)*A + a*B between two models of one architecture, on both splits",
      "of a task, and report the barriers (the largest rise of loss, or fall of accuracy, above the straight line",
      "between the end points). Writes OUT/interpolation.json and OUT/interpolation.png (Git Re-Basin's plot)."
    },
    exitCodeListHeading = "%nExit codes:%n",
    exitCodeList = {"0:success", "1:failure at run time", "2:bad input (models, task)"})
final class InterpolateCommand implements Callable<Integer> {
  @CommandLine.Spec CommandLine.Model.CommandSpec spec;

  @Parameters(index = "0", paramLabel = "A", description = "First model folder (α = 0).")
  Path a;

  @Parameters(index = "1", paramLabel = "B", description = "Second model folder (α = 1).")
  Path b;

  @Option(names = "--task", required = true, paramLabel = "TASK.yaml", description = "Task to score every point on.")
  Path task;

  @Option(names = "--points", defaultValue = "25", description = "Points from A to B, ends included (default: ${DEFAULT-VALUE}).")
  int points;

  @Option(names = "--align", description = "Align B to A by weight matching first (needs the permutation-alignment feature; not available yet).")
  boolean align;

  @Option(names = {"-o", "--output"}, required = true, paramLabel = "DIR", description = "Folder for interpolation.json and .png.")
  Path out;

  @CommandLine.Mixin DeviceOption device;

  @CommandLine.Mixin QuietOption quiet;

  @Override
  public Integer call() throws Exception {
    PrintWriter o = spec.commandLine().getOut();
    Task t = Task.read(task);
    Path alignDir = null;
    try {
      Path bAligned = null;
      Aligner.Report report = null;
      if (align) {
        // B is aligned to A first (the models and spec are checked before anything runs), into a temporary folder.
        alignDir = Files.createTempDirectory("graft-interpolate");
        try (Checkpoint ca = Checkpoint.open(a); Checkpoint cb = Checkpoint.open(b)) {
          PermutationSpec ps = Aligner.spec("auto", ca);
          ProgressLine[] bar = {null};
          report = Aligner.align(ps, Weights.of(ca), Weights.of(cb), WeightMatching.Options.defaults(), 0,
              ProgressLine.perSweep(spec.commandLine().getErr(), b.getFileName().toString(), quiet, bar));
          if (bar[0] != null) {
            bar[0].finish();
          }
          bAligned = alignDir.resolve("b");
          Aligner.write(cb, ps, report.matching().perms(), bAligned, Long.MAX_VALUE, a.toString());
        }
      }
      ProgressLine bar = quiet.progress(spec.commandLine().getErr(), "interpolate", "points");
      Interpolation.Result r = Interpolation.run(a, b, t, points, device.device(), bar);
      bar.finish();
      Interpolation.Result ra = null;
      if (bAligned != null) {
        ProgressLine bar2 = quiet.progress(spec.commandLine().getErr(), "interpolate aligned", "points");
        ra = Interpolation.run(a, bAligned, t, points, device.device(), bar2);
        bar2.finish();
      }
      String metric = r.points().get(0).report().fit().metric();
      o.printf("%6s %14s %14s%s%n", "alpha", "fit " + metric, "held " + metric, ra == null ? "" : String.format("%16s %16s", "aligned fit", "aligned held"));
      for (int i = 0; i < r.points().size(); i++) {
        Interpolation.Point p = r.points().get(i);
        o.printf("%6.3f %14.4f %14.4f", p.alpha(), p.report().fit().value(), p.report().heldOut().value());
        if (ra != null) {
          o.printf("%16.4f %16.4f", ra.points().get(i).report().fit().value(), ra.points().get(i).report().heldOut().value());
        }
        o.println();
      }
      r.barriers().forEach((k, v) -> o.printf("barrier %-22s %.4f%n", k, v));
      if (ra != null) {
        ra.barriers().forEach((k, v) -> o.printf("aligned barrier %-14s %.4f%n", k, v));
      }
      ObjectMapper om = new ObjectMapper();
      ObjectNode root = om.createObjectNode();
      root.put("a", a.toString());
      root.put("b", b.toString());
      root.put("task", t.spec().name());
      root.put("aligned", ra != null);
      put(root, r);
      if (ra != null) {
        ObjectNode an = root.putObject("after_alignment");
        an.put("sweeps", report.matching().sweeps().size());
        an.put("permutations_moved", report.moved());
        an.put("l2_before", report.distanceBefore());
        an.put("l2_after", report.distanceAfter());
        put(an, ra);
      }
      AtomicFiles.writeString(out.resolve("interpolation.json"), om.writerWithDefaultPrettyPrinter().writeValueAsString(root) + "\n");
      LinePlot plot = new LinePlot("Interpolation " + a.getFileName() + " → " + b.getFileName() + " on " + t.spec().name(), "α", "value");
      series(plot, r, ra == null ? "" : "naive ");
      if (ra != null) {
        series(plot, ra, "aligned ");
      }
      AtomicFiles.writeBytes(out.resolve("interpolation.png"), plot.png(900, 560));
      o.println("wrote " + out.resolve("interpolation.json") + " and " + out.resolve("interpolation.png"));
      o.flush();
      return 0;
    } finally {
      if (alignDir != null) {
        AtomicFiles.deleteTree(alignDir);
      }
    }
  }

  private static void put(ObjectNode root, Interpolation.Result r) {
    ArrayNode pts = root.putArray("points");
    for (Interpolation.Point p : r.points()) {
      ObjectNode n = pts.addObject();
      n.put("alpha", p.alpha());
      for (Score s : List.of(p.report().fit(), p.report().heldOut())) {
        ObjectNode sn = n.putObject(s.split());
        s.metrics().forEach(sn::put);
      }
    }
    ObjectNode bn = root.putObject("barriers");
    r.barriers().forEach(bn::put);
  }

  private static void series(LinePlot plot, Interpolation.Result r, String prefix) {
    double[] alphas = r.points().stream().mapToDouble(Interpolation.Point::alpha).toArray();
    for (String key : r.points().get(0).report().fit().metrics().keySet()) {
      if (key.equals("tokens")) {
        continue;
      }
      plot.add(new LinePlot.Series(prefix + "fit " + key, alphas,
          r.points().stream().mapToDouble(p -> p.report().fit().metrics().get(key)).toArray(), false));
      plot.add(new LinePlot.Series(prefix + "held-out " + key, alphas,
          r.points().stream().mapToDouble(p -> p.report().heldOut().metrics().get(key)).toArray(), true));
    }
  }
}
