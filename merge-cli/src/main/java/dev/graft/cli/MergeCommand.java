package dev.graft.cli;

import dev.graft.io.ByteSize;
import dev.graft.op.Operators;
import dev.graft.op.Params;
import dev.graft.plan.MergeExecutor;
import dev.graft.plan.MergePlan;
import dev.graft.plan.MergeRunner;
import dev.graft.plan.ModelResolver;
import dev.graft.plan.TensorTask;
import dev.graft.recipe.Recipe;
import dev.graft.recipe.RecipeReader;
import dev.graft.tensor.Backends;
import dev.graft.tensor.Device;
import dev.graft.tensor.spi.Backend;
import java.io.PrintWriter;
import java.nio.file.Path;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.Callable;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

/** {@code graft merge RECIPE -o DIR}, or mergekit-yaml's {@code RECIPE OUTPUT [options]}. */
@Command(
    name = "merge",
    mixinStandardHelpOptions = true,
    description = {
      "Merge models as a mergekit YAML recipe describes, streaming one tensor at a time. The whole recipe (every stage of"
          + " a multi-document recipe) is validated before any weight is read.",
      "Output: a Hugging Face folder (sharded safetensors + index, config.json, tokenizer files, the normalised recipe as"
          + " mergekit_config.yml, a README.md model card), written under a temporary name and renamed when complete."
    },
    footerHeading = "%nmergekit-yaml command lines:%n",
    footer = {
      "They run unchanged: the output folder may come second, as OUTPUT; --cuda is --device cuda, --random-seed is"
          + " --seed; --no-copy-tokenizer leaves out the tokenizer files, --no-write-model-card the README.md.",
      "--lazy-unpickle, --low-cpu-memory, --clone-tensors, --allow-crimes and --trust-remote-code (and their --no- forms)"
          + " are accepted and change nothing: Graft always reads lazily and streams on the host, writes every tensor once,"
          + " merges by tensor names and shapes (checked before any weight is read) and never runs a model's code."
    },
    exitCodeListHeading = "%nExit codes:%n",
    exitCodeList = {"0:success", "1:failure at run time", "2:bad input (invalid recipe, missing model, mismatched shapes)"})
final class MergeCommand implements Callable<Integer> {
  @CommandLine.Spec CommandLine.Model.CommandSpec spec;

  @Parameters(paramLabel = "RECIPE", description = "mergekit YAML recipe (documents separated by --- are stages).")
  Path recipe;

  @Parameters(index = "1", arity = "0..1", paramLabel = "OUTPUT", description = "Output folder, where mergekit-yaml takes it (the same as -o).")
  Path output;

  @Option(names = {"-o", "--output"}, paramLabel = "DIR", description = "Output folder (required unless --dry-run).")
  Path out;

  @Option(names = "--backend", paramLabel = "NAME", defaultValue = "auto",
      description = "Tensor backend: djl, nd4j, reference or auto (default: ${DEFAULT-VALUE}).")
  String backend;

  @Option(names = "--device", paramLabel = "DEVICE", defaultValue = "cpu", description = "cpu or cuda[:N] (default: ${DEFAULT-VALUE}).")
  String device;

  @Option(names = "--cuda", negatable = true, description = "Same as --device cuda (mergekit-yaml's flag).")
  boolean cuda;

  @Option(names = {"--seed", "--random-seed"}, paramLabel = "N", defaultValue = "0",
      description = "Run seed for random operators (DARE, DELLA); each tensor's draws derive from it and the tensor name (default: ${DEFAULT-VALUE}).")
  long seed;

  @Option(names = "--out-shard-size", paramLabel = "SIZE", defaultValue = "5B", converter = ShardSizeConverter.class,
      description = "Maximum BYTES per output shard: 5B, 500M, 2GB, 2GiB (K/M/B are powers of 1000 as in mergekit, whose"
          + " help calls them parameters although it compares bytes) (default: ${DEFAULT-VALUE}).")
  long shardSize;

  @Option(names = "--memory", paramLabel = "SIZE", converter = Options.SizeConverter.class,
      description = "Budget of tensor data in flight across threads (default: 3/4 of the JVM heap). A tensor larger than the budget runs alone.")
  Long memory;

  @Option(names = "--dry-run", description = "Print the plan (tensors, operator, resolved parameters, bytes, memory estimate) and stop.")
  boolean dryRun;

  @Option(names = "--copy-tokenizer", negatable = true, defaultValue = "true", fallbackValue = "true",
      description = "Copy the tokenizer files of the base model (or tokenizer_source) into the output (default: ${DEFAULT-VALUE}).")
  boolean copyTokenizer;

  @Option(names = "--write-model-card", negatable = true, defaultValue = "true", fallbackValue = "true",
      description = "Write a README.md model card (default: ${DEFAULT-VALUE}).")
  boolean modelCard;

  @Option(names = "--safe-serialization", negatable = true, defaultValue = "true", fallbackValue = "true", hidden = true)
  boolean safeSerialization;

  // mergekit-yaml switches that change nothing here (see the footer)
  @Option(names = "--lazy-unpickle", negatable = true, hidden = true)
  boolean lazyUnpickle;

  @Option(names = "--low-cpu-memory", negatable = true, hidden = true)
  boolean lowCpuMemory;

  @Option(names = "--clone-tensors", negatable = true, hidden = true)
  boolean cloneTensors;

  @Option(names = "--allow-crimes", negatable = true, hidden = true)
  boolean allowCrimes;

  @Option(names = "--trust-remote-code", negatable = true, hidden = true)
  boolean trustRemoteCode;

  @CommandLine.Mixin WorkOptions work;

  @Override
  public Integer call() {
    PrintWriter o = spec.commandLine().getOut();
    PrintWriter err = spec.commandLine().getErr();
    if (output != null) {
      if (out != null && !out.equals(output)) {
        throw new GraftCommand.UsageException("two output folders, '" + output + "' and -o '" + out + "': give one");
      }
      out = output;
    }
    if (out == null && !dryRun) {
      throw new GraftCommand.UsageException("missing -o DIR (or use --dry-run)");
    }
    if (!safeSerialization) {
      throw new GraftCommand.UsageException("--no-safe-serialization asks for pickled .bin weights; Graft writes safetensors only: drop the flag");
    }
    if (cuda) {
      if (spec.commandLine().getParseResult().hasMatchedOption("--device") && !device.startsWith("cuda")) {
        throw new GraftCommand.UsageException("--cuda and --device " + device + " disagree: give one");
      }
      if (!device.startsWith("cuda")) {
        device = "cuda";
      }
    }
    int threads = work.threads();
    Device dev = Device.parse(device);
    List<Recipe> stages = RecipeReader.read(recipe);
    ProgressLine download = work.progress(err, "download", "files");
    List<MergePlan> plans = MergeRunner.prepare(stages, ModelResolver.forRecipeWithDownloads(recipe, download), Operators.builtIn());
    download.finish();
    if (out != null) {
      MergeRunner.checkOutput(out);
    }
    long budget = memory != null ? memory : Runtime.getRuntime().maxMemory() / 4 * 3;
    if (dryRun) {
      printPlan(o, plans, budget, threads, Backends.resolve(backend, dev));
      return 0;
    }
    long t0 = System.nanoTime();
    try (Backend be = Backends.create(backend, dev)) {
      MergeExecutor.Options opt = new MergeExecutor.Options(be, seed, shardSize, threads, budget);
      ProgressLine[] bar = new ProgressLine[1];
      MergeExecutor.Result r =
          MergeRunner.run(plans, stages, out, opt, work.mergeProgress(err, bar), new MergeRunner.Sidecars(copyTokenizer, modelCard));
      bar[0].finish();
      double secs = (System.nanoTime() - t0) / 1e9;
      o.printf(Locale.ROOT, "merged %d tensors (%s%s read, %s written) with %s on %s in %.2f s into %s%n", r.tensors(),
          r.streamed() > 0 ? r.streamed() + " as streams; " : "", ByteSize.format(r.bytesRead()), ByteSize.format(r.bytesWritten()),
          plans.get(plans.size() - 1).operator().spec().name(), be.name(), secs, out);
      o.flush();
      return 0;
    }
  }

  private static void printPlan(PrintWriter o, List<MergePlan> plans, long budget, int threads, String backend) {
    for (int s = 0; s < plans.size(); s++) {
      MergePlan p = plans.get(s);
      o.printf(Locale.ROOT, "stage %d/%d%s: %s, %d tensors, read %s, write %s%n", s + 1, plans.size(),
          p.recipe().name() == null ? "" : " (" + p.recipe().name() + ")", p.operator().spec().name(), p.tasks().size(),
          ByteSize.format(p.bytesToRead()), ByteSize.format(p.bytesToWrite()));
      for (int i = 0; i < p.models().size(); i++) {
        o.printf("  model %d: %s%s%n", i, p.models().get(i).label(), p.models().get(i).root() == null ? " (earlier stage)" : " -> " + p.models().get(i).root());
      }
      long peak = 0;
      int streamed = 0;
      for (TensorTask t : p.tasks()) {
        boolean stream = MergeExecutor.streams(p, t, backend);
        if (stream) {
          streamed++;
        }
        peak = Math.max(peak, stream ? MergeExecutor.streamedEstimate(t) : MergeExecutor.estimate(t));
        o.printf(Locale.ROOT, "  %s %s %s <- %s%s%s%n", t.name(), t.shape(), t.outDtype(), t.copy() != null ? "copy of model " + t.copy().model()
            : describe(t), t.copy() != null ? "" : " " + params(t), stream ? " (streamed)" : "");
      }
      if (streamed > 0) {
        o.printf(Locale.ROOT, "  %d of %d tensors merged as streams (read a window at a time, never held whole)%n", streamed, p.tasks().size());
      }
      p.warnings().forEach(w -> o.println("  warning: " + w));
      o.printf(Locale.ROOT, "  peak tensor memory about %s per thread (%d threads, budget %s)%n", ByteSize.format(peak), threads, ByteSize.format(budget));
    }
    o.flush();
  }

  private static String describe(TensorTask t) {
    StringBuilder b = new StringBuilder();
    if (t.base() != null && t.baseIndex() < 0) {
      b.append("base m").append(t.base().model()).append(", ");
    }
    for (int i = 0; i < t.models().size(); i++) {
      b.append(i == 0 ? "" : ", ").append('m').append(t.models().get(i).model());
      if (!t.models().get(i).tensor().equals(t.name())) {
        b.append(':').append(t.models().get(i).tensor());
      }
    }
    return b.toString();
  }

  private static String params(TensorTask t) {
    StringBuilder b = new StringBuilder();
    b.append(fmt(t.global()));
    for (Params p : t.modelParams()) {
      b.append(' ').append(fmt(p));
    }
    return b.toString().strip();
  }

  private static String fmt(Params p) {
    return p.values().isEmpty() ? "" : new java.util.TreeMap<>(p.values()).toString();
  }

  /** mergekit's K/M/B suffixes (powers of 1000) plus Graft's byte sizes. */
  static final class ShardSizeConverter implements CommandLine.ITypeConverter<Long> {
    @Override
    public Long convert(String value) {
      java.util.regex.Matcher m = java.util.regex.Pattern.compile("^(\\d+(?:\\.\\d+)?)([KMB])$").matcher(value.strip());
      if (m.matches()) {
        double mult = switch (m.group(2)) {
          case "K" -> 1e3;
          case "M" -> 1e6;
          default -> 1e9;
        };
        return (long) (Double.parseDouble(m.group(1)) * mult);
      }
      return new Options.SizeConverter().convert(value);
    }
  }
}
