package dev.graft.evolve;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.data.Offset.offset;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;

class M2n2Test {
  static Genome g(double v) {
    return new Genome.Flat(new float[] {(float) v, 1f});
  }

  /** An archive of {@code size} slots holding members with the given per-example scores (ids 0, 1, ...). */
  static M2n2 archive(int size, double alpha, float[]... scores) {
    List<Genome> init = new ArrayList<>();
    for (int i = 0; i < scores.length; i++) {
      init.add(g(i));
    }
    M2n2 m = new M2n2(new M2n2.Options(size, alpha, true, true, 1), init, new SlerpCrossover(true, null), Mutation.none());
    List<Proposal> ps = m.ask(new SplittableRandom(0));
    assertThat(ps).hasSize(scores.length);
    List<Evaluated> res = new ArrayList<>();
    for (int i = 0; i < scores.length; i++) {
      res.add(Toys.ev(i, ps.get(i).genome(), mean(scores[i]), scores[i]));
    }
    m.tell(res);
    return m;
  }

  static double mean(float[] s) {
    double t = 0;
    for (float v : s) {
      t += v;
    }
    return t / s.length;
  }

  @Test
  void competitionFitnessAndAttractionMatchHandComputedValues() {
    M2n2 m = archive(4, 1, new float[] {1, 1, 0, 0}, new float[] {1, 0, 1, 0}, new float[] {0, 0, 0, 1});
    // z = (2, 1, 1, 1): example 0 is shared by two members and worth half to each
    double[][] fm = m.fitnessMatrix();
    assertThat(fm[0]).containsExactly(0.5, 1, 0, 0);
    assertThat(fm[1]).containsExactly(0.5, 0, 1, 0);
    assertThat(fm[2]).containsExactly(0, 0, 0, 1);
    assertThat(fm[3]).isNull();
    // g(p1 = 0, B) = sum_j max(0, fm_B - fm_0): member 1 brings example 2, member 2 example 3
    assertThat(m.attraction(fm, 0)).containsExactly(0, 1, 1, 0);
    assertThat(m.attraction(fm, 2)).containsExactly(1.5, 1.5, 0, 0);
    // alpha = 2 squares the consumption: example 0 worth 1/4
    M2n2 m2 = archive(4, 2, new float[] {1, 1, 0, 0}, new float[] {1, 0, 1, 0}, new float[] {0, 0, 0, 1});
    assertThat(m2.fitnessMatrix()[0]).containsExactly(0.25, 1, 0, 0);
    // alpha = 0 is the plain count of right answers (the GA baseline of the paper)
    M2n2 m0 = archive(4, 0, new float[] {1, 1, 0, 0}, new float[] {1, 0, 1, 0}, new float[] {0, 0, 0, 1});
    assertThat(m0.fitnessMatrix()[0]).containsExactly(1, 1, 0, 0);
  }

  @Test
  void emptySlotsFillFirstThenTheWorstIsReplacedUnlessTheChildIsWorst() {
    M2n2 m = archive(3, 1, new float[] {1, 1, 0, 0}, new float[] {1, 0, 1, 0});
    assertThat(m.archive()[2]).isNull();
    // a child that solves nothing still takes the empty slot (0 = 0, the slot comes first)
    m.insert(Toys.ev(10, g(10), 0, new float[] {0, 0, 0, 0}));
    assertThat(m.archive()[2].id()).isEqualTo(10);
    // full archive: a child that solves nothing ties with member 10 (both 0); ties favour the child
    m.insert(Toys.ev(11, g(11), 0, new float[] {0, 0, 0, 0}));
    assertThat(ids(m)).containsExactly(0L, 1L, 11L);
    // a child solving example 3, which nobody solves, replaces the worst member (11, fitness 0)
    m.insert(Toys.ev(12, g(12), 0.25, new float[] {0, 0, 0, 1}));
    assertThat(ids(m)).containsExactly(0L, 1L, 12L);
    // now every member is better than a child that solves nothing: it stays out
    m.insert(Toys.ev(13, g(13), 0, new float[] {0, 0, 0, 0}));
    assertThat(ids(m)).containsExactly(0L, 1L, 12L);
  }

  @Test
  void tiesFavourTheChild() {
    M2n2 m = archive(2, 1, new float[] {1, 0}, new float[] {0, 1});
    // z = (2, 1): member 0 and the child both get 1/2, member 1 gets 1; the first of the tied (member 0) goes
    m.insert(Toys.ev(5, g(5), 0.5, new float[] {1, 0}));
    assertThat(ids(m)).containsExactly(5L, 1L);
  }

  static List<Long> ids(M2n2 m) {
    List<Long> out = new ArrayList<>();
    for (Evaluated e : m.archive()) {
      out.add(e == null ? null : e.id());
    }
    return out;
  }

  @Test
  void parentTwoFollowsAttractionAndTheGuardAvoidsADominatingParent() {
    // member 0 is right everywhere: as parent 1 nobody attracts it (every g = 0, the reference divides 0 by 0)
    M2n2 m = archive(3, 1, new float[] {1, 1, 1, 1}, new float[] {1, 0, 0, 0}, new float[] {0, 1, 1, 0});
    Map<String, Integer> pairs = new HashMap<>();
    for (long s = 0; s < 3000; s++) {
      Proposal p = m.ask(new SplittableRandom(s)).get(0);
      var parents = p.origin().get("parents");
      String key = parents.get(0).asLong() + "-" + parents.get(1).asLong();
      pairs.merge(key, 1, Integer::sum);
    }
    assertThat(pairs).doesNotContainKeys("0-0", "1-1", "2-2");
    // with parent 1 = member 0, the guard draws by fitness among the others: f1 = 1/2, f2 = 1/2 + 1/2 = 1
    double ratio = pairs.getOrDefault("0-2", 0) / (double) pairs.getOrDefault("0-1", 1);
    assertThat(ratio).isCloseTo(2.0, offset(0.35));
    // member 1 is attracted only to members that are right where it is wrong: both 0 and 2 are; g(1,0) = 1.5, g(1,2) = 1
    double r1 = pairs.getOrDefault("1-0", 0) / (double) pairs.getOrDefault("1-2", 1);
    assertThat(r1).isCloseTo(1.5, offset(0.3));
  }

  @Test
  void parentOneIsDrawnByCompetitionFitness() {
    M2n2 m = archive(3, 1, new float[] {1, 1, 0, 0}, new float[] {1, 0, 1, 0}, new float[] {0, 0, 0, 1});
    int[] counts = new int[3];
    for (long s = 0; s < 6000; s++) {
      counts[(int) m.ask(new SplittableRandom(s)).get(0).origin().get("parents").get(0).asLong()]++;
    }
    // f = (1.5, 1.5, 1): probabilities 0.375, 0.375, 0.25
    assertThat(counts[0] / 6000.0).isCloseTo(0.375, offset(0.03));
    assertThat(counts[2] / 6000.0).isCloseTo(0.25, offset(0.03));
  }

  @Test
  void splitPointSlerpMatchesTheFormula() {
    float[] x = {1, 0, 2, -1, 0.5f, 3};
    float[] y = {0, 1, 1, 1, -2, 0.5f};
    var origin = States.origin("t");
    Genome c = new SlerpCrossover(true, null).cross(new Genome.Flat(x), new Genome.Flat(y), new SplittableRandom(4), origin);
    int k = origin.get("split").asInt();
    double w = origin.get("ratio").asDouble();
    double dot = 0, nx = 0, ny = 0;
    for (int i = 0; i < x.length; i++) {
      dot += x[i] * y[i];
      nx += x[i] * x[i];
      ny += y[i] * y[i];
    }
    double omega = Math.acos(dot / Math.sqrt(nx * ny));
    for (int i = 0; i < x.length; i++) {
      double t = i < k ? w : 1 - w;
      double expect = Math.sin((1 - t) * omega) / Math.sin(omega) * x[i] + Math.sin(t * omega) / Math.sin(omega) * y[i];
      assertThat((double) ((Genome.Flat) c).values()[i]).isCloseTo(expect, offset(1e-5));
    }
    // parallel parents: linear interpolation, no division by sin 0
    float[] x2 = {1, 2, 3};
    float[] y2 = {2, 4, 6};
    Genome l = new SlerpCrossover(false, null).cross(new Genome.Flat(x2), new Genome.Flat(y2), new SplittableRandom(1), States.origin("t"));
    for (float v : ((Genome.Flat) l).values()) {
      assertThat(Float.isFinite(v)).isTrue();
    }
  }

  @Test
  void learnsAToyProblemAndKeepsNichesAlive() {
    // 6 "examples", each solved by genomes whose coordinate i is above 0.5: specialists must cooperate via crossover
    int n = 6;
    List<Genome> init = List.of(new Genome.Flat(new float[] {0.9f, 0.9f, 0.9f, 0, 0, 0}), new Genome.Flat(new float[] {0, 0, 0, 0.9f, 0.9f, 0.9f}));
    M2n2 m = new M2n2(new M2n2.Options(10, 1, true, true, 1), init, new SlerpCrossover(true, null), new Mutation(0.02, 1, null));
    long id = 0;
    for (long s = 0; s < 400; s++) {
      List<Evaluated> out = new ArrayList<>();
      for (Proposal p : m.ask(new SplittableRandom(s))) {
        float[] v = ((Genome.Flat) p.genome()).values();
        float[] sc = new float[n];
        for (int i = 0; i < n; i++) {
          sc[i] = v[i] > 0.5f ? 1 : 0;
        }
        out.add(Toys.ev(id++, p.genome(), mean(sc), sc));
      }
      m.tell(out);
    }
    assertThat(m.best().orElseThrow().fitness()).isEqualTo(1.0);
  }

  @Test
  void stateRoundTripsThroughAStore() {
    M2n2 m = archive(4, 1, new float[] {1, 1, 0, 0}, new float[] {1, 0, 1, 0}, new float[] {0, 0, 0, 1});
    GenomeStore store = new GenomeStore();
    var st = m.save(store);
    M2n2 r = new M2n2(new M2n2.Options(4, 1, true, true, 1), List.of(g(0), g(1), g(2)), new SlerpCrossover(true, null), Mutation.none());
    r.restore(st, store);
    assertThat(r.ask(new SplittableRandom(3)).get(0).genome()).isEqualTo(m.ask(new SplittableRandom(3)).get(0).genome());
    assertThat(ids(r)).isEqualTo(ids(m));
  }
}
