package dev.graft.evolve;

import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.graft.data.Dataset;
import dev.graft.eval.EvalModel;
import dev.graft.eval.Evaluator;
import dev.graft.eval.Task;
import dev.graft.io.AtomicFiles;
import dev.graft.io.Progress;
import dev.graft.model.Classifier;
import dev.graft.model.ClassifierConfig;
import dev.graft.model.FisherFiles;
import dev.graft.report.BarPlot;
import dev.graft.tensor.Device;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.function.Consumer;

/**
 * The whole of Graft on a small, offline example: a base classifier trained briefly on a few procedurally drawn 8×8
 * digits, two specialists fine-tuned from it on digits 0–4 and 5–9 (each forgets the other half), merges of the
 * specialists with several operators (linear, task arithmetic, TIES, Breadcrumbs, Fisher, aligned average), a
 * recipe evolved with CMA-ES (task-arithmetic weights per layer) and a population evolved with M2N2 from the two
 * specialists, all scored on the held-out split of the all-digits task that the evolution never saw.
 *
 * <p>Everything lands in one folder: {@code tasks/}, {@code models/} (with Fisher files), {@code recipes/} (the
 * merge and evolve recipes, runnable on their own), {@code runs/} (the two evolution runs with their reports),
 * {@code report.md}, {@code heldout.png} and {@code results.json}.
 */
public final class Quickstart {
  private Quickstart() {}

  /**
   * One line of the results table.
   *
   * @param method what was scored
   * @param group 0 base, 1 specialist, 2 merge, 3 evolved
   * @param fit accuracy on the fit split of the all-digits task
   * @param heldOut accuracy on its held-out split
   * @param note how it was made
   */
  public record Row(String method, int group, double fit, double heldOut, String note) {}

  /**
   * What the quickstart produced.
   *
   * @param rows the results table
   * @param report {@code report.md}
   * @param seconds wall time
   */
  public record Outcome(List<Row> rows, Path report, double seconds) {}

  static final String DIGITS = """
      # All ten digits, procedurally drawn 8x8 images: evolution optimises on the fit split, the table reports the held-out split.
      name: digits
      kind: classification
      data: {source: procedural, size: 8, count: 3000, seed: 1}
      split: {fit: 0.8, seed: 7}
      metric: accuracy
      """;
  static final String FEW = """
      # A few examples of every digit: the base model is trained briefly on these.
      name: digits-few
      kind: classification
      data: {source: procedural, size: 8, count: 3000, seed: 1}
      split: {fit: 0.8, seed: 7}
      limit: 200
      metric: accuracy
      """;

  static String half(String name, String classes, int seed) {
    return "# Specialist task: digits " + name + " only.\nname: digits-" + name + "\nkind: classification\n"
        + "data: {source: procedural, size: 8, count: 3000, seed: " + seed + "}\nclasses: " + classes + "\nsplit: {fit: 0.8, seed: 7}\nmetric: accuracy\n";
  }

  /**
   * Runs everything into {@code dir}.
   *
   * @param log receives one line per step
   */
  public static Outcome run(Path dir, long seed, Device device, Consumer<String> log, Evolution.Listener listener) {
    long t0 = System.nanoTime();
    Path abs = dir.toAbsolutePath().normalize();
    if (Files.exists(abs) && !Files.isDirectory(abs)) {
      throw new dev.graft.InvalidInputException(abs + " is a file; give quickstart a folder to write into (-o DIR)");
    }
    Path tasks = abs.resolve("tasks");
    Path models = abs.resolve("models");
    Path recipes = abs.resolve("recipes");
    Path runs = abs.resolve("runs");
    AtomicFiles.writeString(tasks.resolve("digits.yaml"), DIGITS);
    AtomicFiles.writeString(tasks.resolve("digits-few.yaml"), FEW);
    AtomicFiles.writeString(tasks.resolve("digits-0-4.yaml"), half("0-4", "[0, 1, 2, 3, 4]", 2));
    AtomicFiles.writeString(tasks.resolve("digits-5-9.yaml"), half("5-9", "[5, 6, 7, 8, 9]", 3));
    Task digits = Task.read(tasks.resolve("digits.yaml"));

    // 1. base and specialists
    Path base = models.resolve("base");
    Path[] spec = {models.resolve("specialist-0-4"), models.resolve("specialist-5-9")};
    String[] halves = {"0-4", "5-9"};
    Dataset few = ((Task.Classification) Task.read(tasks.resolve("digits-few.yaml"))).fit();
    try (Classifier b = Classifier.init(ClassifierConfig.mlp(64, new int[] {64}, 10), seed, device)) {
      b.train(few, new Classifier.TrainOptions(5, 32, 1e-3, seed), Progress.NONE);
      b.save(base);
    }
    log.accept(String.format(Locale.ROOT, "trained the base on %d examples of all digits: %s", few.size(), base));
    for (int i = 0; i < 2; i++) {
      Task.Classification t = (Task.Classification) Task.read(tasks.resolve("digits-" + halves[i] + ".yaml"));
      try (Classifier s = Classifier.load(base, device)) {
        s.train(t.fit(), new Classifier.TrainOptions(3, 32, 1e-3, seed + 1 + i), Progress.NONE);
        s.save(spec[i]);
        FisherFiles.write(FisherFiles.besides(spec[i]), s.fisher(t.fit(), Classifier.FisherMode.EXACT, seed, Progress.NONE),
            s.config().tensors(), "exact", t.fit().size());
      }
      log.accept("fine-tuned specialist " + halves[i] + " from the base on " + t.fit().size() + " examples, with its Fisher: " + spec[i]);
    }
    List<Row> rows = new ArrayList<>();
    rows.add(row("base", 0, EvalModel.load(base, device), digits, "trained on " + few.size() + " examples of all digits"));
    for (int i = 0; i < 2; i++) {
      rows.add(row("specialist " + halves[i], 1, EvalModel.load(spec[i], device), digits, "fine-tuned on digits " + halves[i]));
    }

    // 2. merges
    String a = spec[0].toString();
    String c = spec[1].toString();
    String[][] merges = {
      {"linear", "average of the specialists", "merge_method: linear\nmodels:\n  - {model: " + a + ", parameters: {weight: 0.5}}\n  - {model: " + c
          + ", parameters: {weight: 0.5}}\n"},
      {"task_arithmetic", "base + both task vectors", "merge_method: task_arithmetic\nbase_model: " + base + "\nmodels:\n  - {model: " + a
          + ", parameters: {weight: 1.0}}\n  - {model: " + c + ", parameters: {weight: 1.0}}\n"},
      {"ties", "density 0.5", "merge_method: ties\nbase_model: " + base + "\nmodels:\n  - {model: " + a + ", parameters: {weight: 1.0, density: 0.5}}\n"
          + "  - {model: " + c + ", parameters: {weight: 1.0, density: 0.5}}\n"},
      {"breadcrumbs", "density 0.9, gamma 0.01", "merge_method: breadcrumbs\nbase_model: " + base + "\nmodels:\n  - {model: " + a
          + ", parameters: {weight: 1.0, density: 0.9, gamma: 0.01}}\n  - {model: " + c + ", parameters: {weight: 1.0, density: 0.9, gamma: 0.01}}\n"},
      {"fisher", "exact Fisher of each specialist on its digits", "merge_method: fisher\nmodels:\n  - {model: " + a + ", parameters: {weight: 1.0}}\n  - {model: " + c
          + ", parameters: {weight: 1.0}}\n"},
      {"aligned", "weight matching, then the average", "merge_method: linear\nalign: {method: weight_matching, reference: " + a + "}\nmodels:\n  - {model: " + a
          + ", parameters: {weight: 0.5}}\n  - {model: " + c + ", parameters: {weight: 0.5}}\n"},
    };
    for (String[] m : merges) {
      Path r = recipes.resolve(m[0] + ".yml");
      AtomicFiles.writeString(r, "# " + m[1] + " (written by graft quickstart)\n" + m[2]);
      rows.add(row(m[0].equals("linear") ? "linear (average)" : m[0].equals("aligned") ? "aligned average" : m[0], 2,
          EvalModel.ofRecipe(r, seed, 1, device, (i, n, p) -> Progress.NONE), digits, m[1]));
    }
    log.accept("merged the specialists with " + merges.length + " recipes (in memory): " + recipes);

    // 3. evolution: a recipe (CMA-ES) and a population (M2N2)
    Path cmaRecipe = recipes.resolve("evolve-cmaes.yml");
    AtomicFiles.writeString(cmaRecipe, """
        # CMA-ES over a task-arithmetic recipe: a weight per specialist and a lambda, per layer (fc1, fc2) and for the rest.
        name: quickstart-cmaes
        seed: %d
        merge: task_arithmetic.yml
        genome: {filters: [fc1, fc2], bounds: {weight: [0, 2], lambda: [0, 2]}}
        tasks: [../tasks/digits.yaml]
        optimizer: {method: cmaes, sigma: 0.2}
        budget: {evaluations: 300}
        checkpoint_seconds: 5
        """.formatted(seed));
    Path m2n2Recipe = recipes.resolve("evolve-m2n2.yml");
    AtomicFiles.writeString(m2n2Recipe, """
        # M2N2 from the two specialists: split-point SLERP crossover, attraction-based mate choice, no mutation (as the
        # reference does from pre-trained models).
        name: quickstart-m2n2
        seed: %d
        space: model
        model: {models: [%s, %s]}
        tasks: [../tasks/digits.yaml]
        optimizer: {method: m2n2, archive_size: 20}
        budget: {evaluations: 3000}
        checkpoint_seconds: 5
        """.formatted(seed, a, c));
    for (Path r : List.of(cmaRecipe, m2n2Recipe)) {
      EvolveSpec es = EvolveSpec.read(r);
      Path out = runs.resolve(es.optimizer().method());
      try (EvolveRun.Prepared p = EvolveRun.prepare(es, device)) {
        EvolveRun.Summary s = EvolveRun.run(p, new EvolveRun.Options(out, false, true, device, listener));
        Evaluated best = s.outcome().best();
        String m = es.optimizer().method().equals("cmaes") ? "CMA-ES recipe" : "M2N2 population";
        rows.add(new Row(m, 3, best.result().tasks().get("digits"), s.outcome().heldOut().tasks().get("digits"),
            s.outcome().evaluations() + " evaluations; runs/" + out.getFileName() + "/report.md"));
        log.accept(String.format(Locale.ROOT, "evolved %s: %d evaluations, best fit %.4f, held-out %.4f: %s", m, s.outcome().evaluations(),
            best.fitness(), s.outcome().heldOut().fitness(), out));
      }
    }

    // 4. report
    BarPlot bars = new BarPlot("Held-out accuracy on all digits (never seen by evolution)", "held-out accuracy");
    rows.forEach(r -> bars.add(new BarPlot.Bar(r.method(), r.heldOut(), r.group())));
    AtomicFiles.writeBytes(abs.resolve("heldout.png"), bars.png(820));
    double secs = (System.nanoTime() - t0) / 1e9;
    StringBuilder md = new StringBuilder("# Graft quickstart\n\n");
    md.append("A base MLP (64 → 64 → 10) trained briefly on a few procedurally drawn 8×8 digits, two specialists fine-tuned from it on digits ")
        .append("0–4 and 5–9, their merges, and two evolved merges. Every number is accuracy on the all-digits task: the fit split is what ")
        .append("evolution optimised, the held-out split was never seen by it.\n\n");
    md.append(table(rows, true)).append("\n![held-out accuracy](heldout.png)\n\n");
    md.append("Evolution reports: [CMA-ES](runs/cmaes/report.md), [M2N2](runs/m2n2/report.md). Recipes: `recipes/` (run them with ")
        .append("`graft merge`, `graft eval` or `graft evolve`). Seed ").append(seed).append(String.format(Locale.ROOT, ", %.0f s.%n", secs));
    Path report = abs.resolve("report.md");
    AtomicFiles.writeString(report, md.toString());
    ObjectNode j = States.JSON.createObjectNode();
    j.put("seed", seed);
    j.put("seconds", secs);
    ArrayNode arr = j.putArray("rows");
    for (Row r : rows) {
      arr.addObject().put("method", r.method()).put("fit", r.fit()).put("held_out", r.heldOut()).put("note", r.note());
    }
    try {
      AtomicFiles.writeString(abs.resolve("results.json"), States.JSON.writerWithDefaultPrettyPrinter().writeValueAsString(j) + "\n");
    } catch (java.io.IOException e) {
      throw new java.io.UncheckedIOException(e);
    }
    return new Outcome(rows, report, secs);
  }

  private static Row row(String method, int group, EvalModel m, Task digits, String note) {
    try (m) {
      Evaluator.Report r = Evaluator.evaluate(m, digits);
      return new Row(method, group, r.fit().value(), r.heldOut().value(), note);
    }
  }

  /** The results as a Markdown table (or plain columns). */
  public static String table(List<Row> rows, boolean markdown) {
    StringBuilder b = new StringBuilder();
    if (markdown) {
      b.append("| method | fit | held-out | how |\n|---|---|---|---|\n");
      for (Row r : rows) {
        b.append(String.format(Locale.ROOT, "| %s | %.4f | %.4f | %s |%n", r.method(), r.fit(), r.heldOut(), r.note()));
      }
    } else {
      b.append(String.format(Locale.ROOT, "%-20s %8s %9s  %s%n", "method", "fit", "held-out", "how"));
      for (Row r : rows) {
        b.append(String.format(Locale.ROOT, "%-20s %8.4f %9.4f  %s%n", r.method(), r.fit(), r.heldOut(), r.note()));
      }
    }
    return b.toString();
  }
}
