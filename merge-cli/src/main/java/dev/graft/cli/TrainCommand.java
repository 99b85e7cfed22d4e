package dev.graft.cli;

import dev.graft.InvalidInputException;
import dev.graft.data.Dataset;
import dev.graft.eval.Task;
import dev.graft.model.Classifier;
import dev.graft.model.ClassifierConfig;
import dev.graft.tensor.Device;
import java.io.PrintWriter;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.Callable;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/** {@code graft train}: trains a small classifier on a task's fit split. */
@Command(
    name = "train",
    mixinStandardHelpOptions = true,
    description = {
      "Train a small image classifier (MLP or CNN) on the fit split of a classification task.",
      "Seeded and deterministic: the same options give the same bytes. Adam on minibatches of the negative",
      "log-likelihood. --from fine-tunes an existing classifier (e.g. specialists of one base on different classes,",
      "with 'classes:' in the task). Reports loss and accuracy on the fit and the held-out split."
    },
    exitCodeListHeading = "%nExit codes:%n",
    exitCodeList = {"0:success", "1:failure at run time", "2:bad input (task, model, options)"})
final class TrainCommand implements Callable<Integer> {
  @CommandLine.Spec CommandLine.Model.CommandSpec spec;

  @Option(names = {"-o", "--output"}, required = true, paramLabel = "DIR", description = "Output model folder.")
  Path out;

  @Option(names = "--task", required = true, paramLabel = "TASK.yaml", description = "Classification task (its fit split is trained on).")
  Path task;

  @Option(names = "--from", paramLabel = "DIR", description = "Start from this classifier instead of a fresh one.")
  Path from;

  @Option(names = "--model", defaultValue = "mlp", paramLabel = "mlp|cnn", description = "Architecture of a fresh model (default: ${DEFAULT-VALUE}).")
  String model;

  @Option(names = "--hidden", split = ",", defaultValue = "256", paramLabel = "N", description = "Hidden layer sizes (default: ${DEFAULT-VALUE}).")
  int[] hidden;

  @Option(names = "--channels", split = ",", defaultValue = "8,16", paramLabel = "N", description = "CNN channels per convolution (default: ${DEFAULT-VALUE}).")
  int[] channels;

  @Option(names = "--epochs", defaultValue = "10", description = "Passes over the fit split (default: ${DEFAULT-VALUE}).")
  int epochs;

  @Option(names = "--batch-size", defaultValue = "32", description = "Examples per step (default: ${DEFAULT-VALUE}).")
  int batch;

  @Option(names = "--lr", defaultValue = "0.001", description = "Adam learning rate (default: ${DEFAULT-VALUE}).")
  double lr;

  @Option(names = "--classes", defaultValue = "10", description = "Output classes of a fresh model (default: ${DEFAULT-VALUE}).")
  int classes;

  @Option(names = "--seed", defaultValue = "0", description = "Seed of initialisation and shuffling (default: ${DEFAULT-VALUE}).")
  long seed;

  @CommandLine.Mixin DeviceOption device;

  @CommandLine.Mixin QuietOption quiet;

  @Override
  public Integer call() {
    PrintWriter o = spec.commandLine().getOut();
    if (!(model.equals("mlp") || model.equals("cnn"))) {
      throw new GraftCommand.UsageException("--model must be mlp or cnn, found '" + model + "'");
    }
    Task t = Task.read(task);
    if (!(t instanceof Task.Classification c)) {
      throw new InvalidInputException(task + ": graft train needs a classification task, found kind " + t.spec().kind());
    }
    Classifier.TrainOptions opts = new Classifier.TrainOptions(epochs, batch, lr, seed);
    Device dev = device.device();
    Dataset fit = c.fit();
    try (Classifier m = from != null ? Classifier.load(from, dev) : Classifier.init(config(fit), seed, dev)) {
      ProgressLine bar = quiet.progress(spec.commandLine().getErr(), "train", "steps");
      long t0 = System.nanoTime();
      List<Classifier.Metrics> h = m.train(fit, opts, bar);
      bar.finish();
      for (int e = 0; e < h.size(); e++) {
        o.printf("epoch %3d  fit loss %.4f  fit accuracy %.4f%n", e + 1, h.get(e).loss(), h.get(e).accuracy());
      }
      Classifier.Metrics held = m.evaluate(c.heldOut());
      m.save(out);
      o.printf("trained in %.1f s on %d examples; held-out (%d examples): loss %.4f, accuracy %.4f%n",
          (System.nanoTime() - t0) / 1e9, fit.size(), held.examples(), held.loss(), held.accuracy());
      o.println("wrote " + out);
    }
    o.flush();
    return 0;
  }

  private ClassifierConfig config(Dataset fit) {
    int[] shape = fit.exampleShape();
    if (model.equals("mlp")) {
      return ClassifierConfig.mlp(fit.featureCount(), hidden, classes);
    }
    if (shape.length != 3) {
      throw new InvalidInputException("a cnn needs images [channels, height, width]; the task's examples are " + java.util.Arrays.toString(shape));
    }
    return ClassifierConfig.cnn(shape, channels, hidden, classes);
  }
}
