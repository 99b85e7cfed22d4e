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

  /** The researcher's loop: a base, two specialists, their Fishers, a Fisher merge, and its score on all digits. */
  @Test
  void specialistsTrainedHereMergeIntoAModelBetterThanEither() throws IOException {
    String data = "data: {source: procedural, size: 8, count: 2000, seed: 1}\nsplit: {fit: 0.8, seed: 2}\n";
    Path all = task("all.yaml", "kind: classification\n" + data);
    Path low = task("low.yaml", "kind: classification\nclasses: [0, 1, 2, 3, 4]\n" + data);
    Path high = task("high.yaml", "kind: classification\nclasses: [5, 6, 7, 8, 9]\n" + data);
    String[] common = {"-q", "--hidden", "32", "--lr", "0.003"};
    assertThat(CliTest.run(cat(new String[] {"train", "--task", all.toString(), "-o", dir.resolve("base").toString(), "--epochs", "3"}, common)).code()).isZero();
    for (String[] s : new String[][] {{"low", low.toString()}, {"high", high.toString()}}) {
      Run r = CliTest.run(cat(new String[] {"train", "--task", s[1], "--from", dir.resolve("base").toString(), "-o", dir.resolve(s[0]).toString(), "--epochs", "4"}, common));
      assertThat(r.code()).as(r.err()).isZero();
      assertThat(CliTest.run("fisher", dir.resolve(s[0]).toString(), "--task", s[1], "-q").code()).isZero();
    }
    Path recipe = dir.resolve("fisher.yml");
    Files.writeString(recipe, "merge_method: fisher\nmodels:\n  - model: " + dir.resolve("low") + "\n    parameters: {weight: 1.0}\n"
        + "  - model: " + dir.resolve("high") + "\n    parameters: {weight: 1.0}\ndtype: float32\n");
    Run merge = CliTest.run("merge", recipe.toString(), "-o", dir.resolve("merged").toString(), "-q");
    assertThat(merge.code()).as(merge.err()).isZero(); // the Fishers were found beside the models
    double[] acc = new double[3];
    String[] models = {"low", "high", "merged"};
    for (int i = 0; i < 3; i++) {
      Path json = dir.resolve(models[i] + ".json");
      assertThat(CliTest.run("eval", dir.resolve(models[i]).toString(), "--task", all.toString(), "-o", json.toString()).code()).isZero();
      acc[i] = new ObjectMapper().readTree(json.toFile()).get("tasks").get(0).get("held-out").get("value").asDouble();
    }
    assertThat(acc[2]).as("merged vs specialists " + java.util.Arrays.toString(acc)).isGreaterThan(Math.max(acc[0], acc[1]) + 0.1);
  }

  /**
   * {@code graft eval RECIPE} merges in memory and scores exactly what {@code graft merge} would write: a random
   * operator (seeded), bf16 output (rounded in memory as on disk), copied tensors, a tokenizer.
   */
  @Test
  void evalOfARecipeInMemoryEqualsEvalOfTheWrittenMerge() throws IOException {
    Path fam = dir.resolve("fam");
    Run synth = CliTest.run("synth", "-q", "-o", fam.toString(), "--fine-tunes", "2", "--vocab", "300", "--hidden", "32", "--layers", "2");
    assertThat(synth.code()).as(synth.err()).isZero();
    Files.writeString(dir.resolve("p.jsonl"), "{\"text\": \"the quick brown fox\"}\n{\"text\": \"jumps over the lazy dog\"}\n"
        + "{\"text\": \"pack my box with five dozen jugs\"}\n{\"text\": \"how vexingly quick daft zebras jump\"}\n");
    Path t = task("ppl.yaml", "kind: perplexity\ndata: {path: p.jsonl}\nsplit: {fit: 0.5, seed: 3}\n");
    Path recipe = dir.resolve("dare.yml");
    Files.writeString(recipe, "merge_method: dare_ties\nbase_model: fam/base\nmodels:\n"
        + "  - model: fam/ft-1\n    parameters: {weight: 0.6, density: 0.5}\n"
        + "  - model: fam/ft-2\n    parameters: {weight: 0.4, density: 0.5}\ndtype: bfloat16\n");
    assertThat(CliTest.run("merge", recipe.toString(), "-o", dir.resolve("merged").toString(), "-q", "--seed", "7").code()).isZero();
    Path onDisk = dir.resolve("disk.json");
    Path inMemory = dir.resolve("memory.json");
    Run a = CliTest.run("eval", dir.resolve("merged").toString(), "--task", t.toString(), "-o", onDisk.toString());
    Run b = CliTest.run("eval", recipe.toString(), "--task", t.toString(), "-o", inMemory.toString(), "--seed", "7", "-q");
    assertThat(a.code()).as(a.err()).isZero();
    assertThat(b.code()).as(b.err()).isZero();
    assertThat(b.out()).contains("(in memory)");
    assertThat(Files.exists(dir.resolve("dare"))).isFalse();
    JsonNode x = new ObjectMapper().readTree(onDisk.toFile()).get("tasks");
    JsonNode y = new ObjectMapper().readTree(inMemory.toFile()).get("tasks");
    assertThat(y.toString()).isEqualTo(x.toString());
    // A different seed draws other DARE masks, so the check above can fail.
    Path other = dir.resolve("other.json");
    assertThat(CliTest.run("eval", recipe.toString(), "--task", t.toString(), "-o", other.toString(), "--seed", "8", "-q").code()).isZero();
    assertThat(new ObjectMapper().readTree(other.toFile()).get("tasks").toString()).isNotEqualTo(x.toString());
  }

  private static String[] cat(String[] a, String[] b) {
    String[] r = java.util.Arrays.copyOf(a, a.length + b.length);
    System.arraycopy(b, 0, r, a.length, b.length);
    return r;
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
