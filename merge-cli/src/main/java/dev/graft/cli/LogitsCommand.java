package dev.graft.cli;

import dev.graft.InvalidInputException;
import dev.graft.io.SafetensorsWriter;
import dev.graft.model.CausalLm;
import dev.graft.model.TextTokenizer;
import dev.graft.tensor.DType;
import dev.graft.tensor.Device;
import dev.graft.tensor.Shape;
import java.io.PrintWriter;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Callable;
import picocli.CommandLine;
import picocli.CommandLine.ArgGroup;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

/** {@code graft logits}: what a causal LM predicts after a prompt; optionally every logit, for cross-checks. */
@Command(
    name = "logits",
    mixinStandardHelpOptions = true,
    description = {
      "Run a Llama-family model (llama, mistral, qwen2, qwen3) on a prompt and show what it predicts next.",
      "Prints the top next tokens with log-probabilities, optionally a greedy continuation, and writes every",
      "logit with -o (safetensors: 'logits' [length, vocab] F32 and 'input_ids' [length] I64), e.g. to compare",
      "with transformers (benchmarks/crosscheck)."
    },
    exitCodeListHeading = "%nExit codes:%n",
    exitCodeList = {"0:success", "1:failure at run time", "2:bad input (model, config, tokens)"})
final class LogitsCommand implements Callable<Integer> {
  @CommandLine.Spec CommandLine.Model.CommandSpec spec;

  @Parameters(paramLabel = "MODEL", description = "Hugging Face model folder (config.json, safetensors, tokenizer.json for text).")
  Path model;

  @ArgGroup(multiplicity = "1")
  Prompt prompt;

  static final class Prompt {
    @Option(names = "--text", paramLabel = "TEXT", description = "Prompt text, tokenized with the model's tokenizer.json.")
    String text;

    @Option(names = "--ids", paramLabel = "ID", split = ",", description = "Prompt token ids, comma-separated.")
    int[] ids;
  }

  @Option(names = "--top", defaultValue = "5", paramLabel = "K", description = "Next tokens to show (default: ${DEFAULT-VALUE}).")
  int top;

  @Option(names = "--generate", defaultValue = "0", paramLabel = "N", description = "Greedy tokens to generate (default: none).")
  int generate;

  @Option(names = {"-o", "--output"}, paramLabel = "FILE", description = "Write all logits to this .safetensors file.")
  Path output;

  @CommandLine.Mixin DeviceOption device;

  @Override
  public Integer call() {
    if (top < 0 || generate < 0) {
      throw new GraftCommand.UsageException("--top and --generate must be >= 0");
    }
    PrintWriter out = spec.commandLine().getOut();
    Device dev = device.device();
    TextTokenizer tok = prompt.text != null || java.nio.file.Files.isRegularFile(model.resolve("tokenizer.json"))
        ? TextTokenizer.load(model) : null;
    try (CausalLm lm = CausalLm.load(model, dev)) {
      int[] ids = prompt.ids != null ? prompt.ids : tok.encode(prompt.text, true);
      if (ids.length == 0) {
        throw new InvalidInputException("the prompt has no tokens");
      }
      int vocab = lm.config().vocab();
      float[] logits = lm.logits(ids);
      out.printf("%s (%s), %d prompt tokens: %s%n", model, lm.config().modelType(), ids.length, java.util.Arrays.toString(ids));
      int last = (ids.length - 1) * vocab;
      double max = Double.NEGATIVE_INFINITY;
      for (int v = 0; v < vocab; v++) {
        max = Math.max(max, logits[last + v]);
      }
      double z = 0;
      for (int v = 0; v < vocab; v++) {
        z += Math.exp(logits[last + v] - max);
      }
      double logZ = max + Math.log(z);
      Integer[] order = new Integer[vocab];
      for (int v = 0; v < vocab; v++) {
        order[v] = v;
      }
      java.util.Arrays.sort(order, (a, b) -> Float.compare(logits[last + b], logits[last + a]));
      out.println("next token   log-prob  text");
      for (int i = 0; i < Math.min(top, vocab); i++) {
        int v = order[i];
        out.printf("%10d  %8.4f  %s%n", v, logits[last + v] - logZ, tok == null ? "" : quote(tok.decode(new int[] {v})));
      }
      if (generate > 0) {
        int[] gen = lm.generate(ids, generate);
        out.println("greedy: " + java.util.Arrays.toString(gen) + (tok == null ? "" : " " + quote(tok.decode(gen))));
      }
      if (output != null) {
        write(output, ids, logits, vocab);
        out.println("wrote " + output);
      }
    } finally {
      if (tok != null) {
        tok.close();
      }
    }
    out.flush();
    return 0;
  }

  private static String quote(String s) {
    return '"' + s.replace("\n", "\\n") + '"';
  }

  private static void write(Path file, int[] ids, float[] logits, int vocab) {
    List<SafetensorsWriter.Entry> entries = List.of(
        new SafetensorsWriter.Entry("input_ids", DType.I64, Shape.of(ids.length)),
        new SafetensorsWriter.Entry("logits", DType.F32, Shape.of(ids.length, vocab)));
    try (SafetensorsWriter w = SafetensorsWriter.createFile(file, entries, Map.of("format", "pt"))) {
      ByteBuffer b = ByteBuffer.allocate(ids.length * 8).order(ByteOrder.LITTLE_ENDIAN);
      for (int id : ids) {
        b.putLong(id);
      }
      w.write("input_ids", 0, b.flip());
      w.writeFloats("logits", 0, logits, 0, logits.length);
      w.finish();
    }
  }
}
