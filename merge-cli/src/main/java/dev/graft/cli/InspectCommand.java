package dev.graft.cli;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.graft.io.ByteSize;
import dev.graft.io.Checkpoint;
import dev.graft.io.SafetensorsFile;
import dev.graft.io.TensorInfo;
import dev.graft.tensor.DType;
import java.io.PrintWriter;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.Callable;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

/** {@code graft inspect}: what a checkpoint holds, and whether it is valid. */
@Command(
    name = "inspect",
    mixinStandardHelpOptions = true,
    description = {
      "Show what a checkpoint holds and validate it.",
      "Tensors, dtypes, shapes, parameter count, bytes, metadata and architecture.",
      "PATH is a .safetensors file, a model.safetensors.index.json, or a (Hugging Face) model folder.",
      "Only headers are read; tensor data is never loaded."
    },
    exitCodeListHeading = "%nExit codes:%n",
    exitCodeList = {"0:valid", "1:failure at run time", "2:invalid or unreadable checkpoint"})
final class InspectCommand implements Callable<Integer> {
  @CommandLine.Spec CommandLine.Model.CommandSpec spec;

  @Parameters(paramLabel = "PATH", description = "Checkpoint file, index or folder.")
  Path path;

  @Option(names = "--json", description = "Print JSON instead of a table.")
  boolean json;

  @Option(names = "--max-tensors", paramLabel = "N", defaultValue = "200",
      description = "List at most N tensors in the table (default: ${DEFAULT-VALUE}; 0 = none, -1 = all). JSON lists all.")
  int maxTensors;

  @Override
  public Integer call() throws Exception {
    PrintWriter out = spec.commandLine().getOut();
    try (Checkpoint cp = Checkpoint.open(path)) {
      Map<DType, long[]> byType = new TreeMap<>();
      for (TensorInfo ti : cp.tensors().values()) {
        long[] a = byType.computeIfAbsent(ti.dtype(), k -> new long[3]);
        a[0]++;
        a[1] += ti.numel();
        a[2] += ti.byteSize();
      }
      List<String> warnings = new ArrayList<>();
      for (SafetensorsFile f : cp.files()) {
        for (String w : f.header().warnings()) {
          warnings.add(f.path().getFileName() + ": " + w);
        }
      }
      String verdict = warnings.isEmpty() ? "valid" : "readable, with warnings (the official library would refuse it)";
      if (json) {
        ObjectMapper om = new ObjectMapper();
        ObjectNode root = om.createObjectNode();
        root.put("path", path.toString());
        root.put("verdict", verdict);
        root.put("valid", true);
        ArrayNode ws = root.putArray("warnings");
        warnings.forEach(ws::add);
        ArrayNode files = root.putArray("files");
        for (SafetensorsFile f : cp.files()) {
          files.addObject().put("name", f.path().getFileName().toString()).put("bytes", f.fileSize())
              .put("header_bytes", f.header().headerLength()).put("tensors", f.tensors().size());
        }
        root.put("tensor_count", cp.tensors().size());
        root.put("parameters", cp.parameterCount());
        root.put("bytes", cp.byteSize());
        ObjectNode dt = root.putObject("dtypes");
        byType.forEach((k, v) -> dt.putObject(k.tag()).put("tensors", v[0]).put("parameters", v[1]).put("bytes", v[2]));
        if (cp.metadata() != null) {
          ObjectNode md = root.putObject("metadata");
          cp.metadata().forEach(md::put);
        }
        cp.config().ifPresent(c -> {
          c.architecture().ifPresent(a -> root.put("architecture", a));
          c.modelType().ifPresent(a -> root.put("model_type", a));
        });
        root.put("tied_embeddings", cp.tiedEmbeddings());
        ArrayNode ts = root.putArray("tensors");
        for (TensorInfo ti : cp.tensors().values()) {
          ObjectNode t = ts.addObject().put("name", ti.name()).put("dtype", ti.dtype().tag());
          ArrayNode sh = t.putArray("shape");
          for (long d : ti.shape().dims()) {
            sh.add(d);
          }
          t.put("file", cp.fileOf(ti.name()).path().getFileName().toString());
        }
        out.println(om.writerWithDefaultPrettyPrinter().writeValueAsString(root));
        return 0;
      }
      out.printf("%s%n", path);
      out.printf("  files:        %d (%s)%n", cp.files().size(), ByteSize.format(cp.files().stream().mapToLong(SafetensorsFile::fileSize).sum()));
      out.printf("  tensors:      %d%n", cp.tensors().size());
      out.printf("  parameters:   %,d%n", cp.parameterCount());
      out.printf("  bytes:        %s%n", ByteSize.format(cp.byteSize()));
      byType.forEach((k, v) -> out.printf("    %-8s    %d tensors, %,d parameters, %s%n", k.tag(), v[0], v[1], ByteSize.format(v[2])));
      cp.config().ifPresent(c -> out.printf("  architecture: %s%s%n", c.architecture().orElse("?"),
          c.modelType().map(t -> " (" + t + ")").orElse("")));
      out.printf("  tied embeddings: %s%n", cp.tiedEmbeddings() ? "yes" : "no");
      if (cp.metadata() != null && !cp.metadata().isEmpty()) {
        out.printf("  metadata:     %s%n", cp.metadata());
      }
      out.printf("  verdict:      %s%n", verdict);
      warnings.forEach(w -> out.printf("    warning: %s%n", w));
      int limit = maxTensors < 0 ? Integer.MAX_VALUE : maxTensors;
      if (limit > 0) {
        int nameWidth = Math.min(64, cp.tensors().keySet().stream().mapToInt(String::length).max().orElse(4));
        int shown = 0;
        for (TensorInfo ti : cp.tensors().values()) {
          if (shown++ >= limit) {
            out.printf("  ... %d more (--max-tensors -1 lists all)%n", cp.tensors().size() - limit);
            break;
          }
          out.printf("  %-" + nameWidth + "s  %-7s %s%n", ti.name(), ti.dtype().tag(), ti.shape());
        }
      }
      out.flush();
      return 0;
    }
  }
}
