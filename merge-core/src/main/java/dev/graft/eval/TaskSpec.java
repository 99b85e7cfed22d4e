package dev.graft.eval;

import dev.graft.recipe.YamlFields;
import java.nio.file.Path;
import java.util.Set;

/**
 * A task as declared in YAML: what data, how it is split into a fit part (the only part fitness ever sees) and a
 * held-out part (reported, never optimised on), and how it is scored.
 *
 * <pre>
 * name: digits-0-4
 * kind: classification          # classification | perplexity | multiple_choice | generation
 * data: {source: procedural, size: 8, count: 2000, seed: 1}
 * classes: [0, 1, 2, 3, 4]      # classification: keep only these labels
 * split: {fit: 0.8, seed: 3}    # by ratio, shuffled; shuffle: false keeps file order (the first 80% fit)
 *                               # or held_out: {source: ..., path: ...} for a separate file
 * limit: 1000                   # at most this many examples per split
 * metric: accuracy              # accuracy | loss | perplexity | acc | acc_norm | exact_match
 * </pre>
 *
 * @param name task name in reports
 * @param kind classification, perplexity, multiple_choice or generation
 * @param data where the examples come from
 * @param heldOut a separate held-out source, or null to split {@code data}
 * @param fitFraction fraction of {@code data} in the fit split when {@code heldOut} is null
 * @param seed seed of the split
 * @param shuffle whether the split shuffles (false: the first {@code fitFraction} of the examples, in file order, fit)
 * @param limit at most this many examples per split (0 = all)
 * @param classes labels kept (classification), or null for all
 * @param metric the primary metric
 * @param maxLength longest token sequence scored (language tasks)
 * @param maxNewTokens tokens generated per example (generation)
 * @param answerRegex regex whose group 1 (or whole match) is the answer in generated text, or null
 * @param batchSize sequences per forward pass (language tasks)
 */
public record TaskSpec(
    String name, String kind, DataSpec data, DataSpec heldOut, double fitFraction, long seed, boolean shuffle, int limit, int[] classes,
    String metric, int maxLength, int maxNewTokens, String answerRegex, int batchSize) {

  static final Set<String> KEYS = Set.of("name", "kind", "data", "held_out", "split", "limit", "classes", "metric",
      "max_length", "max_new_tokens", "answer_regex", "batch_size");
  static final Set<String> KINDS = Set.of("classification", "perplexity", "multiple_choice", "generation");

  /**
   * A data source.
   *
   * @param source procedural, optdigits, idx, csv or jsonl
   * @param path file (optdigits, csv, jsonl), resolved against the task file's folder
   * @param images IDX images file
   * @param labels IDX labels file
   * @param size procedural image size (8 or 28)
   * @param count procedural example count
   * @param seed procedural seed
   * @param labelColumn csv label column (negative counts from the end)
   * @param scale csv divisor of every feature
   * @param header csv first line is a header
   * @param numClasses csv number of classes
   */
  public record DataSpec(String source, Path path, Path images, Path labels, int size, int count, long seed,
      int labelColumn, double scale, boolean header, int numClasses) {
    static final Set<String> KEYS = Set.of("source", "path", "images", "labels", "size", "count", "seed", "label_column",
        "scale", "header", "num_classes");
    static final Set<String> SOURCES = Set.of("procedural", "optdigits", "idx", "csv", "jsonl");
  }

  /** Reads and checks a task file; every problem is reported with its line and column. */
  public static TaskSpec read(Path file) {
    YamlFields.Obj o = YamlFields.read(file, "task", KEYS);
    Path dir = file.toAbsolutePath().getParent();
    String kind = o.choice("kind", "classification", KINDS, true);
    String name = o.string("name", file.getFileName().toString().replaceFirst("\\.ya?ml$", ""), false);
    DataSpec data = data(o.object("data", DataSpec.KEYS), dir, kind);
    if (!o.has("data")) {
      o.problem("data", "missing required key 'data'", "e.g. data: {source: procedural, size: 8, count: 2000}");
    }
    DataSpec held = o.has("held_out") ? data(o.object("held_out", DataSpec.KEYS), dir, kind) : null;
    YamlFields.Obj split = o.object("split", Set.of("fit", "seed", "shuffle"));
    double fit = split == null ? 0.8 : split.number("fit", 0.8, 1e-9, 1 - 1e-9);
    long seed = split == null ? 0 : split.integer("seed", 0, Long.MIN_VALUE, Long.MAX_VALUE);
    boolean shuffle = split == null || split.bool("shuffle", true);
    if (held != null && split != null && split.has("fit")) {
      o.problem("split", "give either split.fit (a ratio of data) or held_out (a separate source), not both", "");
    }
    int limit = (int) o.integer("limit", 0, 0, Integer.MAX_VALUE);
    int[] classes = o.ints("classes");
    if (classes != null && !kind.equals("classification")) {
      o.problem("classes", "classes applies to classification tasks only", "");
    }
    Set<String> metrics = switch (kind) {
      case "classification" -> Set.of("accuracy", "loss");
      case "perplexity" -> Set.of("perplexity");
      case "multiple_choice" -> Set.of("acc", "acc_norm");
      default -> Set.of("exact_match");
    };
    String defaultMetric = switch (kind) {
      case "classification" -> "accuracy";
      case "perplexity" -> "perplexity";
      case "multiple_choice" -> "acc";
      default -> "exact_match";
    };
    String metric = o.choice("metric", defaultMetric, metrics, false);
    int maxLength = (int) o.integer("max_length", 512, 2, 1 << 20);
    int maxNew = (int) o.integer("max_new_tokens", 32, 1, 1 << 16);
    String regex = o.string("answer_regex", null, false);
    if (regex != null) {
      try {
        java.util.regex.Pattern.compile(regex);
      } catch (java.util.regex.PatternSyntaxException e) {
        o.problem("answer_regex", "not a valid regular expression: " + e.getDescription(), "");
      }
    }
    int batch = (int) o.integer("batch_size", kind.equals("classification") ? 4096 : 8, 1, 1 << 20);
    o.fields().done();
    return new TaskSpec(name, kind, data, held, fit, seed, shuffle, limit, classes, metric, maxLength, maxNew, regex, batch);
  }

  private static DataSpec data(YamlFields.Obj d, Path dir, String kind) {
    if (d == null) {
      return null;
    }
    boolean text = !kind.equals("classification");
    String source = d.choice("source", text ? "jsonl" : "procedural", DataSpec.SOURCES, false);
    if (text != source.equals("jsonl")) {
      d.problem("source", (text ? "a " + kind + " task reads jsonl" : "a classification task reads procedural, optdigits, idx or csv")
          + ", found '" + source + "'", "");
    }
    Path path = file(d, "path", dir, source.equals("optdigits") || source.equals("csv") || source.equals("jsonl"));
    Path images = file(d, "images", dir, source.equals("idx"));
    Path labels = file(d, "labels", dir, source.equals("idx"));
    int size = (int) d.integer("size", 8, 8, 28);
    if (size != 8 && size != 28) {
      d.problem("size", "procedural digits come in size 8 or 28, found " + size, "");
    }
    int count = (int) d.integer("count", 2000, 1, 10_000_000);
    long seed = d.integer("seed", 0, Long.MIN_VALUE, Long.MAX_VALUE);
    int labelColumn = (int) d.integer("label_column", -1, -1_000_000, 1_000_000);
    double scale = d.number("scale", 1, 1e-30, 1e30);
    boolean header = d.bool("header", false);
    int numClasses = (int) d.integer("num_classes", 10, 2, 1_000_000);
    return new DataSpec(source, path, images, labels, size, count, seed, labelColumn, scale, header, numClasses);
  }

  private static Path file(YamlFields.Obj d, String key, Path dir, boolean required) {
    String s = d.string(key, null, false);
    if (s == null) {
      if (required) {
        d.problem(key, "missing required key '" + key + "' (a file path, relative to the task file)", "");
      }
      return null;
    }
    Path p = dir.resolve(s).normalize();
    if (!java.nio.file.Files.isRegularFile(p)) {
      d.problem(key, "file " + p + " does not exist", "Paths are relative to the task file's folder");
    }
    return p;
  }
}
