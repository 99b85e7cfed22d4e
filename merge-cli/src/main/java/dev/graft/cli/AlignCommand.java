package dev.graft.cli;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.graft.InvalidInputException;
import dev.graft.align.Aligner;
import dev.graft.align.PermutationSpec;
import dev.graft.align.WeightMatching;
import dev.graft.io.AtomicFiles;
import dev.graft.io.Checkpoint;
import dev.graft.model.Weights;
import java.io.PrintWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.Callable;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

/** {@code graft align --reference A MODEL... -o DIR}. */
@Command(
    name = "align",
    mixinStandardHelpOptions = true,
    description = {
      "Permute the hidden units of each MODEL so that it lines up with the reference (Git Re-Basin weight matching),",
      "without changing what it computes. Writes DIR/<model name>/ (same tensor names, dtypes, config and tokenizer",
      "files), DIR/permutations.json and DIR/alignment.json (objective per sweep, distances, top singular subspace",
      "agreement per matrix, before and after). Everything is checked before any weight is read."
    },
    exitCodeListHeading = "%nExit codes:%n",
    exitCodeList = {"0:success", "1:failure at run time", "2:bad input (models, spec, output)"})
final class AlignCommand implements Callable<Integer> {
  @CommandLine.Spec CommandLine.Model.CommandSpec spec;

  @Option(names = "--reference", required = true, paramLabel = "A", description = "Model the others are aligned to (not written).")
  Path reference;

  @Parameters(paramLabel = "MODEL", arity = "1..*", description = "Models to align.")
  List<Path> models;

  @Option(names = {"-o", "--output"}, required = true, paramLabel = "DIR", description = "Output folder.")
  Path out;

  @Option(names = "--spec", defaultValue = "auto", paramLabel = "auto|mlp|llama|FILE",
      description = "Which axes share a permutation: auto (from config.json), mlp (a chain of linear/conv layers), llama"
          + " (Llama, Mistral, Qwen2, Qwen3), or a YAML spec file (default: ${DEFAULT-VALUE}).")
  String specName;

  @Option(names = "--max-sweeps", defaultValue = "100", paramLabel = "N", description = "At most N sweeps over the permutations (default: ${DEFAULT-VALUE}).")
  int maxSweeps;

  @Option(names = "--tolerance", defaultValue = "1e-9", paramLabel = "X",
      description = "Relative improvement of a permutation's objective that counts as progress (default: ${DEFAULT-VALUE}).")
  double tolerance;

  @Option(names = "--seed", defaultValue = "0", paramLabel = "N", description = "Seeds the order of permutations in each sweep (default: ${DEFAULT-VALUE}).")
  long seed;

  @Option(names = "--top-k", defaultValue = "4", paramLabel = "K",
      description = "Singular vectors compared per matrix in the diagnostics; 0 skips them (default: ${DEFAULT-VALUE}).")
  int topK;

  @Option(names = "--shard-size", defaultValue = "5GB", paramLabel = "SIZE", converter = Options.SizeConverter.class,
      description = "Maximum bytes per output shard (default: ${DEFAULT-VALUE}).")
  long shardSize;

  @CommandLine.Mixin QuietOption quiet;

  @CommandLine.Mixin DeviceOption device;

  @Override
  public Integer call() throws Exception {
    PrintWriter o = spec.commandLine().getOut();
    PrintWriter err = spec.commandLine().getErr();
    WeightMatching.Options opt = new WeightMatching.Options(maxSweeps, tolerance, seed, device.device());
    if (Files.exists(out) && !Files.isDirectory(out)) {
      throw new InvalidInputException("output " + out + " exists and is not a folder; choose a folder name");
    }
    if (Files.isDirectory(out)) {
      try (var s = Files.list(out)) {
        if (s.findAny().isPresent() && !Files.exists(out.resolve("permutations.json"))) {
          throw new InvalidInputException("output folder " + out + " exists and is not an earlier 'graft align' output; choose another folder");
        }
      }
    }
    List<Checkpoint> open = new ArrayList<>();
    try {
      Checkpoint ref = Checkpoint.open(reference);
      open.add(ref);
      PermutationSpec ps = Aligner.spec(specName, ref);
      Weights a = Weights.of(ref);
      Map<String, Integer> sizes = ps.sizes(WeightMatching.shapes(a), reference.toString());
      // Every model is opened and checked against the spec before any weight is read.
      Map<String, Checkpoint> byName = new LinkedHashMap<>();
      Set<String> used = new HashSet<>();
      for (Path m : models) {
        Checkpoint c = Checkpoint.open(m);
        open.add(c);
        WeightMatching.check(ps, a, Weights.of(c));
        String name = m.toAbsolutePath().normalize().getFileName().toString();
        if (!used.add(name)) {
          throw new InvalidInputException("two models are named '" + name + "' (" + m + "); their aligned copies would overwrite each other in " + out
              + ". Align them in separate runs");
        }
        byName.put(name, c);
      }
      List<String> unnamed = ps.unnamed(WeightMatching.shapes(a));
      if (!unnamed.isEmpty()) {
        err.println("note: the spec leaves " + unnamed.size() + " tensor(s) unpermuted: " + String.join(", ", unnamed.subList(0, Math.min(5, unnamed.size())))
            + (unnamed.size() > 5 ? ", ..." : ""));
      }
      err.printf(Locale.ROOT, "spec %s: %d permutations (largest %d)%n", ps.name(), sizes.size(), sizes.values().stream().mapToInt(Integer::intValue).max().orElse(0));
      Files.createDirectories(out);
      Map<String, Map<String, int[]>> perms = new LinkedHashMap<>();
      Map<String, Aligner.Report> reports = new LinkedHashMap<>();
      Map<String, Double> seconds = new LinkedHashMap<>();
      for (Map.Entry<String, Checkpoint> e : byName.entrySet()) {
        long t0 = System.nanoTime();
        ProgressLine[] bar = {null};
        Aligner.Report r = Aligner.align(ps, a, Weights.of(e.getValue()), opt, topK, ProgressLine.perSweep(err, e.getKey(), quiet, bar));
        if (bar[0] != null) {
          bar[0].finish();
        }
        Aligner.write(e.getValue(), ps, r.matching().perms(), out.resolve(e.getKey()), shardSize, reference.toString());
        perms.put(e.getKey(), r.matching().perms());
        reports.put(e.getKey(), r);
        seconds.put(e.getKey(), (System.nanoTime() - t0) / 1e9);
      }
      Aligner.writePermutations(out.resolve("permutations.json"), perms, reference.toString(), ps.name());
      writeReport(out.resolve("alignment.json"), reports, seconds);
      o.printf("%-20s %7s %9s %7s %23s %19s %8s%n", "model", "sweeps", "converged", "moved", "L2 distance", "top-" + topK + " agreement", "time");
      for (Map.Entry<String, Aligner.Report> e : reports.entrySet()) {
        Aligner.Report r = e.getValue();
        o.printf(Locale.ROOT, "%-20s %7d %9s %4d/%-2d %10.4g -> %-10.4g %7.3f -> %-7.3f %7.1fs%n", e.getKey(), r.matching().sweeps().size(),
            r.matching().converged() ? "yes" : "no", r.moved(), r.matching().perms().size(), r.distanceBefore(), r.distanceAfter(),
            r.meanAgreement(false), r.meanAgreement(true), seconds.get(e.getKey()));
      }
      o.println("wrote " + out);
      o.flush();
      return 0;
    } finally {
      open.forEach(Checkpoint::close);
    }
  }

  private static void writeReport(Path file, Map<String, Aligner.Report> reports, Map<String, Double> seconds) throws Exception {
    ObjectMapper om = new ObjectMapper();
    ObjectNode root = om.createObjectNode();
    ObjectNode ms = root.putObject("models");
    for (Map.Entry<String, Aligner.Report> e : reports.entrySet()) {
      Aligner.Report r = e.getValue();
      ObjectNode n = ms.putObject(e.getKey());
      n.put("seconds", seconds.get(e.getKey()));
      n.put("converged", r.matching().converged());
      n.put("initial_objective", r.matching().initialObjective());
      ArrayNode sw = n.putArray("sweeps");
      for (WeightMatching.Sweep s : r.matching().sweeps()) {
        sw.addObject().put("sweep", s.index()).put("improved", s.improved()).put("objective", s.objective()).put("seconds", s.seconds());
      }
      n.put("l2_before", r.distanceBefore());
      n.put("l2_after", r.distanceAfter());
      n.put("agreement_before", r.meanAgreement(false));
      n.put("agreement_after", r.meanAgreement(true));
      ArrayNode ts = n.putArray("tensors");
      for (Aligner.TensorReport t : r.tensors()) {
        ObjectNode tn = ts.addObject().put("tensor", t.tensor()).put("l2_before", t.distanceBefore()).put("l2_after", t.distanceAfter());
        if (!Double.isNaN(t.agreementBefore())) {
          tn.put("agreement_before", t.agreementBefore()).put("agreement_after", t.agreementAfter());
        }
      }
    }
    AtomicFiles.writeString(file, om.writerWithDefaultPrettyPrinter().writeValueAsString(root) + "\n");
  }
}
