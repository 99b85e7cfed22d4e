package dev.graft.cli;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.graft.cli.CliTest.Run;
import dev.graft.io.Checkpoint;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** train, eval, fisher and logits through the command line, good input and bad. */
class ModelCliTest {
  @TempDir Path dir;

  private Path task(String name, String yaml) throws IOException {
    Path p = dir.resolve(name);
    Files.writeString(p, yaml);
    return p;
  }

  @Test
  void trainEvalFisherOnProceduralDigits() throws IOException {
    Path t = task("t.yaml", "name: d\nkind: classification\ndata: {source: procedural, size: 8, count: 1500, seed: 1}\nsplit: {fit: 0.8, seed: 2}\n");
    Path m = dir.resolve("m");
    Run tr = CliTest.run("train", "-q", "--task", t.toString(), "-o", m.toString(), "--hidden", "32", "--epochs", "6", "--lr", "0.003");
    assertThat(tr.code()).as(tr.err()).isZero();
    assertThat(tr.out()).contains("epoch   6", "held-out (300 examples)");
    Run again = CliTest.run("train", "-q", "--task", t.toString(), "-o", dir.resolve("m2").toString(), "--hidden", "32", "--epochs", "6", "--lr", "0.003");
    assertThat(again.code()).isZero();
    assertThat(Files.readAllBytes(dir.resolve("m2/model.safetensors"))).isEqualTo(Files.readAllBytes(m.resolve("model.safetensors")));

    Path json = dir.resolve("r.json");
    Run ev = CliTest.run("eval", m.toString(), "--task", t.toString(), "-o", json.toString());
    assertThat(ev.code()).as(ev.err()).isZero();
    JsonNode r = new ObjectMapper().readTree(json.toFile()).get("tasks").get(0);
    assertThat(r.get("held-out").get("value").asDouble()).isGreaterThan(0.8);
    assertThat(r.get("fit").get("examples").asInt()).isEqualTo(1200);

    Run f = CliTest.run("fisher", m.toString(), "--task", t.toString(), "-q", "--limit", "100");
    assertThat(f.code()).as(f.err()).isZero();
    try (Checkpoint c = Checkpoint.open(dir.resolve("m.fisher.safetensors"))) {
      assertThat(c.tensors().keySet()).containsExactly("fc1.weight", "fc1.bias", "fc2.weight", "fc2.bias");
      assertThat(c.metadata().get("graft.fisher")).isEqualTo("estimator=exact,examples=100");
    }
  }

  @Test
  void badInputExitsWithTwoAndAMessage() throws IOException {
    Path t = task("t.yaml", "kind: classification\ndata: {source: procedural, count: 50}\n");
    Path lm = dir.resolve("lm");
    assertThat(CliTest.run("synth", "-q", "-o", lm.toString(), "--fine-tunes", "0", "--vocab", "300", "--hidden", "32").code()).isZero();
    Run wrongKind = CliTest.run("eval", lm.resolve("base").toString(), "--task", t.toString());
    assertThat(wrongKind.code()).isEqualTo(2);
    assertThat(wrongKind.err()).contains("classification task; the model is a language model").doesNotContain("Exception");
    Run badTask = CliTest.run("eval", lm.resolve("base").toString(), "--task", task("b.yaml", "kind: [x]\n").toString());
    assertThat(badTask.code()).isEqualTo(2);
    assertThat(badTask.err()).contains("b.yaml:1:7 kind: expected a string");
    Run noModel = CliTest.run("train", "--task", t.toString(), "-o", dir.resolve("x").toString(), "--from", dir.resolve("none").toString());
    assertThat(noModel.code()).isEqualTo(2);
    Run badModel = CliTest.run("train", "--task", t.toString(), "-o", dir.resolve("x").toString(), "--model", "rnn");
    assertThat(badModel.code()).isEqualTo(2);
    assertThat(badModel.err()).contains("--model must be mlp or cnn");
    Run badIds = CliTest.run("logits", lm.resolve("base").toString(), "--ids", "1,999");
    assertThat(badIds.code()).isEqualTo(2);
    assertThat(badIds.err()).contains("token id 999 is outside the vocabulary [0, 300)");
    Run ok = CliTest.run("logits", lm.resolve("base").toString(), "--text", "the cat", "--generate", "3", "-o", dir.resolve("l.safetensors").toString());
    assertThat(ok.code()).as(ok.err()).isZero();
    assertThat(ok.out()).contains("next token", "greedy:");
    try (Checkpoint c = Checkpoint.open(dir.resolve("l.safetensors"))) {
      assertThat(c.info("logits").shape().dim(1)).isEqualTo(300);
    }
  }
}
