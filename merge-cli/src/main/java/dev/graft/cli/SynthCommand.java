package dev.graft.cli;

import dev.graft.align.Aligner;
import dev.graft.align.PermutationSpec;
import dev.graft.align.Permuter;
import dev.graft.align.WeightMatching;
import dev.graft.io.ByteSize;
import dev.graft.io.Checkpoint;
import dev.graft.model.Weights;
import dev.graft.synth.SynthArch;
import dev.graft.synth.SynthSpec;
import dev.graft.synth.SyntheticCheckpoints;
import dev.graft.tensor.DType;
import java.io.PrintWriter;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine;

/** {@code graft synth}: deterministic Llama-shaped checkpoint families. */
@Command(
    name = "synth",
    mixinStandardHelpOptions = true,
    description = {
      "Generate deterministic Llama-shaped checkpoint families.",
      "For tests, demos and benchmarks: OUT/base, a random base, and OUT/ft-1..N, fine-tunes made as base + low-rank delta + dense noise + sparse outliers.",
      "Each is a Hugging Face folder (config.json, tokenizer.json, sharded safetensors). Any size, streamed:",
      "billions of parameters never sit in memory. The same options and seed give the same bytes."
    },
    exitCodeListHeading = "%nExit codes:%n",
    exitCodeList = {"0:success", "1:failure at run time", "2:bad input"})
final class SynthCommand implements Callable<Integer> {
  @CommandLine.Spec CommandLine.Model.CommandSpec spec;

  @Option(names = {"-o", "--output"}, required = true, paramLabel = "DIR", description = "Output folder.")
  Path out;

  @Option(names = "--vocab", defaultValue = "512", description = "Vocabulary size, >= 260 (default: ${DEFAULT-VALUE}).")
  int vocab;

  @Option(names = "--hidden", defaultValue = "64", description = "Hidden size (default: ${DEFAULT-VALUE}).")
  int hidden;

  @Option(names = "--layers", defaultValue = "2", description = "Decoder layers (default: ${DEFAULT-VALUE}).")
  int layers;

  @Option(names = "--heads", defaultValue = "4", description = "Attention heads (default: ${DEFAULT-VALUE}).")
  int heads;

  @Option(names = "--kv-heads", defaultValue = "2", description = "Key/value heads (default: ${DEFAULT-VALUE}).")
  int kvHeads;

  @Option(names = "--intermediate", defaultValue = "128", description = "MLP intermediate size (default: ${DEFAULT-VALUE}).")
  int intermediate;

  @Option(names = "--head-dim", defaultValue = "0",
      description = "Size of one attention head; 0 means hidden / heads (default). llama, mistral and qwen3 allow another.")
  int headDim;

  @Option(names = "--arch", defaultValue = "llama", converter = ArchConverter.class,
      description = "Architecture: llama, llama3 (llama3 RoPE scaling), mistral, qwen2 (q/k/v biases), qwen3 (q/k norms) (default: ${DEFAULT-VALUE}).")
  SynthArch arch;

  @Option(names = "--tie-embeddings", description = "Tie lm_head to embed_tokens (no lm_head.weight).")
  boolean tie;

  @Option(names = "--dtype", defaultValue = "bf16", converter = Options.DTypeConverter.class,
      description = "Storage dtype: bf16, f16, f32 (default: ${DEFAULT-VALUE}).")
  DType dtype;

  @Option(names = "--shard-size", defaultValue = "5GB", converter = Options.SizeConverter.class,
      description = "Maximum bytes per shard (default: ${DEFAULT-VALUE}).")
  long shardSize;

  @Option(names = "--fine-tunes", defaultValue = "2", description = "Number of fine-tunes (default: ${DEFAULT-VALUE}).")
  int fineTunes;

  @Option(names = "--rank", defaultValue = "4", description = "Rank of each fine-tune's low-rank delta (default: ${DEFAULT-VALUE}).")
  int rank;

  @Option(names = "--seed", defaultValue = "42", description = "Seed of every draw (default: ${DEFAULT-VALUE}).")
  long seed;

  @Option(names = "--permute", description = "Also permute each fine-tune's hidden units at random (residual stream, attention heads,"
      + " MLP units; the function is unchanged), as a test bed for 'graft align'. Writes OUT/planted-permutations.json with the"
      + " permutations that align each fine-tune back to the base, in the format of 'graft align'.")
  boolean permute;

  @CommandLine.Mixin WorkOptions work;

  @Override
  public Integer call() {
    SynthSpec s;
    try {
      if (headDim == 0 && heads > 0 && hidden % heads != 0) {
        throw new IllegalArgumentException("--hidden (" + hidden + ") must be a multiple of --heads (" + heads + "), or give --head-dim");
      }
      s = new SynthSpec(vocab, hidden, layers, heads, kvHeads, intermediate, tie, dtype, shardSize, fineTunes, rank, seed,
          arch, headDim > 0 ? headDim : heads > 0 ? hidden / heads : 0);
    } catch (IllegalArgumentException e) {
      throw new GraftCommand.UsageException(e.getMessage());
    }
    PrintWriter o = spec.commandLine().getOut();
    long t0 = System.nanoTime();
    int n = work.threads();
    ProgressLine bar = work.progress(spec.commandLine().getErr(), "synth", "chunks");
    List<Path> dirs = SyntheticCheckpoints.writeFamily(s, out, n, bar);
    bar.finish();
    if (permute) {
      Map<String, Map<String, int[]>> planted = new LinkedHashMap<>();
      SplittableRandom rnd = new SplittableRandom(seed ^ 0x5DEECE66DL);
      for (Path d : dirs.subList(1, dirs.size())) {
        try (Checkpoint c = Checkpoint.open(d)) {
          PermutationSpec ps = Aligner.spec("llama", c);
          Map<String, int[]> perms = new LinkedHashMap<>();
          Map<String, int[]> back = new LinkedHashMap<>();
          ps.sizes(WeightMatching.shapes(Weights.of(c)), d.toString()).forEach((k, size) -> {
            int[] q = Permuter.random(size, rnd);
            perms.put(k, q);
            back.put(k, Permuter.inverse(q));
          });
          Aligner.write(c, ps, perms, d, shardSize, "random permutation (graft synth --permute)");
          planted.put(d.getFileName().toString(), back);
        }
      }
      Aligner.writePermutations(out.resolve("planted-permutations.json"), planted, dirs.get(0).toString(), "llama");
    }
    long bytes = s.parameterCount() * dtype.byteSize();
    o.printf("wrote %d models of %,d parameters (%s each) in %.2f s:%n", dirs.size(), s.parameterCount(), ByteSize.format(bytes),
        (System.nanoTime() - t0) / 1e9);
    dirs.forEach(d -> o.println("  " + d));
    o.flush();
    return 0;
  }

  /** Parses {@code --arch} case-insensitively, listing the choices on error. */
  static final class ArchConverter implements CommandLine.ITypeConverter<SynthArch> {
    @Override
    public SynthArch convert(String value) {
      for (SynthArch a : SynthArch.values()) {
        if (a.cliName().equalsIgnoreCase(value)) {
          return a;
        }
      }
      throw new CommandLine.TypeConversionException("unknown architecture '" + value + "'; choose one of "
          + java.util.Arrays.stream(SynthArch.values()).map(SynthArch::cliName).toList());
    }
  }
}
