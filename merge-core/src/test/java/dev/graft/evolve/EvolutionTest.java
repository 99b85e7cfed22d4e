package dev.graft.evolve;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.fasterxml.jackson.databind.JsonNode;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The engine on toy problems: determinism, duplicates, budgets, crash and resume. */
class EvolutionTest {
  @TempDir Path dir;

  /** Sphere fitness on genes; per-example scores = which genes are close to their target; counts evaluations. */
  static final class Sphere implements CandidateEvaluator {
    final AtomicInteger calls;
    final int crashAfter;

    Sphere(AtomicInteger calls, int crashAfter) {
      this.calls = calls;
      this.crashAfter = crashAfter;
    }

    @Override
    public Result evaluate(Genome g) {
      if (crashAfter > 0 && calls.get() >= crashAfter) {
        throw new Crash();
      }
      calls.incrementAndGet();
      double[] x = ((Genome.Genes) g).values();
      float[] ex = new float[x.length];
      for (int i = 0; i < x.length; i++) {
        ex[i] = Math.abs(x[i] - 0.3) < 0.1 ? 1 : 0;
      }
      return new Result(PopulationOptimizersTest.target(x), Map.of("sphere", PopulationOptimizersTest.target(x)), ex, null, 0.001);
    }

    @Override
    public void close() {}
  }

  /** Stands for the process dying (kill -9): an Error no evaluator catches. */
  static final class Crash extends Error {
    private static final long serialVersionUID = 1L;
  }

  static CmaEs cma() {
    return new CmaEs(new CmaEs.Options(0.2, 8, false, 0), new double[] {0.5, 0.5, 0.5, 0.5, 0.5, 0.5}, PopulationOptimizersTest.BOX);
  }

  static Evolution.Outcome run(Optimizer opt, Path out, int threads, long budget, int crashAfter, boolean resume, AtomicInteger calls) {
    Evolution.HeldOut held = new Evolution.HeldOut() {
      @Override
      public Evolution.HeldOutScore evaluate(Genome g) {
        return new Evolution.HeldOutScore(Map.of("sphere", -1.0), -1);
      }

      @Override
      public void close() {}
    };
    return new Evolution(opt, () -> new Sphere(calls, crashAfter), held, g -> States.JSON.createObjectNode(),
        new Evolution.Settings(7, budget, 0, threads, 0), Evolution.Listener.NONE).run(out, resume);
  }

  /** Each candidate of a record by id: hash, fitness, origin (what must not depend on threads or interruptions). */
  static Map<Long, String> record(Path out) throws IOException {
    Map<Long, String> m = new TreeMap<>();
    for (String line : Files.readAllLines(out.resolve(RunRecord.EVALUATIONS))) {
      JsonNode n = States.JSON.readTree(line);
      String v = n.get("hash").asText() + " " + n.get("fitness").asText() + " " + n.get("origin") + " " + n.get("duplicate_of").asText();
      assertThat(m.put(n.get("id").asLong(), v)).as("candidate " + n.get("id") + " recorded twice").isNull();
    }
    return m;
  }

  @Test
  void sameSeedSameRunWhateverTheThreadCount() throws IOException {
    Evolution.Outcome a = run(cma(), dir.resolve("a"), 1, 160, 0, false, new AtomicInteger());
    Evolution.Outcome b = run(cma(), dir.resolve("b"), 2, 160, 0, false, new AtomicInteger());
    assertThat(record(dir.resolve("b"))).isEqualTo(record(dir.resolve("a")));
    assertThat(b.best().fitness()).isEqualTo(a.best().fitness());
    assertThat(a.evaluations()).isEqualTo(160);
    assertThat(Files.readAllLines(dir.resolve("a").resolve(RunRecord.GENERATIONS))).hasSize(20);
  }

  @Test
  void aRunKilledHalfWayAndResumedEqualsAnUninterruptedOne() throws IOException {
    AtomicInteger full = new AtomicInteger();
    Evolution.Outcome ref = run(cma(), dir.resolve("ref"), 2, 200, 0, false, full);
    for (int crashAt : new int[] {1, 37, 100, 151}) {
      Path out = dir.resolve("crash-" + crashAt);
      AtomicInteger calls = new AtomicInteger();
      assertThatThrownBy(() -> run(cma(), out, 2, 200, crashAt, false, calls)).isInstanceOf(Crash.class);
      int before = calls.get();
      // a partial last line, as a write cut short by kill -9 leaves it
      Files.writeString(out.resolve(RunRecord.EVALUATIONS), "{\"id\":99999,\"ha", java.nio.file.StandardOpenOption.APPEND);
      Evolution.Outcome res = run(cma(), out, 2, 200, 0, true, calls);
      assertThat(res.resumed()).isTrue();
      assertThat(record(out)).as("crash after " + crashAt).isEqualTo(record(dir.resolve("ref")));
      assertThat(res.best().fitness()).isEqualTo(ref.best().fitness());
      // nothing evaluated twice: the evaluations of both sessions add up to the uninterrupted run's
      assertThat(calls.get()).isEqualTo(full.get());
      assertThat(before).isEqualTo(crashAt);
      assertThat(Files.readAllLines(out.resolve(RunRecord.GENERATIONS)).stream().map(l -> l.replaceAll("\"seconds\":[0-9.E-]+", "")).toList())
          .isEqualTo(Files.readAllLines(dir.resolve("ref").resolve(RunRecord.GENERATIONS)).stream().map(l -> l.replaceAll("\"seconds\":[0-9.E-]+", "")).toList());
    }
  }

  @Test
  void m2n2ResumesWithItsPerExampleScores() throws IOException {
    java.util.function.Supplier<Optimizer> m2n2 = () -> new M2n2(new M2n2.Options(6, 1, true, true, 1),
        List.of(new Genome.Genes(new double[] {0.3, 0.9, 0.9, 0.3, 0.9, 0.9}), new Genome.Genes(new double[] {0.9, 0.3, 0.3, 0.9, 0.9, 0.3})),
        new SlerpCrossover(true, PopulationOptimizersTest.BOX), new Mutation(0.05, 1, PopulationOptimizersTest.BOX));
    AtomicInteger full = new AtomicInteger();
    run(m2n2.get(), dir.resolve("ref"), 1, 120, 0, false, full);
    Path out = dir.resolve("cut");
    AtomicInteger calls = new AtomicInteger();
    assertThatThrownBy(() -> run(m2n2.get(), out, 1, 120, 53, false, calls)).isInstanceOf(Crash.class);
    run(m2n2.get(), out, 1, 120, 0, true, calls);
    assertThat(record(out)).isEqualTo(record(dir.resolve("ref")));
    assertThat(calls.get()).isEqualTo(full.get());
  }

  @Test
  void identicalGenomesAreEvaluatedOnce() throws IOException {
    // random search whose generator can only make 3 distinct genomes
    double[][] pool = {{0.1, 0.1, 0.1, 0.1, 0.1, 0.1}, {0.2, 0.2, 0.2, 0.2, 0.2, 0.2}, {0.3, 0.3, 0.3, 0.3, 0.3, 0.3}};
    RandomSearch rs = new RandomSearch(4, null, (rng, o) -> new Genome.Genes(pool[rng.nextInt(3)].clone()));
    AtomicInteger calls = new AtomicInteger();
    Evolution.Outcome o = run(rs, dir.resolve("dup"), 2, 10, 0, false, calls);
    assertThat(calls.get()).isEqualTo(3);
    assertThat(o.evaluations()).isEqualTo(3);
    assertThat(o.stopReason()).startsWith("converged");
    Map<Long, String> rec = record(dir.resolve("dup"));
    assertThat(rec.values().stream().filter(v -> v.endsWith(" -1")).count()).isEqualTo(3);
    assertThat(o.candidates()).isEqualTo(rec.size());
  }

  @Test
  void theBudgetIsNeverExceededAndExtendingItContinuesTheRun() throws IOException {
    AtomicInteger calls = new AtomicInteger();
    Evolution.Outcome o = run(cma(), dir.resolve("b"), 1, 20, 0, false, calls);
    assertThat(o.evaluations()).isEqualTo(16); // λ = 8: a third step would overrun 20
    Evolution.Outcome more = run(cma(), dir.resolve("b"), 1, 40, 0, true, calls);
    assertThat(more.evaluations()).isEqualTo(40);
    AtomicInteger straight = new AtomicInteger();
    run(cma(), dir.resolve("straight"), 1, 40, 0, false, straight);
    assertThat(record(dir.resolve("b"))).isEqualTo(record(dir.resolve("straight")));
  }

  @Test
  void resumingWithAnotherSeedIsRefused() {
    run(cma(), dir.resolve("s"), 1, 16, 0, false, new AtomicInteger());
    Evolution e = new Evolution(cma(), () -> new Sphere(new AtomicInteger(), 0), null, null, new Evolution.Settings(8, 32, 0, 1, 0), null);
    assertThatThrownBy(() -> e.run(dir.resolve("s"), true)).hasMessageContaining("seed 7");
  }
}
