package dev.graft.evolve;

import static org.assertj.core.api.Assertions.assertThat;

import dev.graft.eval.EvalModel;
import dev.graft.eval.Evaluator;
import dev.graft.eval.Task;
import dev.graft.io.Progress;
import dev.graft.model.Classifier;
import dev.graft.model.ClassifierConfig;
import dev.graft.tensor.Device;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Whole runs on small classifiers: held-out isolation, determinism, and best recipes that graft merge reproduces. */
class EvolveRunTest {
  @TempDir static Path work;

  @BeforeAll
  static void models() throws IOException {
    // a CSV of digits with a separate held-out file, so the held-out data can be changed without touching the fit data
    dev.graft.data.Dataset d = dev.graft.data.ProceduralDigits.generate(8, 900, 3);
    writeCsv(work.resolve("fit.csv"), d, 0, 600, false);
    writeCsv(work.resolve("held.csv"), d, 600, 900, false);
    Files.writeString(work.resolve("digits.yaml"), """
        name: digits
        kind: classification
        data: {source: csv, path: fit.csv, num_classes: 10}
        held_out: {source: csv, path: held.csv, num_classes: 10}
        """);
    Task t = Task.read(work.resolve("digits.yaml"));
    var fit = ((Task.Classification) t).fit();
    try (Classifier b = Classifier.init(ClassifierConfig.mlp(64, new int[] {16}, 10), 1, Device.CPU)) {
      b.train(fit.limit(100), new Classifier.TrainOptions(2, 32, 1e-3, 1), Progress.NONE);
      b.save(work.resolve("base"));
    }
    for (int half = 0; half < 2; half++) {
      int h = half;
      try (Classifier s = Classifier.load(work.resolve("base"), Device.CPU)) {
        s.train(fit.withLabels(l -> (l < 5) == (h == 0), "half"), new Classifier.TrainOptions(2, 32, 1e-3, 2), Progress.NONE);
        s.save(work.resolve("spec-" + half));
      }
    }
    Files.writeString(work.resolve("ta.yml"), """
        merge_method: task_arithmetic
        base_model: base
        models:
          - {model: spec-0, parameters: {weight: 1.0}}
          - {model: spec-1, parameters: {weight: 1.0}}
        dtype: bfloat16
        """);
  }

  static void writeCsv(Path f, dev.graft.data.Dataset d, int from, int to, boolean poison) throws IOException {
    StringBuilder b = new StringBuilder();
    Random r = new Random(5);
    for (int i = from; i < to; i++) {
      for (int k = 0; k < 64; k++) {
        b.append(d.features()[i * 64 + k]).append(',');
      }
      b.append(poison ? r.nextInt(10) : d.labels()[i]).append('\n');
    }
    Files.writeString(f, b.toString());
  }

  static EvolveRun.Summary run(String yaml, Path out) throws IOException {
    Path f = work.resolve("evolve-" + out.getFileName() + ".yml");
    Files.writeString(f, yaml);
    try (EvolveRun.Prepared p = EvolveRun.prepare(EvolveSpec.read(f), Device.CPU)) {
      return EvolveRun.run(p, new EvolveRun.Options(out, false, true, Device.CPU, null));
    }
  }

  /** The record without wall times. */
  static List<String> record(Path out) throws IOException {
    List<String> lines = new ArrayList<>();
    for (String l : Files.readAllLines(out.resolve(RunRecord.EVALUATIONS))) {
      lines.add(l.replaceAll("\"seconds\":[0-9.E-]+", ""));
    }
    lines.sort(null);
    return lines;
  }

  static final String M2N2 = """
      space: model
      seed: 3
      model: {models: [spec-0, spec-1]}
      tasks: [digits.yaml]
      optimizer: {method: m2n2, archive_size: 6}
      budget: {evaluations: 60}
      threads: %d
      """;

  @Test
  void heldOutDataNeverReachesSelection() throws IOException {
    EvolveRun.Summary a = run(M2N2.formatted(2), work.resolve("clean"));
    Path held = work.resolve("held.csv");
    String original = Files.readString(held);
    try {
      writeCsv(held, dev.graft.data.ProceduralDigits.generate(8, 900, 3), 600, 900, true); // random labels
      EvolveRun.Summary b = run(M2N2.formatted(2), work.resolve("poisoned"));
      // every candidate, every fitness, every lineage: identical
      assertThat(record(work.resolve("poisoned"))).isEqualTo(record(work.resolve("clean")));
      assertThat(b.outcome().best().id()).isEqualTo(a.outcome().best().id());
      // while the held-out report did see the change
      assertThat(b.outcome().heldOut().fitness()).isNotEqualTo(a.outcome().heldOut().fitness());
      assertThat(b.outcome().heldOut().fitness()).isLessThan(0.3);
    } finally {
      Files.writeString(held, original);
    }
  }

  @Test
  void sameSeedSameRecordWhateverTheThreads() throws IOException {
    run(M2N2.formatted(1), work.resolve("t1"));
    run(M2N2.formatted(2), work.resolve("t2"));
    assertThat(record(work.resolve("t2"))).isEqualTo(record(work.resolve("t1")));
  }

  @Test
  void theBestRecipeMergesIntoTheModelThatWasScored() throws IOException {
    EvolveRun.Summary s = run("""
        seed: 4
        merge: ta.yml
        genome: {filters: [fc1], bounds: {weight: [0, 2]}}
        tasks: [digits.yaml]
        optimizer: {method: cmaes, popsize: 6}
        budget: {evaluations: 36}
        """, work.resolve("cma"));
    Path out = work.resolve("cma");
    // best.yml is an ordinary mergekit recipe: merged again (with the run seed) it scores exactly the recorded fitness
    Task t = Task.read(work.resolve("digits.yaml"));
    try (EvalModel m = EvalModel.ofRecipe(out.resolve("best.yml"), 4, 1, Device.CPU, (i, n, p) -> Progress.NONE)) {
      assertThat(Evaluator.evaluate(m, t).fit().value()).isEqualTo(s.outcome().best().fitness());
    }
    // and the saved best model is that merge
    try (EvalModel m = EvalModel.load(out.resolve("best-model"), Device.CPU)) {
      assertThat(Evaluator.evaluate(m, t).heldOut().value()).isEqualTo(s.outcome().heldOut().fitness());
    }
    assertThat(Files.readString(out.resolve("best.yml"))).contains("filter: fc1", "lambda");
    // every candidate's recipe is in the record
    assertThat(Files.readAllLines(out.resolve(RunRecord.EVALUATIONS))).allSatisfy(l -> assertThat(l).contains("\"recipe\":\"merge_method: task_arithmetic"));
  }
}
