package dev.graft.eval;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.graft.InvalidInputException;
import dev.graft.data.Dataset;
import dev.graft.io.Progress;
import dev.graft.model.Classifier;
import dev.graft.model.ClassifierConfig;
import dev.graft.recipe.RecipeException;
import dev.graft.synth.SynthArch;
import dev.graft.synth.SynthSpec;
import dev.graft.synth.SyntheticCheckpoints;
import dev.graft.tensor.DType;
import dev.graft.tensor.Device;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class EvaluatorTest {
  @TempDir Path dir;

  private Path write(String name, String text) throws IOException {
    Path p = dir.resolve(name);
    Files.createDirectories(p.getParent());
    Files.writeString(p, text);
    return p;
  }

  @Test
  void heldOutDataNeverReachesFitness() throws IOException {
    Path t = write("t.yaml", "name: d\nkind: classification\ndata: {source: procedural, size: 8, count: 600, seed: 1}\nsplit: {fit: 0.5, seed: 2}\n");
    Task.Classification task = (Task.Classification) Task.read(t);
    try (Classifier c = Classifier.init(ClassifierConfig.mlp(64, new int[] {32}, 10), 1, Device.CPU)) {
      c.train(task.fit(), new Classifier.TrainOptions(3, 32, 3e-3, 1), Progress.NONE);
      EvalModel m = new EvalModel.Image(c);
      double before = Fitness.of(List.of(task)).value(m);
      Evaluator.Report clean = Evaluator.evaluate(m, task);
      // poison the held-out split in place: wrong labels and garbage pixels
      Dataset h = task.heldOut();
      java.util.Arrays.fill(h.features(), 7f);
      for (int i = 0; i < h.size(); i++) {
        h.labels()[i] = (h.labels()[i] + 1) % 10;
      }
      double after = Fitness.of(List.of(task)).value(m);
      Evaluator.Report poisoned = Evaluator.evaluate(m, task);
      assertThat(after).isEqualTo(before);
      assertThat(poisoned.fit()).isEqualTo(clean.fit());
      assertThat(poisoned.heldOut().value()).isNotEqualTo(clean.heldOut().value()); // the report does see it
      assertThat(clean.fit().value()).isEqualTo(before);
    }
  }

  @Test
  void taskFilesWithBadFieldsAreReportedWithLines() throws IOException {
    Path t = write("bad.yaml", String.join("\n",
        "name: x",
        "kind: clasification",
        "data: {source: procedural, size: 9, count: -3}",
        "split: {fit: 1.5}",
        "metrics: accuracy",
        ""));
    assertThatThrownBy(() -> TaskSpec.read(t)).isInstanceOf(RecipeException.class)
        .hasMessageContaining("bad.yaml:2:7").hasMessageContaining("'clasification' is not one of")
        .hasMessageContaining("Did you mean 'classification'").hasMessageStartingWith("invalid task (5 problems)")
        .hasMessageContaining("bad.yaml:3:").hasMessageContaining("size")
        .hasMessageContaining("count")
        .hasMessageContaining("bad.yaml:4:").hasMessageContaining("split.fit")
        .hasMessageContaining("bad.yaml:5:1").hasMessageContaining("unknown key 'metrics'");
    Path missing = write("m.yaml", "kind: perplexity\ndata: {source: jsonl, path: nope.jsonl}\n");
    assertThatThrownBy(() -> TaskSpec.read(missing)).hasMessageContaining("nope.jsonl does not exist");
    write("d.jsonl", "{\"context\": \"a\", \"choices\": [\"x\", \"y\"], \"answer\": 2}\n");
    Path mc = write("mc.yaml", "kind: multiple_choice\ndata: {path: d.jsonl}\n");
    assertThatThrownBy(() -> Task.read(mc)).isInstanceOf(InvalidInputException.class)
        .hasMessageContaining("d.jsonl:1: \"answer\" must be the index of the right choice, in [0, 2)");
  }

  @Test
  void languageTasksScoreASyntheticModel() throws IOException {
    SynthSpec s = new SynthSpec(400, 32, 2, 4, 2, 48, false, DType.F32, Long.MAX_VALUE, 0, 1, 3).withArch(SynthArch.QWEN2, 0);
    Path model = dir.resolve("lm");
    SyntheticCheckpoints.writeModel(s, 0, model, 2, Progress.NONE);
    write("p.jsonl", "{\"text\": \"the cat sat on the mat\"}\n{\"text\": \"a dog ran\"}\n{\"text\": \"hello there\"}\n{\"text\": \"to be or not\"}\n");
    write("c.jsonl", "{\"context\": \"the sky is\", \"choices\": [\"blue\", \"green\", \"a very long choice\"], \"answer\": 0}\n".repeat(4));
    write("g.jsonl", "{\"prompt\": \"1 + 1 =\", \"answer\": \"2\"}\n".repeat(2));
    Path ppl = write("ppl.yaml", "kind: perplexity\ndata: {path: p.jsonl}\nsplit: {fit: 0.5}\n");
    Path mc = write("mc.yaml", "kind: multiple_choice\ndata: {path: c.jsonl}\nmetric: acc_norm\n");
    Path gen = write("gen.yaml", "kind: generation\ndata: {path: g.jsonl}\nmax_new_tokens: 4\n");
    try (EvalModel m = EvalModel.load(model, Device.CPU)) {
      EvalModel.Language lm = (EvalModel.Language) m;
      Evaluator.Report p = Evaluator.evaluate(m, Task.read(ppl));
      // a random model over 400 tokens: perplexity near the vocabulary size, and exactly exp(mean NLL)
      assertThat(p.fit().value()).isBetween(200.0, 800.0);
      assertThat(p.fit().value()).isCloseTo(Math.exp(p.fit().metrics().get("nll_per_token")), org.assertj.core.data.Offset.offset(1e-9));
      // by hand: the mean next-token NLL of the fit texts
      Task.Text tt = (Task.Text) Task.read(ppl);
      double nll = 0;
      int tokens = 0;
      for (var e : tt.fit()) {
        int[] ids = lm.tokenizer().encode(e.get("text").asText(), true);
        double[][] lp = lm.model().nextTokenLogProbs(new int[][] {ids}, new int[] {ids.length});
        for (double v : lp[0]) {
          nll -= v;
          tokens++;
        }
      }
      assertThat(p.fit().value()).isCloseTo(Math.exp(nll / tokens), org.assertj.core.data.Offset.offset(1e-6 * p.fit().value()));
      Evaluator.Report c = Evaluator.evaluate(m, Task.read(mc));
      assertThat(c.fit().metrics()).containsKeys("acc", "acc_norm");
      assertThat(c.fit().metric()).isEqualTo("acc_norm");
      Evaluator.Report g = Evaluator.evaluate(m, Task.read(gen));
      assertThat(g.fit().value()).isBetween(0.0, 1.0);
      Path cls = write("cls.yaml", "kind: classification\ndata: {source: procedural, count: 20}\n");
      assertThatThrownBy(() -> Evaluator.evaluate(m, Task.read(cls))).hasMessageContaining("the model is a language model");
    }
  }

  @Test
  void answersAreExtractedByGroupOrWholeMatch() {
    assertThat(Evaluator.extract(" the answer is 42.", Pattern.compile("(-?\\d+)"))).isEqualTo("42");
    assertThat(Evaluator.extract("x=7", Pattern.compile("\\d"))).isEqualTo("7");
    assertThat(Evaluator.extract("  yes \n", null)).isEqualTo("yes");
    assertThat(Evaluator.extract("none", Pattern.compile("\\d"))).isEmpty();
  }
}
