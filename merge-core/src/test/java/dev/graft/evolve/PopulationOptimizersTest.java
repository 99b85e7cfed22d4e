package dev.graft.evolve;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;

/** GA, MAP-Elites and random search on small known problems. */
class PopulationOptimizersTest {
  static final Bounds BOX = Bounds.uniform(6, 0, 1);

  static double target(double[] x) {
    double s = 0;
    for (int i = 0; i < x.length; i++) {
      double c = 0.1 + 0.15 * i;
      s -= (x[i] - c) * (x[i] - c);
    }
    return s;
  }

  static Generator uniform() {
    return (rng, o) -> new Genome.Genes(BOX.sample(rng));
  }

  @Test
  void geneticAlgorithmImprovesAndKeepsItsElite() {
    GeneticAlgorithm ga = new GeneticAlgorithm(new GeneticAlgorithm.Options(20, 3, 0.9, 2), List.of(), uniform(),
        new BlendCrossover(0.5, BOX), new Mutation(0.05, 0.3, BOX));
    double first = Double.NEGATIVE_INFINITY;
    double previousBest = Double.NEGATIVE_INFINITY;
    long id = 0;
    for (long s = 0; s < 60; s++) {
      List<Proposal> ps = ga.ask(new SplittableRandom(s));
      assertThat(ps).hasSize(s == 0 ? 20 : 18);
      List<Evaluated> out = new ArrayList<>();
      for (Proposal p : ps) {
        out.add(Toys.ev(id++, ((Genome.Genes) p.genome()).values(), target(((Genome.Genes) p.genome()).values())));
      }
      ga.tell(out);
      double best = ga.best().orElseThrow().fitness();
      assertThat(best).isGreaterThanOrEqualTo(previousBest); // elitism: the best never gets worse
      previousBest = best;
      if (s == 0) {
        first = best;
      }
      assertThat(ga.population()).hasSize(20);
    }
    assertThat(previousBest).isGreaterThan(first / 20);
    assertThat(previousBest).isGreaterThan(-1e-3);
  }

  @Test
  void mapElitesPlacesCandidatesByDescriptorsAndKeepsTheFittestPerCell() {
    MapElites me = new MapElites(new MapElites.Options(List.of("a", "b"), new double[] {0, 0}, new double[] {1, 1}, 4, 10, 10, true),
        List.of(), uniform(), new BlendCrossover(0.5, BOX), new Mutation(0.1, 0.5, BOX));
    long id = 0;
    for (long s = 0; s < 40; s++) {
      List<Evaluated> out = new ArrayList<>();
      for (Proposal p : me.ask(new SplittableRandom(s))) {
        double[] x = ((Genome.Genes) p.genome()).values();
        out.add(new Evaluated(new Candidate(id++, s, p.genome(), p.origin()),
            new Result(target(x), Map.of("a", x[0], "b", x[1]), null, null, 0), -1));
      }
      me.tell(out);
    }
    assertThat(me.cells().size()).isGreaterThan(12);
    me.cells().forEach((cell, e) -> {
      double[] x = ((Genome.Genes) e.genome()).values();
      assertThat(cell).isEqualTo(Math.min(3, (int) (x[0] * 4)) * 4 + Math.min(3, (int) (x[1] * 4)));
    });
    // a better candidate takes its cell, a worse one does not, a tie keeps the elite
    Evaluated elite = me.cells().get(0);
    double[] g = ((Genome.Genes) elite.genome()).values();
    me.tell(List.of(new Evaluated(new Candidate(9000, 99, new Genome.Genes(g), Toys.NO_ORIGIN),
        new Result(elite.fitness(), Map.of("a", 0.01, "b", 0.01), null, null, 0), -1)));
    assertThat(me.cells().get(0).id()).isEqualTo(elite.id());
    me.tell(List.of(new Evaluated(new Candidate(9001, 99, new Genome.Genes(g), Toys.NO_ORIGIN),
        new Result(elite.fitness() + 1, Map.of("a", 0.01, "b", 0.01), null, null, 0), -1)));
    assertThat(me.cells().get(0).id()).isEqualTo(9001);
  }

  @Test
  void randomSearchStartsFromTheStartGenomeAndDrawsInsideTheBounds() {
    double[] start = {0.5, 0.5, 0.5, 0.5, 0.5, 0.5};
    RandomSearch rs = new RandomSearch(8, new Genome.Genes(start), uniform());
    List<Proposal> first = rs.ask(new SplittableRandom(1));
    assertThat(((Genome.Genes) first.get(0).genome()).values()).containsExactly(start);
    double best = Toys.run(rs, PopulationOptimizersTest::target, 400, 3);
    assertThat(best).isGreaterThan(target(start));
  }
}
