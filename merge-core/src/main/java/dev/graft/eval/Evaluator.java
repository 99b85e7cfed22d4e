package dev.graft.eval;

import com.fasterxml.jackson.databind.JsonNode;
import dev.graft.InvalidInputException;
import dev.graft.data.Dataset;
import dev.graft.model.Classifier;
import dev.graft.model.TextTokenizer;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Scores models on tasks. Classification: accuracy and mean loss. Perplexity: exp of the mean negative
 * log-likelihood per predicted token. Multiple choice (as lm-evaluation-harness): the choice with the largest summed
 * log-likelihood of its tokens after the context ({@code acc}), or of that sum divided by the choice's length in
 * characters ({@code acc_norm}). Generation: greedy decoding, the answer extracted by {@code answer_regex} (group 1
 * or the whole match; the stripped text without a regex) and compared exactly with the stripped {@code answer}.
 */
public final class Evaluator {
  /** Between a multiple-choice context and each choice, as lm-evaluation-harness's default target delimiter. */
  public static final String CHOICE_DELIMITER = " ";

  private Evaluator() {}

  /**
   * Both splits of a task.
   *
   * @param fit the fit split's score
   * @param heldOut the held-out split's score
   */
  public record Report(Score fit, Score heldOut) {}

  /** Scores {@code model} on both splits of {@code task}. */
  public static Report evaluate(EvalModel model, Task task) {
    return switch (task) {
      case Task.Classification c -> new Report(
          classification(model, c.spec(), c.fit(), "fit"), classification(model, c.spec(), c.heldOut(), "held-out"));
      case Task.Text t -> new Report(text(model, t.spec(), t.fit(), "fit"), text(model, t.spec(), t.heldOut(), "held-out"));
    };
  }

  /** Scores {@code model} on the held-out split of {@code task} only (reports; never fitness). */
  public static Score heldOut(EvalModel model, Task task) {
    return switch (task) {
      case Task.Classification c -> classification(model, c.spec(), c.heldOut(), "held-out");
      case Task.Text t -> text(model, t.spec(), t.heldOut(), "held-out");
    };
  }

  static Score classification(EvalModel model, TaskSpec spec, Dataset data, String split) {
    if (!(model instanceof EvalModel.Image img)) {
      throw new InvalidInputException("task " + spec.name() + " is a classification task; the model is a " + model.kind());
    }
    Classifier.Detailed d = img.model().evaluateEach(img.model().prepared(data));
    Classifier.Metrics m = d.metrics();
    Map<String, Double> all = new LinkedHashMap<>();
    all.put("accuracy", m.accuracy());
    all.put("loss", m.loss());
    boolean acc = spec.metric().equals("accuracy");
    return new Score(spec.name(), split, spec.metric(), acc ? m.accuracy() : m.loss(), acc, m.examples(), all, acc ? d.correct() : null);
  }

  static Score text(EvalModel model, TaskSpec spec, List<JsonNode> examples, String split) {
    if (!(model instanceof EvalModel.Language lm)) {
      throw new InvalidInputException("task " + spec.name() + " is a " + spec.kind() + " task for language models; the model is a " + model.kind());
    }
    if (lm.tokenizer() == null) {
      throw new InvalidInputException("task " + spec.name() + " has text; the model folder has no tokenizer.json");
    }
    return switch (spec.kind()) {
      case "perplexity" -> perplexity(lm, spec, examples, split);
      case "multiple_choice" -> multipleChoice(lm, spec, examples, split);
      default -> generation(lm, spec, examples, split);
    };
  }

  /** Sums of next-token log-probabilities of {@code seqs} over positions {@code [from[i], len)}. */
  private static double[] sumLogProbs(EvalModel.Language lm, List<int[]> seqs, int[] from, int batchSize) {
    double[] out = new double[seqs.size()];
    Integer[] order = new Integer[seqs.size()];
    for (int i = 0; i < order.length; i++) {
      order[i] = i;
    }
    Arrays.sort(order, (a, b) -> Integer.compare(seqs.get(b).length, seqs.get(a).length)); // similar lengths batch well
    for (int s = 0; s < order.length; s += batchSize) {
      int n = Math.min(batchSize, order.length - s);
      int len = seqs.get(order[s]).length;
      int[][] ids = new int[n][len];
      int[] lengths = new int[n];
      for (int i = 0; i < n; i++) {
        int[] q = seqs.get(order[s + i]);
        System.arraycopy(q, 0, ids[i], 0, q.length);
        lengths[i] = q.length;
      }
      double[][] lp = lm.model().nextTokenLogProbs(ids, lengths);
      for (int i = 0; i < n; i++) {
        double sum = 0;
        for (int p = Math.max(0, from[order[s + i]] - 1); p < lp[i].length; p++) {
          sum += lp[i][p];
        }
        out[order[s + i]] = sum;
      }
    }
    return out;
  }

  private static int[] truncate(int[] ids, int max) {
    return ids.length <= max ? ids : Arrays.copyOfRange(ids, ids.length - max, ids.length);
  }

  private static Score perplexity(EvalModel.Language lm, TaskSpec spec, List<JsonNode> examples, String split) {
    List<int[]> seqs = new ArrayList<>();
    long tokens = 0;
    for (JsonNode e : examples) {
      int[] ids = tokens(lm, spec, e);
      seqs.add(ids);
      tokens += Math.max(0, ids.length - 1);
    }
    if (tokens == 0) {
      throw new InvalidInputException("task " + spec.name() + ": no text has 2 or more tokens; nothing to score");
    }
    double[] lp = sumLogProbs(lm, seqs, new int[seqs.size()], spec.batchSize());
    double nll = -Arrays.stream(lp).sum() / tokens;
    Map<String, Double> all = new LinkedHashMap<>();
    all.put("perplexity", Math.exp(nll));
    all.put("nll_per_token", nll);
    all.put("tokens", (double) tokens);
    return new Score(spec.name(), split, "perplexity", Math.exp(nll), false, examples.size(), all);
  }

  private static Score multipleChoice(EvalModel.Language lm, TaskSpec spec, List<JsonNode> examples, String split) {
    TextTokenizer tok = lm.tokenizer();
    List<int[]> seqs = new ArrayList<>();
    List<Integer> from = new ArrayList<>();
    for (JsonNode e : examples) {
      String ctx = e.get("context").asText();
      int[] c = tok.encode(ctx, true);
      for (JsonNode ch : e.get("choices")) {
        int[] whole = tok.encode(ctx + CHOICE_DELIMITER + ch.asText(), true);
        int[] cont;
        if (whole.length > c.length && Arrays.equals(Arrays.copyOf(whole, c.length), c)) {
          cont = Arrays.copyOfRange(whole, c.length, whole.length);
        } else { // the tokenizer merged across the boundary: score the continuation encoded on its own
          cont = tok.encode(CHOICE_DELIMITER + ch.asText(), false);
        }
        int[] seq = new int[c.length + cont.length];
        System.arraycopy(c, 0, seq, 0, c.length);
        System.arraycopy(cont, 0, seq, c.length, cont.length);
        int[] t = truncate(seq, spec.maxLength());
        seqs.add(t);
        from.add(Math.max(1, t.length - cont.length));
      }
    }
    double[] lp = sumLogProbs(lm, seqs, from.stream().mapToInt(Integer::intValue).toArray(), spec.batchSize());
    int k = 0;
    int right = 0;
    int rightNorm = 0;
    boolean byNorm = spec.metric().equals("acc_norm");
    float[] each = new float[examples.size()];
    int ex = 0;
    for (JsonNode e : examples) {
      int best = -1;
      int bestNorm = -1;
      double bestLp = Double.NEGATIVE_INFINITY;
      double bestNormLp = Double.NEGATIVE_INFINITY;
      for (int c = 0; c < e.get("choices").size(); c++, k++) {
        double norm = lp[k] / Math.max(1, e.get("choices").get(c).asText().length());
        if (lp[k] > bestLp) {
          bestLp = lp[k];
          best = c;
        }
        if (norm > bestNormLp) {
          bestNormLp = norm;
          bestNorm = c;
        }
      }
      int answer = e.get("answer").asInt();
      right += best == answer ? 1 : 0;
      rightNorm += bestNorm == answer ? 1 : 0;
      each[ex++] = (byNorm ? bestNorm : best) == answer ? 1f : 0f;
    }
    Map<String, Double> all = new LinkedHashMap<>();
    all.put("acc", right / (double) examples.size());
    all.put("acc_norm", rightNorm / (double) examples.size());
    return new Score(spec.name(), split, spec.metric(), all.get(spec.metric()), true, examples.size(), all, each);
  }

  private static Score generation(EvalModel.Language lm, TaskSpec spec, List<JsonNode> examples, String split) {
    Pattern p = spec.answerRegex() == null ? null : Pattern.compile(spec.answerRegex());
    int right = 0;
    float[] each = new float[examples.size()];
    int ex = 0;
    for (JsonNode e : examples) {
      String prompt = e.has("prompt") ? e.get("prompt").asText() : e.get("context").asText();
      int[] ids = truncate(lm.tokenizer().encode(prompt, true), spec.maxLength());
      String text = lm.tokenizer().decode(lm.model().generate(ids, spec.maxNewTokens(), lm.eos()));
      boolean ok = extract(text, p).equals(e.get("answer").asText().strip());
      right += ok ? 1 : 0;
      each[ex++] = ok ? 1f : 0f;
    }
    double em = right / (double) examples.size();
    return new Score(spec.name(), split, "exact_match", em, true, examples.size(), Map.of("exact_match", em), each);
  }

  /**
   * The whole text of a language example, as a model would read it when right: the text (perplexity), the context
   * and its right choice (multiple choice), the prompt and its answer (generation).
   */
  public static String fullText(TaskSpec spec, JsonNode e) {
    return switch (spec.kind()) {
      case "perplexity" -> e.get("text").asText();
      case "multiple_choice" -> e.get("context").asText() + CHOICE_DELIMITER + e.get("choices").get(e.get("answer").asInt()).asText();
      default -> (e.has("prompt") ? e.get("prompt").asText() : e.get("context").asText()) + " " + e.get("answer").asText();
    };
  }

  /** Token ids of {@link #fullText}, with special tokens, cut to the task's {@code max_length} (the start kept). */
  public static int[] tokens(EvalModel.Language lm, TaskSpec spec, JsonNode e) {
    int[] ids = lm.tokenizer().encode(fullText(spec, e), true);
    return ids.length > spec.maxLength() ? Arrays.copyOf(ids, spec.maxLength()) : ids;
  }

  /** The answer in generated text: regex group 1, else the whole match, else the stripped text. */
  static String extract(String text, Pattern p) {
    if (p == null) {
      return text.strip();
    }
    Matcher m = p.matcher(text);
    if (!m.find()) {
      return "";
    }
    return (m.groupCount() >= 1 && m.group(1) != null ? m.group(1) : m.group()).strip();
  }
}
