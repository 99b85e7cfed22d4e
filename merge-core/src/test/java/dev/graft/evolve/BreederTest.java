package dev.graft.evolve;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.graft.op.Operators;
import dev.graft.tensor.Backends;
import dev.graft.tensor.Device;
import dev.graft.tensor.Shape;
import dev.graft.tensor.spi.Backend;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;

/**
 * A child rebuilt from its parents and its lineage record alone (as a cluster's executors do, after the record went
 * through JSON text) is the very genome the optimiser made, for every crossover and with or without mutation.
 */
class BreederTest {
  private static final ObjectMapper JSON = new ObjectMapper();

  private static Genome.Flat gaussian(int n, long seed) {
    SplittableRandom r = new SplittableRandom(seed);
    float[] w = new float[n];
    for (int i = 0; i < n; i++) {
      w[i] = (float) r.nextGaussian();
    }
    return new Genome.Flat(w);
  }

  private static Evaluated evaluated(long id, Genome g) {
    return new Evaluated(new Candidate(id, 0, g, States.origin("t")), new Result(0, Map.of(), null, null, 0), -1);
  }

  /** Children of two parents by {@code breeder}, checked against their rebuilt copies; returns the distinct hashes. */
  private static long checkRebuilds(Breeder breeder, Genome a, Genome b, boolean cross) throws Exception {
    Evaluated p1 = evaluated(1, a);
    Evaluated p2 = evaluated(2, b);
    SplittableRandom rng = new SplittableRandom(9);
    List<Long> hashes = new ArrayList<>();
    for (int i = 0; i < 5; i++) {
      Proposal p = Breeding.child(p1, cross, () -> p2, breeder.crossover(), breeder.mutation(), rng);
      assertThat(p.parents()).extracting(Evaluated::id).isEqualTo(cross ? List.of(1L, 2L) : List.of(1L));
      JsonNode wire = JSON.readTree(p.origin().toString()); // what an executor receives
      Genome again = breeder.rebuild(p.parents().stream().map(Evaluated::genome).toList(), wire);
      assertThat(again).as("child %d rebuilt from %s", i, wire).isEqualTo(p.genome());
      assertThat(again.hash()).isEqualTo(p.genome().hash());
      hashes.add(again.hash());
    }
    return hashes.stream().distinct().count();
  }

  @Test
  void splitPointSlerpAndPlainSlerpChildrenRebuildBitForBit() throws Exception {
    Mutation m = new Mutation(0.01, 1, null);
    assertThat(checkRebuilds(new Breeder(new SlerpCrossover(true, null), m), gaussian(1000, 1), gaussian(1000, 2), true)).isEqualTo(5);
    assertThat(checkRebuilds(new Breeder(new SlerpCrossover(false, null), m), gaussian(1000, 1), gaussian(1000, 2), true)).isEqualTo(5);
    assertThat(checkRebuilds(new Breeder(new SlerpCrossover(true, null), Mutation.none()), gaussian(1000, 1), gaussian(1000, 2), true))
        .isEqualTo(5);
  }

  @Test
  void mutationOnlyChildrenAndSparseMutationRebuild() throws Exception {
    assertThat(checkRebuilds(new Breeder(null, new Mutation(0.05, 0.1, null)), gaussian(500, 3), gaussian(500, 4), false)).isEqualTo(5);
  }

  @Test
  void blendCrossoverOfGenesRebuilds() throws Exception {
    Bounds bounds = Bounds.uniform(6, 0, 1);
    Genome a = new Genome.Genes(new double[] {0.1, 0.2, 0.3, 0.4, 0.5, 0.6});
    Genome b = new Genome.Genes(new double[] {0.9, 0.1, 0.7, 0.2, 0.5, 0.0});
    assertThat(checkRebuilds(new Breeder(new BlendCrossover(0.5, bounds), new Mutation(0.1, 0.5, bounds)), a, b, true)).isEqualTo(5);
  }

  @Test
  void crossoverThroughRandomMergeOperatorsRebuilds() throws Exception {
    Map<String, Shape> shapes = new LinkedHashMap<>();
    shapes.put("fc1.weight", Shape.of(16, 8));
    shapes.put("fc1.bias", Shape.of(16));
    shapes.put("fc2.weight", Shape.of(4, 16));
    WeightLayout layout = new WeightLayout(shapes, WeightLayout.Order.JAX);
    int n = layout.size();
    Genome.Flat base = gaussian(n, 5);
    try (Backend be = Backends.create("reference", Device.CPU)) {
      for (String op : List.of("dare_ties", "linear", "slerp", "della")) {
        Map<String, Object> values = op.equals("linear") || op.equals("slerp") ? Map.of() : Map.of("density", 0.5);
        OperatorCrossover c = new OperatorCrossover(Operators.builtIn().get(op), layout, base, values, be);
        assertThat(checkRebuilds(new Breeder(c, new Mutation(0.01, 1, null)), gaussian(n, 6), gaussian(n, 7), true)).as(op).isEqualTo(5);
      }
    }
  }

  @Test
  void theLineageKeepsEveryDrawAndM2n2ChildrenNameTheirParents() {
    Mutation m = new Mutation(0.01, 1, null);
    M2n2 opt = new M2n2(new M2n2.Options(4, 1, true, true, 3), List.of(gaussian(50, 1), gaussian(50, 2)), new SlerpCrossover(true, null), m);
    SplittableRandom rng = new SplittableRandom(3);
    List<Proposal> first = opt.ask(rng);
    List<Evaluated> told = new ArrayList<>();
    for (int i = 0; i < first.size(); i++) {
      Result r = new Result(i, Map.of(), new float[] {i, 1 - i}, null, 0);
      told.add(new Evaluated(new Candidate(i, 0, first.get(i).genome(), first.get(i).origin()), r, -1));
    }
    opt.tell(told);
    for (Proposal p : opt.ask(rng)) {
      ObjectNode o = p.origin();
      assertThat(o.has("split") && o.has("ratio") && o.has("mutation_seed")).as(o.toString()).isTrue();
      assertThat(p.parents()).hasSize(2);
      assertThat(new Breeder(new SlerpCrossover(true, null), m).rebuild(p.parents().stream().map(Evaluated::genome).toList(), o))
          .isEqualTo(p.genome());
    }
  }
}
