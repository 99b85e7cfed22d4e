package dev.graft.cli;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.graft.eval.Interpolation;
import dev.graft.eval.Score;
import dev.graft.eval.Task;
import dev.graft.io.AtomicFiles;
import dev.graft.report.LinePlot;
import dev.graft.tensor.Device;
import java.io.PrintWriter;
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

  @Option(names = {"-q", "--quiet"}, description = "No progress line.")
  boolean quiet;

  @Override
  public Integer call() throws Exception {
    if (align) {
      throw new GraftCommand.UsageException("--align needs weight-matching alignment, which Graft does not have yet; run without it");
    }
    PrintWriter o = spec.commandLine().getOut();
    Task t = Task.read(task);
    ProgressLine bar = new ProgressLine(spec.commandLine().getErr(), "interpolate", "points", quiet);
    Interpolation.Result r = Interpolation.run(a, b, t, points, device.device(), bar);
    bar.finish();
    String metric = r.points().get(0).report().fit().metric();
    o.printf("%6s %14s %14s%n", "alpha", "fit " + metric, "held " + metric);
    for (Interpolation.Point p : r.points()) {
      o.printf("%6.3f %14.4f %14.4f%n", p.alpha(), p.report().fit().value(), p.report().heldOut().value());
    }
    r.barriers().forEach((k, v) -> o.printf("barrier %-22s %.4f%n", k, v));
    ObjectMapper om = new ObjectMapper();
    ObjectNode root = om.createObjectNode();
    root.put("a", a.toString());
    root.put("b", b.toString());
    root.put("task", t.spec().name());
    root.put("aligned", false);
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
    AtomicFiles.writeString(out.resolve("interpolation.json"), om.writerWithDefaultPrettyPrinter().writeValueAsString(root) + "\n");
    LinePlot plot = new LinePlot("Interpolation " + a.getFileName() + " → " + b.getFileName() + " on " + t.spec().name(), "α", "value");
    double[] alphas = r.points().stream().mapToDouble(Interpolation.Point::alpha).toArray();
    for (String key : r.points().get(0).report().fit().metrics().keySet()) {
      if (key.equals("tokens")) {
        continue;
      }
      plot.add(new LinePlot.Series("fit " + key, alphas,
          r.points().stream().mapToDouble(p -> p.report().fit().metrics().get(key)).toArray(), false));
      plot.add(new LinePlot.Series("held-out " + key, alphas,
          r.points().stream().mapToDouble(p -> p.report().heldOut().metrics().get(key)).toArray(), true));
    }
    AtomicFiles.writeBytes(out.resolve("interpolation.png"), plot.png(900, 560));
    o.println("wrote " + out.resolve("interpolation.json") + " and " + out.resolve("interpolation.png"));
    o.flush();
    return 0;
  }
}
