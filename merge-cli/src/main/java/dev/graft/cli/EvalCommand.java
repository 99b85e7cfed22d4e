package dev.graft.cli;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.graft.eval.EvalModel;
import dev.graft.eval.Evaluator;
import dev.graft.eval.Score;
import dev.graft.eval.Task;
import dev.graft.io.AtomicFiles;
import java.io.PrintWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.Callable;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

/** {@code graft eval}: a model's scores on tasks, fit and held-out splits side by side. */
@Command(
    name = "eval",
    mixinStandardHelpOptions = true,
    description = {
      "Score a model on tasks, in memory: a Graft classifier (graft_mlp, graft_cnn) or a Llama-family language",
      "model (llama, mistral, qwen2, qwen3). Every task has a fit split (what evolution optimises) and a held-out",
      "split (never optimised on); the table shows both. -o writes the same as JSON.",
      "MODEL may also be a merge recipe (.yml/.yaml): the merge then runs in memory, nothing is written, and the",
      "scores are those of the model 'graft merge' would write (tensors are rounded to the recipe's out_dtype)."
    },
    exitCodeListHeading = "%nExit codes:%n",
    exitCodeList = {"0:success", "1:failure at run time", "2:bad input (model, task)"})
final class EvalCommand implements Callable<Integer> {
  @CommandLine.Spec CommandLine.Model.CommandSpec spec;

  @Parameters(paramLabel = "MODEL", description = "Model folder (config.json and safetensors), or a merge recipe to evaluate in memory.")
  Path model;

  @Option(names = "--task", required = true, paramLabel = "TASK.yaml", description = "Task file; repeat for several.")
  List<Path> tasks;

  @Option(names = {"-o", "--output"}, paramLabel = "FILE.json", description = "Also write the results as JSON.")
  Path output;

  @CommandLine.Mixin DeviceOption device;

  @Option(names = "--seed", paramLabel = "N", defaultValue = "0",
      description = "With a recipe: run seed of random operators, as in graft merge (default: ${DEFAULT-VALUE}).")
  long seed;

  @CommandLine.Mixin WorkOptions work;

  @Override
  public Integer call() throws Exception {
    PrintWriter o = spec.commandLine().getOut();
    List<Task> loaded = new ArrayList<>();
    for (Path t : tasks) {
      loaded.add(Task.read(t)); // every task is checked before the model is loaded
    }
    List<Evaluator.Report> reports = new ArrayList<>();
    try (EvalModel m = isRecipe(model) ? mergeInMemory() : EvalModel.load(model, device.device())) {
      for (Task t : loaded) {
        long t0 = System.nanoTime();
        reports.add(Evaluator.evaluate(m, t));
        spec.commandLine().getErr().printf("evaluated %s in %.2f s%n", t.spec().name(), (System.nanoTime() - t0) / 1e9);
      }
    }
    if (isRecipe(model)) {
      o.println("model: merge of " + model + " (in memory)");
    }
    o.printf("%-24s %-14s %12s %12s %8s %8s%n", "task", "metric", "fit", "held-out", "n fit", "n held");
    for (Evaluator.Report r : reports) {
      o.printf("%-24s %-14s %12.4f %12.4f %8d %8d%n", r.fit().task(), r.fit().metric(), r.fit().value(), r.heldOut().value(),
          r.fit().examples(), r.heldOut().examples());
    }
    if (output != null) {
      ObjectMapper om = new ObjectMapper();
      ObjectNode root = om.createObjectNode();
      root.put("model", model.toString());
      ArrayNode arr = root.putArray("tasks");
      for (Evaluator.Report r : reports) {
        ObjectNode n = arr.addObject();
        n.put("task", r.fit().task());
        n.put("metric", r.fit().metric());
        n.put("higher_is_better", r.fit().higherIsBetter());
        for (Score s : List.of(r.fit(), r.heldOut())) {
          ObjectNode sn = n.putObject(s.split());
          sn.put("value", s.value());
          sn.put("examples", s.examples());
          ObjectNode all = sn.putObject("metrics");
          s.metrics().forEach(all::put);
        }
      }
      AtomicFiles.writeString(output, om.writerWithDefaultPrettyPrinter().writeValueAsString(root) + "\n");
      o.println("wrote " + output);
    }
    o.flush();
    return 0;
  }

  static boolean isRecipe(Path p) {
    String n = p.getFileName() == null ? "" : p.getFileName().toString();
    return Files.isRegularFile(p) && (n.endsWith(".yml") || n.endsWith(".yaml"));
  }

  /** Validates and runs the recipe into memory, with a progress line, and builds the model from the result. */
  private EvalModel mergeInMemory() {
    long t0 = System.nanoTime();
    PrintWriter err = spec.commandLine().getErr();
    ProgressLine[] bar = new ProgressLine[1];
    EvalModel m = EvalModel.ofRecipe(model, seed, work.threads(), device.device(), work.mergeProgress(err, bar));
    if (bar[0] != null) {
      bar[0].finish();
    }
    err.printf("merged in memory in %.2f s%n", (System.nanoTime() - t0) / 1e9);
    return m;
  }
}
