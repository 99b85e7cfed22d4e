package dev.graft.cli;

import dev.graft.io.ByteSize;
import dev.graft.io.Checkpoint;
import dev.graft.io.Convert;
import dev.graft.tensor.DType;
import java.io.PrintWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.Callable;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

/** {@code graft convert}: change dtype and/or reshard, streaming. */
@Command(
    name = "convert",
    mixinStandardHelpOptions = true,
    description = {
      "Change a checkpoint's dtype and/or reshard it, streaming.",
      "Floating tensors are converted in chunks (memory stays bounded whatever the model size).",
      "Integer and bool tensors are copied unchanged. config.json (torch_dtype updated) and tokenizer files are",
      "copied along. Output files appear under their final names only when complete."
    },
    exitCodeListHeading = "%nExit codes:%n",
    exitCodeList = {"0:success", "1:failure at run time", "2:bad input"})
final class ConvertCommand implements Callable<Integer> {
  @CommandLine.Spec CommandLine.Model.CommandSpec spec;

  @Parameters(paramLabel = "IN", description = "Input checkpoint: file, index or folder.")
  Path in;

  @Option(names = {"-o", "--output"}, required = true, paramLabel = "OUT",
      description = "Output folder (Hugging Face layout), or a file name ending in .safetensors for one file.")
  Path out;

  @Option(names = "--dtype", paramLabel = "DTYPE", converter = Options.DTypeConverter.class,
      description = "Target dtype of floating tensors: bf16, f16, f32, f64, f8_e4m3, f8_e5m2 (default: keep).")
  DType dtype;

  @Option(names = "--shard-size", paramLabel = "SIZE", converter = Options.SizeConverter.class, defaultValue = "5GB",
      description = "Maximum bytes per shard, e.g. 2GB (powers of 1000) or 2GiB (default: ${DEFAULT-VALUE}).")
  long shardSize;

  @CommandLine.Mixin WorkOptions work;

  @Override
  public Integer call() {
    PrintWriter err = spec.commandLine().getErr();
    PrintWriter o = spec.commandLine().getOut();
    boolean single = out.getFileName().toString().endsWith(".safetensors");
    if (single && Files.isDirectory(out)) {
      throw new GraftCommand.UsageException(out + " is a folder; give a file name ending in .safetensors or a folder without that suffix");
    }
    if (!single && Files.exists(out) && !Files.isDirectory(out)) {
      throw new GraftCommand.UsageException(out + " exists and is not a folder");
    }
    int n = work.threads();
    try (Checkpoint cp = Checkpoint.open(in)) {
      if (cp.root().toAbsolutePath().normalize().equals(out.toAbsolutePath().normalize())) {
        throw new GraftCommand.UsageException("output folder " + out + " is the input folder; choose another");
      }
      long t0 = System.nanoTime();
      ProgressLine bar = work.progress(err, "convert", "chunks");
      Convert.Result r = Convert.run(cp, out, new Convert.Options(dtype, shardSize, n, single), bar);
      bar.finish();
      double secs = (System.nanoTime() - t0) / 1e9;
      o.printf("wrote %d tensors, %s, in %.2f s to %s (%d files)%n", r.tensors(), ByteSize.format(r.bytesWritten()), secs, out, r.files().size());
      o.flush();
      return 0;
    }
  }
}
