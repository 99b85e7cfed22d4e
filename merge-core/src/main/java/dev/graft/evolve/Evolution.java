package dev.graft.evolve;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.graft.tensor.spi.SeededMasks;
import java.util.ArrayList;
import java.util.Base64;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.SplittableRandom;
import java.util.function.Function;
import java.util.function.Supplier;

/**
 * The evolution engine: asks the optimiser for proposals, evaluates them on the fit splits (in parallel, one
 * evaluator per worker; identical genomes are evaluated once), tells the results, reports each generation with the
 * held-out score of the current best (which never reaches the optimiser), and keeps the run's record so that a run
 * killed at any point resumes where it stopped: no evaluation lost, none repeated, the same result as an
 * uninterrupted run (for evaluation budgets; a time budget depends on the clock).
 *
 * <p>Step {@code s} draws from {@code SplittableRandom(mix(seed, s))} and candidate ids count up in proposal order,
 * so the run is a deterministic function of the optimiser, the evaluator and the seed, whatever the thread count.
 */
public final class Evolution {
  /** Steps in a row that proposed only genomes already evaluated before the run stops as converged. */
  static final int IDLE_STEPS = 50;

  /**
   * Settings.
   *
   * @param seed run seed
   * @param maxEvaluations evaluations budget (candidates actually evaluated; duplicates are free), 0 = none
   * @param maxSeconds wall-time budget over all sessions of the run, 0 = none
   * @param threads evaluation workers
   * @param checkpointSeconds at least this long between checkpoints (0 = after every step)
   */
  public record Settings(long seed, long maxEvaluations, double maxSeconds, int threads, double checkpointSeconds) {
    public Settings {
      if (maxEvaluations < 0 || !(maxSeconds >= 0) || threads < 1 || !(checkpointSeconds >= 0)) {
        throw new IllegalArgumentException("bad evolution settings");
      }
      if (maxEvaluations == 0 && maxSeconds == 0) {
        throw new IllegalArgumentException("a run needs a budget: evaluations, seconds or both");
      }
    }
  }

  /**
   * A held-out score.
   *
   * @param tasks each task's primary metric on its held-out split
   * @param fitness their weighted mean, oriented like fitness (larger is better)
   */
  public record HeldOutScore(Map<String, Double> tasks, double fitness) {}

  /** Scores genomes on the held-out splits; used only for reports. */
  public interface HeldOut extends AutoCloseable {
    HeldOutScore evaluate(Genome genome);

    @Override
    void close();
  }

  /**
   * One reported generation.
   *
   * @param index generation number from 0
   * @param evaluations evaluations so far
   * @param candidates candidates so far (duplicates included)
   * @param best the optimiser's best so far
   * @param meanFitness mean fitness of the optimiser's population (archive, elites, ...)
   * @param heldOut the best's held-out score, or null when no held-out evaluator is given
   * @param seconds wall time of the run so far
   */
  public record Generation(int index, long evaluations, long candidates, Evaluated best, double meanFitness, HeldOutScore heldOut,
      double seconds) {}

  /** Receives progress. */
  public interface Listener {
    Listener NONE = new Listener() {};

    /** After each evaluation (from any worker thread). */
    default void evaluated(long evaluations, long budget, double seconds, double budgetSeconds) {}

    /** After each reported generation. */
    default void generation(Generation g) {}
  }

  /**
   * How the run ended.
   *
   * @param best the best candidate
   * @param heldOut its held-out score (null without a held-out evaluator)
   * @param evaluations evaluations done
   * @param candidates candidates proposed
   * @param stopReason why it stopped
   * @param resumed whether this session continued an earlier one
   */
  public record Outcome(Evaluated best, HeldOutScore heldOut, long evaluations, long candidates, String stopReason, boolean resumed) {}

  private record Cached(long id, Result result, byte[] examples) {
    Result restore() {
      return new Result(result.fitness(), result.tasks(), examples == null ? null : PackedScores.unpack(examples), result.error(), result.seconds());
    }
  }

  private final Optimizer optimizer;
  private final Supplier<BatchEvaluator> batches;
  private final HeldOut heldOut;
  private final Function<Genome, ObjectNode> describe;
  private final Settings settings;
  private final Listener listener;

  // engine state (checkpointed)
  private long step;
  private long nextId;
  private long evaluations;
  private long candidates;
  private int generation;
  private long inGeneration;
  private double elapsedBefore;
  private int idle;
  private long heldOutId = -1;
  private HeldOutScore heldOutScore;

  private final Map<Long, Cached> byHash = new HashMap<>();
  private final Map<Long, JsonNode> replay = new HashMap<>();

  /**
   * @param evaluators makes one evaluator per worker
   * @param heldOut scores the best on held-out splits, or null
   * @param describe what the record keeps of a genome besides its lineage (genes and decoded recipe), or null
   */
  public Evolution(Optimizer optimizer, Supplier<CandidateEvaluator> evaluators, HeldOut heldOut, Function<Genome, ObjectNode> describe,
      Settings settings, Listener listener) {
    this(optimizer, heldOut, describe, settings, listener, () -> new LocalEvaluation(evaluators, settings.threads()));
  }

  /**
   * An engine whose candidates are evaluated by what {@code batches} opens (once per session, closed at its end):
   * threads of this JVM or a cluster. The record does not depend on which.
   */
  public Evolution(Optimizer optimizer, HeldOut heldOut, Function<Genome, ObjectNode> describe, Settings settings, Listener listener,
      Supplier<BatchEvaluator> batches) {
    this.optimizer = optimizer;
    this.batches = batches;
    this.heldOut = heldOut;
    this.describe = describe == null ? g -> States.JSON.createObjectNode() : describe;
    this.settings = settings;
    this.listener = listener == null ? Listener.NONE : listener;
  }

  /** Runs in {@code dir}, a new run (earlier record files there are replaced) or, with {@code resume}, the one there. */
  public Outcome run(java.nio.file.Path dir, boolean resume) {
    try (RunRecord record = resume ? RunRecord.open(dir) : RunRecord.create(dir)) {
      boolean resumed = resume && load(record);
      return loop(record, resumed);
    }
  }

  private String stopReason; // set when the loop ends (a resumed run finds its own)

  /** Restores the checkpoint (if any) and indexes the record; returns whether anything was there. */
  private boolean load(RunRecord record) {
    Optional<GenomeStore.Loaded> ck = record.readCheckpoint();
    long genBytes = 0;
    if (ck.isPresent()) {
      ObjectNode s = ck.get().state();
      ObjectNode e = (ObjectNode) s.get("engine");
      if (e.get("seed").asLong() != settings.seed()) {
        throw new dev.graft.InvalidInputException("the run in " + record.dir() + " was started with seed " + e.get("seed").asLong()
            + ", not " + settings.seed() + "; resume it with the same seed");
      }
      if (!s.get("method").asText().equals(optimizer.method())) {
        throw new dev.graft.InvalidInputException("the run in " + record.dir() + " used optimiser " + s.get("method").asText()
            + ", the recipe says " + optimizer.method());
      }
      step = e.get("step").asLong();
      nextId = e.get("next_id").asLong();
      evaluations = e.get("evaluations").asLong();
      candidates = e.get("candidates").asLong();
      generation = e.get("generation").asInt();
      inGeneration = e.get("in_generation").asLong();
      elapsedBefore = e.get("seconds").asDouble();
      idle = e.get("idle").asInt();
      genBytes = e.get("generations_bytes").asLong();
      if (e.has("held_out")) {
        heldOutId = e.get("held_out_id").asLong();
        heldOutScore = heldOutFromJson(e.get("held_out"));
      }
      optimizer.restore((ObjectNode) s.get("optimizer"), ck.get().store());
    }
    record.truncateGenerations(genBytes);
    List<JsonNode> lines = record.readEvaluations();
    for (JsonNode n : lines) {
      long id = n.get("id").asLong();
      if (id < nextId) {
        remember(Long.parseUnsignedLong(n.get("hash").asText(), 16), id, resultOf(n), n.get("duplicate_of").asLong());
      } else {
        replay.put(id, n);
      }
    }
    return ck.isPresent() || !lines.isEmpty();
  }

  private Outcome loop(RunRecord record, boolean resumed) {
    long t0 = System.nanoTime();
    long lastCheckpoint = System.nanoTime();
    try (BatchEvaluator batch = batches.get()) {
      while (true) {
        double elapsed = elapsedBefore + (System.nanoTime() - t0) / 1e9;
        if (settings.maxEvaluations() > 0 && evaluations >= settings.maxEvaluations()) {
          stopReason = "evaluation budget spent (" + evaluations + ")";
          break;
        }
        if (settings.maxSeconds() > 0 && elapsed >= settings.maxSeconds()) {
          stopReason = "time budget spent (" + Math.round(elapsed) + " s)";
          break;
        }
        if (settings.maxEvaluations() > 0 && step > 0 && evaluations + optimizer.nextBatch() > settings.maxEvaluations()) {
          stopReason = "evaluation budget spent (" + evaluations + "; the next step needs " + optimizer.nextBatch() + ")";
          break;
        }
        if (idle >= IDLE_STEPS) {
          stopReason = "converged: the last " + IDLE_STEPS + " steps proposed only genomes already evaluated";
          break;
        }
        List<Proposal> proposals = optimizer.ask(new SplittableRandom(SeededMasks.mix(settings.seed(), step)));
        List<Evaluated> results = evaluate(proposals, record, batch, t0);
        optimizer.tell(results);
        step++;
        nextId += proposals.size();
        candidates += proposals.size();
        long real = results.stream().filter(e -> e.duplicateOf() < 0).count();
        evaluations += real;
        idle = real == 0 ? idle + 1 : 0;
        inGeneration += proposals.size();
        if (inGeneration >= optimizer.generationSize()) {
          report(record, t0, batch);
        }
        if ((System.nanoTime() - lastCheckpoint) / 1e9 >= settings.checkpointSeconds()) {
          checkpoint(record, t0);
          lastCheckpoint = System.nanoTime();
        }
      }
      if (inGeneration > 0 || generation == 0) {
        report(record, t0, batch);
      }
      checkpoint(record, t0);
      return outcome(resumed);
    }
  }

  private Outcome outcome(boolean resumed) {
    Evaluated best = optimizer.best().orElse(null);
    HeldOutScore h = best != null && best.id() == heldOutId ? heldOutScore : null;
    return new Outcome(best, h, evaluations, candidates, stopReason, resumed);
  }

  private List<Evaluated> evaluate(List<Proposal> proposals, RunRecord record, BatchEvaluator batch, long t0) {
    int k = proposals.size();
    Evaluated[] out = new Evaluated[k];
    long[] hashes = new long[k];
    List<Integer> todo = new ArrayList<>();
    Map<Long, Integer> firstInBatch = new HashMap<>();
    for (int i = 0; i < k; i++) {
      Proposal p = proposals.get(i);
      Candidate c = new Candidate(nextId + i, step, p.genome(), p.origin());
      hashes[i] = p.genome().hash();
      JsonNode rec = replay.remove(c.id());
      if (rec != null) {
        if (Long.parseUnsignedLong(rec.get("hash").asText(), 16) != hashes[i]) {
          throw new dev.graft.InvalidInputException("candidate " + c.id() + " in " + record.dir().resolve(RunRecord.EVALUATIONS)
              + " is not the candidate this recipe proposes now; the recipe, the seed or Graft changed since the run started."
              + " Resume with the same recipe and seed, or start a new run");
        }
        out[i] = new Evaluated(c, resultOf(rec), rec.get("duplicate_of").asLong());
        remember(hashes[i], c.id(), out[i].result(), out[i].duplicateOf());
        continue;
      }
      Cached hit = byHash.get(hashes[i]);
      if (hit != null) {
        out[i] = new Evaluated(c, hit.restore(), hit.id());
        record.appendEvaluation(line(out[i], hashes[i]));
        continue;
      }
      Integer first = firstInBatch.putIfAbsent(hashes[i], i);
      if (first != null) {
        continue; // resolved after the first copy is evaluated
      }
      out[i] = new Evaluated(c, null, -1);
      todo.add(i);
    }
    batch.evaluate(todo.stream().map(proposals::get).toList(), (j, r) -> {
      int i = todo.get(j);
      synchronized (this) {
        if (out[i].result() != null) {
          throw new IllegalStateException("the evaluator returned two results for candidate " + out[i].id());
        }
        out[i] = new Evaluated(out[i].candidate(), r, -1);
        record.appendEvaluation(line(out[i], hashes[i]));
        remember(hashes[i], out[i].id(), out[i].result(), -1);
        long done = evaluations + countDone(out);
        listener.evaluated(done, settings.maxEvaluations(), elapsedBefore + (System.nanoTime() - t0) / 1e9, settings.maxSeconds());
      }
    });
    for (int i : todo) {
      if (out[i].result() == null) {
        throw new IllegalStateException("the evaluator returned no result for candidate " + out[i].id());
      }
    }
    for (int i = 0; i < k; i++) {
      if (out[i] == null) { // a copy of an earlier proposal of this batch
        Evaluated first = out[firstInBatch.get(hashes[i])];
        Proposal p = proposals.get(i);
        out[i] = new Evaluated(new Candidate(nextId + i, step, p.genome(), p.origin()), first.result(), first.id());
        record.appendEvaluation(line(out[i], hashes[i]));
      }
    }
    return List.of(out);
  }

  private static long countDone(Evaluated[] out) {
    long n = 0;
    for (Evaluated e : out) {
      if (e != null && e.result() != null && e.duplicateOf() < 0) {
        n++;
      }
    }
    return n;
  }

  private void remember(long hash, long id, Result r, long duplicateOf) {
    if (duplicateOf >= 0 || byHash.containsKey(hash)) {
      return;
    }
    byte[] ex = r.examples() == null ? null : PackedScores.pack(r.examples());
    byHash.put(hash, new Cached(id, new Result(r.fitness(), r.tasks(), null, r.error(), r.seconds()), ex));
  }

  private ObjectNode line(Evaluated e, long hash) {
    ObjectNode n = States.JSON.createObjectNode();
    Candidate c = e.candidate();
    n.put("id", c.id());
    n.put("step", c.step());
    n.put("hash", Long.toHexString(hash));
    n.set("origin", c.origin());
    describe.apply(c.genome()).fields().forEachRemaining(f -> n.set(f.getKey(), f.getValue()));
    States.putResult(n, e.result(), ex -> Base64.getEncoder().encodeToString(PackedScores.pack(ex)));
    n.put("duplicate_of", e.duplicateOf());
    return n;
  }

  static Result resultOf(JsonNode n) {
    return States.result(n, text -> PackedScores.unpack(Base64.getDecoder().decode(text)));
  }

  private void report(RunRecord record, long t0, BatchEvaluator batch) {
    Evaluated best = optimizer.best().orElse(null);
    if (best != null && heldOut != null && best.id() != heldOutId) {
      heldOutScore = batch.heldOut(best.genome(), heldOut);
      heldOutId = best.id();
    }
    List<Evaluated> pop = optimizer.population();
    double mean = pop.stream().mapToDouble(Evaluated::fitness).filter(Double::isFinite).average().orElse(Double.NaN);
    double seconds = elapsedBefore + (System.nanoTime() - t0) / 1e9;
    Generation g = new Generation(generation, evaluations, candidates, best, mean, best == null ? null : heldOutScore, seconds);
    ObjectNode n = States.JSON.createObjectNode();
    n.put("generation", generation);
    n.put("evaluations", evaluations);
    n.put("candidates", candidates);
    if (best != null) {
      ObjectNode b = n.putObject("best");
      b.put("id", best.id());
      b.put("fitness", best.fitness());
      ObjectNode t = b.putObject("tasks");
      best.result().tasks().forEach(t::put);
    }
    if (Double.isFinite(mean)) {
      n.put("population_mean", mean);
    }
    if (g.heldOut() != null) {
      n.set("held_out", heldOutJson(g.heldOut()));
    }
    n.put("seconds", seconds);
    record.appendGeneration(n);
    generation++;
    inGeneration = 0;
    listener.generation(g);
  }

  private static ObjectNode heldOutJson(HeldOutScore h) {
    ObjectNode n = States.JSON.createObjectNode();
    n.put("fitness", h.fitness());
    ObjectNode t = n.putObject("tasks");
    h.tasks().forEach(t::put);
    return n;
  }

  private static HeldOutScore heldOutFromJson(JsonNode n) {
    Map<String, Double> t = new LinkedHashMap<>();
    n.get("tasks").fields().forEachRemaining(f -> t.put(f.getKey(), f.getValue().asDouble()));
    return new HeldOutScore(t, n.get("fitness").asDouble());
  }

  private void checkpoint(RunRecord record, long t0) {
    GenomeStore store = new GenomeStore();
    ObjectNode s = States.JSON.createObjectNode();
    s.put("method", optimizer.method());
    ObjectNode e = s.putObject("engine");
    e.put("seed", settings.seed());
    e.put("step", step);
    e.put("next_id", nextId);
    e.put("evaluations", evaluations);
    e.put("candidates", candidates);
    e.put("generation", generation);
    e.put("in_generation", inGeneration);
    e.put("seconds", elapsedBefore + (System.nanoTime() - t0) / 1e9);
    e.put("idle", idle);
    if (stopReason != null) {
      e.put("stop_reason", stopReason);
    }
    e.put("generations_bytes", record.generationsBytes());
    if (heldOutScore != null) {
      e.put("held_out_id", heldOutId);
      e.set("held_out", heldOutJson(heldOutScore));
    }
    s.set("optimizer", optimizer.save(store));
    record.writeCheckpoint(store, s);
  }
}
