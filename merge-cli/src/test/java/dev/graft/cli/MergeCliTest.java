package dev.graft.cli;

import static org.assertj.core.api.Assertions.assertThat;

import dev.graft.io.Checkpoint;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** graft merge, validate and operators through picocli: success paths and every class of bad input (exit code 2). */
class MergeCliTest {
  @TempDir static Path dir;

  @BeforeAll
  static void family() {
    CliTest.Run s = CliTest.run("synth", "-q", "-o", dir.resolve("fam").toString(), "--vocab", "300", "--hidden", "32", "--layers", "4",
        "--heads", "4", "--kv-heads", "2", "--intermediate", "48", "--shard-size", "40kB", "--fine-tunes", "2");
    assertThat(s.code()).as(s.err()).isZero();
    CliTest.Run w = CliTest.run("synth", "-q", "-o", dir.resolve("wide").toString(), "--vocab", "300", "--hidden", "48", "--layers", "4",
        "--heads", "4", "--kv-heads", "2", "--intermediate", "48", "--fine-tunes", "0");
    assertThat(w.code()).as(w.err()).isZero();
  }

  static Path recipe(String name, String text) throws IOException {
    Path p = dir.resolve(name);
    Files.writeString(p, text);
    return p;
  }

  static final String TIES = """
      merge_method: ties
      base_model: fam/base
      models:
        - model: fam/ft-1
          parameters: {weight: 0.6, density: 0.5}
        - model: fam/ft-2
          parameters: {weight: 0.4, density: 0.5}
      dtype: bfloat16
      """;

  @Test
  void mergesValidatesAndDryRuns() throws IOException {
    Path r = recipe("ties.yml", TIES);
    Path out = dir.resolve("merged");
    CliTest.Run m = CliTest.run("merge", r.toString(), "-o", out.toString(), "--out-shard-size", "100K", "--backend", "reference", "--seed", "5");
    assertThat(m.code()).as(m.err()).isZero();
    assertThat(m.out()).contains("merged 39 tensors (39 as streams; ", "with ties on reference");
    assertThat(m.err()).contains("merge 100% 39/39 tensors");
    try (Checkpoint cp = Checkpoint.open(out)) {
      assertThat(cp.files().size()).isGreaterThan(1);
      assertThat(cp.tensors()).hasSize(39);
    }
    assertThat(out.resolve("mergekit_config.yml")).exists();
    assertThat(out.resolve("README.md")).exists();

    CliTest.Run v = CliTest.run("validate", r.toString());
    assertThat(v.code()).as(v.err()).isZero();
    assertThat(v.out()).startsWith("ok: ties: 39 tensors from 3 models");

    CliTest.Run d = CliTest.run("merge", r.toString(), "--dry-run");
    assertThat(d.code()).as(d.err()).isZero();
    assertThat(d.out()).contains("stage 1/1: ties, 39 tensors", "model 0: fam/base", "model.layers.3.mlp.up_proj.weight [48, 32] BF16 <- base m0, m1, m2",
        "density=0.5", "peak tensor memory", "(streamed)", "39 of 39 tensors merged as streams");
    CliTest.Run dj = CliTest.run("merge", r.toString(), "--dry-run", "--backend", "djl");
    assertThat(dj.code()).as(dj.err()).isZero();
    assertThat(dj.out()).contains("peak tensor memory").doesNotContain("(streamed)", "merged as streams");

    CliTest.Run ops = CliTest.run("operators");
    assertThat(ops.code()).isZero();
    assertThat(ops.out()).contains("linear", "slerp", "nuslerp", "task_arithmetic", "ties", "dare_ties", "dare_linear", "breadcrumbs",
        "breadcrumbs_ties", "della", "della_linear", "model_stock", "passthrough", "fisher", "https://arxiv.org/abs/2306.01708");
    CliTest.Run one = CliTest.run("operators", "breadcrumbs");
    assertThat(one.out()).contains("gamma", "mask_scope").doesNotContain("model_stock");
    CliTest.Run typo = CliTest.run("operators", "tie");
    assertThat(typo.code()).isEqualTo(2);
    assertThat(typo.err()).contains("Did you mean 'ties'?");
  }

  /** mergekit-yaml's command line: the output folder second, its flags and their --no- forms. */
  @Test
  void mergekitYamlCommandLinesRunUnchanged() throws IOException {
    Path r = recipe("ties-mk.yml", TIES);
    Path out = dir.resolve("mk-out");
    CliTest.Run m = CliTest.run("merge", r.toString(), out.toString(), "--copy-tokenizer", "--allow-crimes", "--out-shard-size", "1B",
        "--lazy-unpickle", "--random-seed", "5", "--no-write-model-card", "--clone-tensors", "--trust-remote-code", "--low-cpu-memory", "--no-cuda");
    assertThat(m.code()).as(m.err()).isZero();
    assertThat(m.out()).contains("merged 39 tensors", "into " + out);
    assertThat(out.resolve("tokenizer.json")).exists();
    assertThat(out.resolve("config.json")).exists();
    assertThat(out.resolve("mergekit_config.yml")).exists();
    assertThat(out.resolve("README.md")).doesNotExist();
    Path bare = dir.resolve("mk-bare");
    CliTest.Run n = CliTest.run("merge", r.toString(), "-o", bare.toString(), "--no-copy-tokenizer", "-q");
    assertThat(n.code()).as(n.err()).isZero();
    assertThat(bare.resolve("tokenizer.json")).doesNotExist();
    assertThat(bare.resolve("tokenizer_config.json")).doesNotExist();
    assertThat(bare.resolve("README.md")).exists();
    try (Checkpoint a = Checkpoint.open(out); Checkpoint b = Checkpoint.open(bare)) {
      for (String t : a.tensors().keySet()) {
        assertThat(a.readFloats(t)).as(t).containsExactly(b.readFloats(t));
      }
    }
    // --cuda is --device cuda (a plan where a GPU and a CUDA libtorch are found, else the same clear error)
    CliTest.Run c = CliTest.run("merge", r.toString(), "--cuda", "--dry-run");
    CliTest.Run d = CliTest.run("merge", r.toString(), "--device", "cuda", "--dry-run");
    assertThat(c.code()).isEqualTo(d.code());
    assertThat(c.out() + c.err()).isEqualTo(d.out() + d.err()).doesNotContain("Exception");
    String[][] bad = {
      {"two output folders, '" + dir.resolve("a") + "' and -o '" + dir.resolve("b") + "'", dir.resolve("a").toString(), "-o", dir.resolve("b").toString()},
      {"--cuda and --device cpu disagree", dir.resolve("a").toString(), "--cuda", "--device", "cpu"},
      {"Graft writes safetensors only", dir.resolve("a").toString(), "--no-safe-serialization"},
    };
    for (String[] b : bad) {
      String[] args = new String[b.length + 1];
      args[0] = "merge";
      args[1] = r.toString();
      System.arraycopy(b, 1, args, 2, b.length - 1);
      CliTest.Run e = CliTest.run(args);
      assertThat(e.code()).as(b[0]).isEqualTo(2);
      assertThat(e.err()).contains(b[0]).doesNotContain("Exception");
      assertThat(dir.resolve("a")).doesNotExist();
    }
  }

  /** Each class of recipe error: exit code 2, a located message, no stack trace, no output folder. */
  @Test
  void badRecipesExitWithTwo() throws IOException {
    String[][] cases = {
      {"syntax.yml", "merge_method: [ties\n", "syntax.yml:2:1", "invalid YAML"},
      {"method.yml", TIES.replace("merge_method: ties", "merge_method: tiez"), "method.yml:1:1 merge_method: unknown merge method 'tiez'", "Did you mean 'ties'?"},
      {"param.yml", TIES.replace("weight: 0.6, density: 0.5", "weight: 0.6, densty: 0.5"), "param.yml:5:31", "Did you mean 'density'?"},
      {"range.yml", TIES.replace("weight: 0.4, density: 0.5", "weight: 0.4, density: 1.5"), "range.yml:7:31", "'density' must be in [0, 1], found 1.5"},
      {"missing.yml", TIES.replace("fam/ft-2", "fam/ft-7"), "missing.yml:6:5 models[1].model: model 'fam/ft-7' not found", "Did you mean 'fam/ft-1'?"},
      {"layers.yml", "merge_method: passthrough\nslices:\n  - sources:\n      - {model: fam/ft-1, layer_range: [2, 9]}\n",
          "layers.yml:4:27 slices[0].sources[0].layer_range: layer_range [2, 9] is outside model 'fam/ft-1', which has 4 layers", ""},
      {"shape.yml", TIES.replace("model: fam/ft-2", "model: wide/base"), "has different shapes", "wide/base [48, 48]"},
      {"base.yml", TIES.replace("base_model: fam/base\n", ""), "method 'ties' needs a base_model", ""},
      {"slerp.yml", "merge_method: slerp\nbase_model: fam/base\nmodels: [fam/ft-1, fam/ft-2]\nparameters: {t: 0.5}\n",
          "slerp.yml:2:1 base_model: method 'slerp' needs base_model to be one of its 2 models", ""},
    };
    for (String[] c : cases) {
      Path r = recipe(c[0], c[1]);
      Path out = dir.resolve("out-" + c[0]);
      CliTest.Run m = CliTest.run("merge", r.toString(), "-o", out.toString());
      assertThat(m.code()).as(c[0] + ": " + m.err()).isEqualTo(2);
      assertThat(m.err()).as(c[0]).contains(c[2]).contains(c[3]).doesNotContain("\tat ").doesNotContain("Exception");
      assertThat(out).as(c[0]).doesNotExist();
      CliTest.Run v = CliTest.run("validate", r.toString());
      assertThat(v.code()).as(c[0]).isEqualTo(2);
    }
    // parameters only the operator can check, while merging: still bad input (exit code 2), and nothing written
    Path della = recipe("della.yml", TIES.replace("merge_method: ties", "merge_method: della")
        .replace("weight: 0.6, density: 0.5", "weight: 0.6, density: 0.1, epsilon: 0.2"));
    CliTest.Run d = CliTest.run("merge", della.toString(), "-o", dir.resolve("out-della").toString());
    assertThat(d.code()).as(d.err()).isEqualTo(2);
    assertThat(d.err()).contains("della needs 0 < density - epsilon", "change the recipe's parameters").doesNotContain("\tat ");
    assertThat(dir.resolve("out-della")).doesNotExist();
    CliTest.Run none = CliTest.run("merge", dir.resolve("nope.yml").toString(), "-o", dir.resolve("x").toString());
    assertThat(none.code()).isEqualTo(2);
    assertThat(none.err()).contains("nope.yml does not exist");
    Path notModel = dir.resolve("notes");
    Files.createDirectories(notModel);
    Files.writeString(notModel.resolve("todo.txt"), "keep me");
    CliTest.Run guard = CliTest.run("merge", recipe("ok.yml", TIES).toString(), "-o", notModel.toString());
    assertThat(guard.code()).isEqualTo(2);
    assertThat(guard.err()).contains("does not look like a model folder");
    assertThat(notModel.resolve("todo.txt")).exists();
    CliTest.Run noOut = CliTest.run("merge", recipe("ok.yml", TIES).toString());
    assertThat(noOut.code()).isEqualTo(2);
    assertThat(noOut.err()).contains("missing -o DIR");
  }
}
