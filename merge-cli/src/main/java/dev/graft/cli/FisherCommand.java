package dev.graft.cli;

import dev.graft.InvalidInputException;
import dev.graft.eval.EvalModel;
import dev.graft.eval.Task;
import dev.graft.io.SafetensorsWriter;
import dev.graft.model.Classifier;
import dev.graft.tensor.DType;
import java.io.PrintWriter;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.Callable;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

/** {@code graft fisher}: the diagonal Fisher information of a model on a task's fit split. */
@Command(
    name = "fisher",
    mixinStandardHelpOptions = true,
    description = {
      "Compute the diagonal Fisher information of a model on the fit split of a task, with the model's tensor",
      "names, ready for the 'fisher' merge operator (which looks for MODEL.fisher.safetensors by default).",
      "Classifiers: exact expectation over all classes under the model's prediction (default), sampled labels,",
      "or the true labels (empirical). Language models: labels sampled from the model at every position (default),",
      "or the text's own next tokens (empirical), on the fit texts of a language task."
    },
    exitCodeListHeading = "%nExit codes:%n",
    exitCodeList = {"0:success", "1:failure at run time", "2:bad input (model, task)"})
final class FisherCommand implements Callable<Integer> {
  @CommandLine.Spec CommandLine.Model.CommandSpec spec;

  @Parameters(paramLabel = "MODEL", description = "Model folder.")
  Path model;

  @Option(names = "--task", required = true, paramLabel = "TASK.yaml", description = "Task whose fit split is used.")
  Path task;

  @Option(names = {"-o", "--output"}, paramLabel = "FILE", description = "Output .safetensors (default: MODEL.fisher.safetensors beside MODEL).")
  Path output;

  @Option(names = "--estimator", paramLabel = "exact|sampled|empirical",
      description = "Labels the gradients are taken for (default: exact for classifiers, sampled for language models).")
  String estimator;

  @Option(names = "--limit", defaultValue = "0", description = "Use at most this many examples (default: all).")
  int limit;

  @Option(names = "--seed", defaultValue = "0", description = "Seed of sampled labels (default: ${DEFAULT-VALUE}).")
  long seed;

  @CommandLine.Mixin DeviceOption device;

  @CommandLine.Mixin QuietOption quiet;

  @Override
  public Integer call() {
    PrintWriter o = spec.commandLine().getOut();
    Classifier.FisherMode mode = null;
    if (estimator != null) {
      try {
        mode = Classifier.FisherMode.valueOf(estimator.toUpperCase(Locale.ROOT));
      } catch (IllegalArgumentException e) {
        throw new GraftCommand.UsageException("--estimator must be exact, sampled or empirical, found '" + estimator + "'");
      }
    }
    Task t = Task.read(task);
    Path out = output != null ? output : dev.graft.model.FisherFiles.besides(model);
    try (EvalModel m = EvalModel.load(model, device.device())) {
      if (m instanceof EvalModel.Language lm) {
        return language(lm, t, mode == null ? Classifier.FisherMode.SAMPLED : mode, out, o);
      }
      if (!(m instanceof EvalModel.Image img) || !(t instanceof Task.Classification c)) {
        throw new InvalidInputException("the model is a classifier; graft fisher needs a classification task for it, found a "
            + t.spec().kind() + " task");
      }
      mode = mode == null ? Classifier.FisherMode.EXACT : mode;
      var data = limit > 0 ? c.fit().limit(limit) : c.fit();
      ProgressLine bar = quiet.progress(spec.commandLine().getErr(), "fisher", "examples");
      long t0 = System.nanoTime();
      Map<String, float[]> f = img.model().fisher(data, mode, seed, bar);
      bar.finish();
      write(out, f, img.model().config().tensors(), mode, data.size());
      double total = 0;
      for (float[] v : f.values()) {
        for (float x : v) {
          total += x;
        }
      }
      o.printf("%s Fisher over %d examples in %.1f s, trace %.6g; wrote %s%n", mode.name().toLowerCase(Locale.ROOT), data.size(),
          (System.nanoTime() - t0) / 1e9, total, out);
    }
    o.flush();
    return 0;
  }

  private int language(EvalModel.Language lm, Task t, Classifier.FisherMode mode, Path out, PrintWriter o) {
    if (mode == Classifier.FisherMode.EXACT) {
      throw new GraftCommand.UsageException("the exact Fisher of a language model sums over the whole vocabulary at every "
          + "position; use --estimator sampled (default) or empirical");
    }
    if (!(t instanceof Task.Text text)) {
      throw new InvalidInputException("the model is a language model; graft fisher needs a language task (perplexity, "
          + "multiple_choice or generation) for it, found a " + t.spec().kind() + " task");
    }
    if (lm.tokenizer() == null) {
      throw new InvalidInputException(model + " has no tokenizer.json; a language task needs one");
    }
    List<int[]> seqs = new ArrayList<>();
    for (var e : limit > 0 ? text.fit().subList(0, Math.min(limit, text.fit().size())) : text.fit()) {
      seqs.add(dev.graft.eval.Evaluator.tokens(lm, t.spec(), e));
    }
    ProgressLine bar = quiet.progress(spec.commandLine().getErr(), "fisher", "sequences");
    long t0 = System.nanoTime();
    Map<String, float[]> f = lm.model().fisher(seqs, mode == Classifier.FisherMode.EMPIRICAL, seed, bar);
    bar.finish();
    write(out, f, lm.model().shapes(), mode, seqs.size());
    o.printf("%s Fisher over %d sequences in %.1f s; wrote %s%n", mode.name().toLowerCase(Locale.ROOT), seqs.size(),
        (System.nanoTime() - t0) / 1e9, out);
    o.flush();
    return 0;
  }

  private static void write(Path out, Map<String, float[]> f, Map<String, dev.graft.tensor.Shape> shapes, Classifier.FisherMode mode, int n) {
    dev.graft.model.FisherFiles.write(out, f, shapes, mode.name().toLowerCase(Locale.ROOT), n);
  }
}
