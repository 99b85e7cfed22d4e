package dev.graft.cli;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.graft.io.Checkpoint;
import dev.graft.io.DTypeCodec;
import dev.graft.tensor.DType;
import java.io.IOException;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import picocli.CommandLine;

/** Black-box tests of the command line, through picocli with injected writers. */
class CliTest {
  @TempDir Path dir;

  record Run(int code, String out, String err) {}

  static Run run(String... args) {
    StringWriter out = new StringWriter();
    StringWriter err = new StringWriter();
    CommandLine cl = GraftCommand.commandLine(args); // as main builds it: only the named subcommand registered
    cl.setOut(new PrintWriter(out, true));
    cl.setErr(new PrintWriter(err, true));
    int code = cl.execute(args);
    return new Run(code, out.toString(), err.toString());
  }

  @Test
  void helpListsEveryCommandAndTheExitCodes() {
    Run r = run("--help");
    assertThat(r.code()).isZero();
    assertThat(r.out()).contains("merge", "validate", "operators", "inspect", "convert", "synth", "Exit codes", "2   bad input");
    for (String c : new String[] {"inspect", "convert", "synth", "merge", "validate", "operators", "logits", "train", "eval", "fisher", "interpolate", "align", "evolve", "quickstart"}) {
      Run h = run(c, "--help");
      assertThat(h.code()).isZero();
      assertThat(h.out()).contains("Usage: graft " + c, "Exit codes");
    }
  }

  @Test
  void commandsWithoutASubcommandNameSeeEverySubcommand() {
    assertThat(GraftCommand.commandLine("-v", "convert", "x").getSubcommands().keySet()).containsExactly("convert");
    assertThat(GraftCommand.commandLine("--help").getSubcommands()).hasSize(GraftCommand.SUBCOMMANDS.size());
    assertThat(GraftCommand.commandLine("--version").getSubcommands()).isEmpty();
    assertThat(GraftCommand.commandLine("--version", "--help").getSubcommands()).hasSize(GraftCommand.SUBCOMMANDS.size());
    Run v = run("--version");
    assertThat(v.code()).isZero();
    assertThat(v.out()).startsWith("graft ");
    Run h = run("help", "convert");
    assertThat(h.code()).isZero();
    assertThat(h.out()).contains("Usage: graft convert");
    Run typo = run("convrt", "in");
    assertThat(typo.code()).isEqualTo(2);
    assertThat(typo.err()).contains("convrt", "convert");
  }

  @Test
  void synthInspectConvertRoundTrip() throws IOException {
    Path fam = dir.resolve("fam");
    Run s = run("synth", "-q", "-o", fam.toString(), "--vocab", "300", "--hidden", "32", "--layers", "2", "--heads", "4",
        "--kv-heads", "2", "--intermediate", "48", "--shard-size", "20kB", "--fine-tunes", "1");
    assertThat(s.code()).as(s.err()).isZero();
    assertThat(fam.resolve("base/model.safetensors.index.json")).exists();
    assertThat(fam.resolve("ft-1/tokenizer.json")).exists();

    Run i = run("inspect", fam.resolve("base").toString(), "--json");
    assertThat(i.code()).isZero();
    JsonNode j = new ObjectMapper().readTree(i.out());
    assertThat(j.get("verdict").asText()).isEqualTo("valid");
    assertThat(j.get("architecture").asText()).isEqualTo("LlamaForCausalLM");
    assertThat(j.get("tensor_count").asInt()).isEqualTo(21);
    assertThat(j.get("files").size()).isGreaterThan(1);

    Path f16 = dir.resolve("f16");
    Run c = run("convert", "-q", fam.resolve("ft-1").toString(), "-o", f16.toString(), "--dtype", "f16");
    assertThat(c.code()).as(c.err()).isZero();
    assertThat(c.out()).contains("wrote 21 tensors");
    try (Checkpoint a = Checkpoint.open(fam.resolve("ft-1")); Checkpoint b = Checkpoint.open(f16)) {
      assertThat(b.files()).hasSize(1);
      assertThat(b.config().orElseThrow().text("torch_dtype")).contains("float16");
      for (String name : a.tensors().keySet()) {
        assertThat(b.info(name).dtype()).isEqualTo(DType.F16);
        float[] x = a.readFloats(name);
        float[] y = b.readFloats(name);
        for (int k = 0; k < x.length; k++) {
          assertThat(y[k]).isEqualTo(DTypeCodec.roundTo(x[k], DType.F16));
        }
      }
    }
  }

  @Test
  void badInputGivesOneMessageAndExitCode2() throws IOException {
    Path bad = dir.resolve("bad.safetensors");
    Files.write(bad, new byte[] {16, 0, 0, 0, 0, 0, 0, 0, '{', '"', 'a', '"', ':', '1', '}', ' ', ' ', ' ', ' ', ' ', ' ', ' ', ' ', ' '});
    Run r = run("inspect", bad.toString());
    assertThat(r.code()).isEqualTo(2);
    assertThat(r.err()).startsWith("error: " + bad).contains("tensor 'a'").doesNotContain("Exception", "\tat ");

    Path pickle = dir.resolve("pytorch_model.bin");
    Files.write(pickle, new byte[] {(byte) 0x80, 2, 0x7d, 0x71, 0, 0x28, 0x58, 1, 0, 0, 0, 0x61});
    Run p = run("convert", pickle.toString(), "-o", dir.resolve("o").toString());
    assertThat(p.code()).isEqualTo(2);
    assertThat(p.err()).contains("pickle", "safe_serialization=True");
    assertThat(dir.resolve("o")).doesNotExist();

    Run u = run("convert", bad.toString(), "-o", dir.resolve("o").toString(), "--shard-size", "lots");
    assertThat(u.code()).isEqualTo(2);
    assertThat(u.err()).contains("invalid size 'lots'");

    Run s = run("synth", "-o", dir.resolve("s").toString(), "--hidden", "30", "--heads", "4");
    assertThat(s.code()).isEqualTo(2);
    assertThat(s.err()).contains("must be a multiple of --heads");

    Run v = run("inspect", "-v", bad.toString());
    assertThat(v.code()).isEqualTo(2);
    assertThat(v.err()).contains("SafetensorsFormatException");
  }

  @Test
  void convertToASingleFileAndReshardKeepsBytesOfIntegerTensors() throws IOException {
    Path shared = Path.of(System.getProperty("graft.shared", "../shared"), "data/safetensors-real/burn-multi-layer/multi_layer.safetensors");
    org.junit.jupiter.api.Assumptions.assumeTrue(Files.isRegularFile(shared), "../shared absent");
    Path out = dir.resolve("one.safetensors");
    Run r = run("convert", "-q", shared.toString(), "-o", out.toString(), "--dtype", "bf16");
    assertThat(r.code()).as(r.err()).isZero();
    try (Checkpoint a = Checkpoint.open(shared); Checkpoint b = Checkpoint.open(out)) {
      assertThat(b.info("norm1.num_batches_tracked").dtype()).isEqualTo(DType.I64);
      assertThat(b.readFloats("norm1.num_batches_tracked")).containsExactly(1f);
      assertThat(b.info("fc1.weight").dtype()).isEqualTo(DType.BF16);
      assertThat(b.readFloats("conv1.bias")[0]).isEqualTo(DTypeCodec.roundTo(a.readFloats("conv1.bias")[0], DType.BF16));
    }
    try (Stream<Path> s = Files.list(dir)) {
      assertThat(s.map(p -> p.getFileName().toString())).containsExactly("one.safetensors");
    }
  }
}
