package dev.graft.eval;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.graft.InvalidInputException;
import dev.graft.data.Dataset;
import dev.graft.data.Datasets;
import dev.graft.data.ProceduralDigits;
import java.io.BufferedReader;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

/**
 * A loaded task: its fit split and its held-out split, disjoint. Classification tasks hold {@link Dataset}s,
 * language tasks hold JSON examples checked for the fields their kind needs.
 */
public sealed interface Task {
  TaskSpec spec();

  /** Examples in the fit split. */
  int fitSize();

  /** Examples in the held-out split. */
  int heldOutSize();

  /**
   * A classification task.
   *
   * @param spec declaration
   * @param fit the only split fitness sees
   * @param heldOut the split reports show beside it
   */
  record Classification(TaskSpec spec, Dataset fit, Dataset heldOut) implements Task {
    @Override
    public int fitSize() {
      return fit.size();
    }

    @Override
    public int heldOutSize() {
      return heldOut.size();
    }
  }

  /**
   * A language-model task over JSON examples.
   *
   * @param spec declaration
   * @param fit the only split fitness sees
   * @param heldOut the split reports show beside it
   */
  record Text(TaskSpec spec, List<JsonNode> fit, List<JsonNode> heldOut) implements Task {
    @Override
    public int fitSize() {
      return fit.size();
    }

    @Override
    public int heldOutSize() {
      return heldOut.size();
    }
  }

  /** Reads, checks and loads a task file. */
  static Task read(java.nio.file.Path file) {
    return load(TaskSpec.read(file));
  }

  /** Loads the data of {@code spec} and splits it. */
  static Task load(TaskSpec spec) {
    if (spec.kind().equals("classification")) {
      Dataset all = dataset(spec, spec.data());
      Dataset[] parts;
      if (spec.heldOut() != null) {
        parts = new Dataset[] {all, dataset(spec, spec.heldOut())};
      } else {
        parts = spec.shuffle() ? all.split(spec.fitFraction(), spec.seed()) : all.splitInOrder(spec.fitFraction());
      }
      Dataset fit = spec.limit() > 0 ? parts[0].limit(spec.limit()) : parts[0];
      Dataset held = spec.limit() > 0 ? parts[1].limit(spec.limit()) : parts[1];
      if (fit.size() == 0 || held.size() == 0) {
        throw new InvalidInputException("task " + spec.name() + ": the fit split has " + fit.size() + " and the held-out split "
            + held.size() + " examples; both need at least one");
      }
      return new Classification(spec, fit, held);
    }
    List<JsonNode> all = jsonl(spec, spec.data());
    List<JsonNode> fit;
    List<JsonNode> held;
    if (spec.heldOut() != null) {
      fit = all;
      held = jsonl(spec, spec.heldOut());
    } else {
      int[] order = spec.shuffle() ? Dataset.permutation(all.size(), spec.seed()) : java.util.stream.IntStream.range(0, all.size()).toArray();
      int k = (int) Math.floor(spec.fitFraction() * all.size());
      fit = new ArrayList<>();
      held = new ArrayList<>();
      for (int i = 0; i < order.length; i++) {
        (i < k ? fit : held).add(all.get(order[i]));
      }
    }
    if (spec.limit() > 0) {
      fit = fit.subList(0, Math.min(spec.limit(), fit.size()));
      held = held.subList(0, Math.min(spec.limit(), held.size()));
    }
    if (fit.isEmpty() || held.isEmpty()) {
      throw new InvalidInputException("task " + spec.name() + ": the fit split has " + fit.size() + " and the held-out split "
          + held.size() + " examples; both need at least one");
    }
    return new Text(spec, List.copyOf(fit), List.copyOf(held));
  }

  private static Dataset dataset(TaskSpec spec, TaskSpec.DataSpec d) {
    Dataset ds = switch (d.source()) {
      case "procedural" -> ProceduralDigits.generate(d.size(), d.count(), d.seed());
      case "optdigits" -> Datasets.optdigits(d.path());
      case "idx" -> Datasets.idx(d.images(), d.labels());
      default -> Datasets.csv(d.path(), d.labelColumn(), (float) d.scale(), d.numClasses(), d.header());
    };
    if (spec.classes() != null) {
      int[] keep = spec.classes().clone();
      Arrays.sort(keep);
      ds = ds.withLabels(l -> Arrays.binarySearch(keep, l) >= 0, ds.name() + Arrays.toString(keep));
    }
    return ds;
  }

  private static List<JsonNode> jsonl(TaskSpec spec, TaskSpec.DataSpec d) {
    ObjectMapper om = new ObjectMapper();
    List<JsonNode> out = new ArrayList<>();
    try (BufferedReader r = Files.newBufferedReader(d.path(), StandardCharsets.UTF_8)) {
      String line;
      int no = 0;
      while ((line = r.readLine()) != null) {
        no++;
        if (line.isBlank()) {
          continue;
        }
        JsonNode n;
        try {
          n = om.readTree(line);
        } catch (com.fasterxml.jackson.core.JsonProcessingException e) {
          throw new InvalidInputException(d.path() + ":" + no + ": not valid JSON: " + e.getOriginalMessage());
        }
        String missing = check(spec.kind(), n);
        if (missing != null) {
          throw new InvalidInputException(d.path() + ":" + no + ": " + missing);
        }
        out.add(n);
      }
    } catch (IOException e) {
      throw new InvalidInputException("cannot read " + d.path() + ": " + e.getMessage(), e);
    }
    return out;
  }

  /** What an example of {@code kind} lacks, or null. */
  private static String check(String kind, JsonNode n) {
    if (!n.isObject()) {
      return "each line must be a JSON object";
    }
    switch (kind) {
      case "perplexity" -> {
        return n.path("text").isTextual() ? null : "a perplexity example needs a string field \"text\"";
      }
      case "multiple_choice" -> {
        JsonNode c = n.path("choices");
        if (!n.path("context").isTextual() || !c.isArray() || c.size() < 2) {
          return "a multiple_choice example needs \"context\" (string) and \"choices\" (a list of at least 2 strings)";
        }
        JsonNode a = n.path("answer");
        if (!a.isIntegralNumber() || a.asInt() < 0 || a.asInt() >= c.size()) {
          return "\"answer\" must be the index of the right choice, in [0, " + c.size() + "), found " + a;
        }
        return null;
      }
      default -> {
        boolean prompt = n.path("prompt").isTextual() || n.path("context").isTextual();
        return prompt && n.path("answer").isValueNode() && !n.path("answer").isNull() ? null
            : "a generation example needs \"prompt\" (or \"context\") and \"answer\"";
      }
    }
  }
}
