package dev.graft.cli;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.graft.cli.CliTest.Run;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** graft align, interpolate --align and recipes with an align step, on two networks trained from different seeds. */
class AlignCliTest {
  @TempDir Path dir;
  Path task;

  @BeforeEach
  void twoNetworks() throws IOException {
    task = dir.resolve("t.yaml");
    Files.writeString(task, "kind: classification\ndata: {source: procedural, size: 8, count: 1500, seed: 1}\nsplit: {fit: 0.8, seed: 2}\n");
    for (String seed : new String[] {"1", "2"}) {
      Run r = CliTest.run("train", "-q", "--task", task.toString(), "-o", dir.resolve("s" + seed).toString(), "--hidden", "48", "--epochs", "6",
          "--lr", "0.003", "--seed", seed);
      assertThat(r.code()).as(r.err()).isZero();
    }
  }

  private JsonNode json(Path p) throws IOException {
    return new ObjectMapper().readTree(p.toFile());
  }

  @Test
  void alignKeepsTheFunctionAndRemovesTheBarrier() throws IOException {
    Path out = dir.resolve("aligned");
    Run a = CliTest.run("align", "--reference", dir.resolve("s1").toString(), dir.resolve("s2").toString(), "-o", out.toString(), "-q");
    assertThat(a.code()).as(a.err()).isZero();
    assertThat(a.out()).contains("s2", "yes", "1/1");
    JsonNode perms = json(out.resolve("permutations.json"));
    assertThat(perms.get("models").get("s2").get("fc1").size()).isEqualTo(48);
    JsonNode report = json(out.resolve("alignment.json")).get("models").get("s2");
    assertThat(report.get("l2_after").asDouble()).isLessThan(report.get("l2_before").asDouble());
    assertThat(report.get("agreement_after").asDouble()).isGreaterThan(report.get("agreement_before").asDouble());
    // The aligned copy computes what the original computes.
    Path e1 = dir.resolve("e1.json");
    Path e2 = dir.resolve("e2.json");
    assertThat(CliTest.run("eval", dir.resolve("s2").toString(), "--task", task.toString(), "-o", e1.toString()).code()).isZero();
    assertThat(CliTest.run("eval", out.resolve("s2").toString(), "--task", task.toString(), "-o", e2.toString()).code()).isZero();
    for (String split : new String[] {"fit", "held-out"}) {
      JsonNode x = json(e1).get("tasks").get(0).get(split).get("metrics");
      JsonNode y = json(e2).get("tasks").get(0).get(split).get("metrics");
      assertThat(y.get("accuracy").asDouble()).isEqualTo(x.get("accuracy").asDouble());
      // Permuted hidden units sum in another order: equal up to float rounding.
      assertThat(y.get("loss").asDouble()).isCloseTo(x.get("loss").asDouble(), org.assertj.core.data.Offset.offset(1e-5));
    }

    // Git Re-Basin's plot: the loss barrier between the two networks mostly disappears after alignment.
    Path ip = dir.resolve("ip");
    Run i = CliTest.run("interpolate", dir.resolve("s1").toString(), dir.resolve("s2").toString(), "--task", task.toString(), "--points", "3",
        "--align", "-o", ip.toString(), "-q");
    assertThat(i.code()).as(i.err()).isZero();
    JsonNode r = json(ip.resolve("interpolation.json"));
    double naive = r.get("barriers").get("held-out/loss").asDouble();
    double aligned = r.get("after_alignment").get("barriers").get("held-out/loss").asDouble();
    assertThat(aligned).as("naive %s aligned %s", naive, aligned).isLessThan(naive / 2);
    assertThat(Files.size(ip.resolve("interpolation.png"))).isPositive();
  }

  @Test
  void aRecipeCanAlignBeforeMerging() throws IOException {
    String models = "models:\n  - model: s1\n    parameters: {weight: 0.5}\n  - model: s2\n    parameters: {weight: 0.5}\n";
    Path naive = dir.resolve("naive.yml");
    Path aligned = dir.resolve("aligned.yml");
    Files.writeString(naive, "merge_method: linear\n" + models);
    Files.writeString(aligned, "merge_method: linear\nalign: {method: weight_matching, reference: s1}\n" + models);
    Path n = dir.resolve("n.json");
    Path a = dir.resolve("a.json");
    assertThat(CliTest.run("eval", naive.toString(), "--task", task.toString(), "-o", n.toString(), "-q").code()).isZero();
    Run r = CliTest.run("eval", aligned.toString(), "--task", task.toString(), "-o", a.toString(), "-q");
    assertThat(r.code()).as(r.err()).isZero();
    double lossNaive = json(n).get("tasks").get(0).get("held-out").get("metrics").get("loss").asDouble();
    double lossAligned = json(a).get("tasks").get(0).get("held-out").get("metrics").get("loss").asDouble();
    assertThat(lossAligned).as("naive %s aligned %s", lossNaive, lossAligned).isLessThan(lossNaive);
    // graft merge writes the same merge and keeps the align step in the recipe it records.
    Run m = CliTest.run("merge", aligned.toString(), "-o", dir.resolve("m").toString(), "-q");
    assertThat(m.code()).as(m.err()).isZero();
    assertThat(Files.readString(dir.resolve("m/mergekit_config.yml"))).contains("align:", "reference: s1", "method: weight_matching");
    Path onDisk = dir.resolve("d.json");
    assertThat(CliTest.run("eval", dir.resolve("m").toString(), "--task", task.toString(), "-o", onDisk.toString()).code()).isZero();
    assertThat(json(onDisk).get("tasks").toString()).isEqualTo(json(a).get("tasks").toString());
  }

  @Test
  void badInputExitsWithTwo() throws IOException {
    Run wrongRef = CliTest.run("merge", write("r.yml", "merge_method: linear\nparameters: {weight: 1}\nalign: {reference: s3}\nmodels:\n  - model: s1\n  - model: s2\n").toString(),
        "-o", dir.resolve("x").toString());
    assertThat(wrongRef.code()).isEqualTo(2);
    assertThat(wrongRef.err()).contains("r.yml:3:9 align.reference: alignment reference 's3' is not one of this stage's models", "Did you mean 's1'?");
    Run method = CliTest.run("validate", write("m.yml", "merge_method: linear\nparameters: {weight: 1}\nalign: {method: activation, reference: s1, max_sweeps: 0}\nmodels:\n  - model: s1\n").toString());
    assertThat(method.code()).isEqualTo(2);
    assertThat(method.err()).contains("unknown alignment method 'activation'", "max_sweeps must be a positive integer");
    Run badSpec = CliTest.run("align", "--reference", dir.resolve("s1").toString(), dir.resolve("s2").toString(), "-o", dir.resolve("o").toString(),
        "--spec", write("spec.yaml", "tensors:\n  fc1.weight: [h, null]\n  fc3.weight: [null, h]\n").toString());
    assertThat(badSpec.code()).isEqualTo(2);
    assertThat(badSpec.err()).contains("tensor 'fc3.weight' is not in", "Did you mean 'fc1.weight'?").doesNotContain("Exception");
    assertThat(Files.exists(dir.resolve("o"))).isFalse();
    Run other = CliTest.run("train", "-q", "--task", task.toString(), "-o", dir.resolve("small").toString(), "--hidden", "16", "--epochs", "1");
    assertThat(other.code()).isZero();
    Run shapes = CliTest.run("align", "--reference", dir.resolve("s1").toString(), dir.resolve("small").toString(), "-o", dir.resolve("o").toString());
    assertThat(shapes.code()).isEqualTo(2);
    assertThat(shapes.err()).contains("fc1.weight has shape [16, 64], the reference has [48, 64]");
    Run file = CliTest.run("align", "--reference", dir.resolve("s1").toString(), dir.resolve("s2").toString(), "-o", task.toString());
    assertThat(file.code()).isEqualTo(2);
    assertThat(file.err()).contains("is not a folder");
  }

  private Path write(String name, String text) throws IOException {
    Path p = dir.resolve(name);
    Files.writeString(p, text);
    return p;
  }
}
