package dev.graft.evolve;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.graft.recipe.RecipeException;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Evolve recipes: every problem reported at once, located, with a hint. */
class EvolveSpecTest {
  @TempDir Path dir;

  @BeforeEach
  void tasks() throws IOException {
    Files.writeString(dir.resolve("digits.yaml"), "name: digits\nkind: classification\ndata: {source: procedural, size: 8, count: 200, seed: 1}\n");
    Files.writeString(dir.resolve("ppl.jsonl"), "{\"text\": \"the quick brown fox\"}\n{\"text\": \"jumps over the lazy dog\"}\n");
    Files.writeString(dir.resolve("ppl.yaml"), "name: ppl\nkind: perplexity\ndata: {source: jsonl, path: ppl.jsonl}\nsplit: {fit: 0.5}\n");
  }

  RecipeException problems(String yaml) throws IOException {
    Path f = dir.resolve("evolve.yml");
    Files.writeString(f, yaml);
    try {
      EvolveSpec.read(f);
    } catch (RecipeException e) {
      return e;
    }
    throw new AssertionError("no problem found in:\n" + yaml);
  }

  @Test
  void readsAModelSpaceRecipeWithDefaults() throws IOException {
    Path f = dir.resolve("ok.yml");
    Files.writeString(f, "model: {init: random, mlp: [64, 8, 10]}\ntasks: [digits.yaml]\noptimizer: {method: m2n2}\nbudget: {evaluations: 10}\n");
    EvolveSpec s = EvolveSpec.read(f);
    assertThat(s.space()).isEqualTo("model");
    assertThat(s.name()).isEqualTo("ok");
    assertThat(s.optimizer().archiveSize()).isEqualTo(20);
    assertThat(s.optimizer().crossover()).isEqualTo("slerp_split");
    assertThat(s.optimizer().mutation().std()).isEqualTo(0.01); // from scratch: the reference mutates
    assertThat(s.tasks().get(0).name()).isEqualTo("digits");
    // the resolved form reads back as the same run
    Path again = dir.resolve("again.yml");
    Files.writeString(again, RunRecipe.write(s));
    assertThat(EvolveRun.sameRun(EvolveSpec.read(again), s)).isTrue();
    assertThat(RunRecipe.write(EvolveSpec.read(again))).isEqualTo(RunRecipe.write(s));
  }

  @Test
  void aClusterIsReadWrittenBackAndNotPartOfTheRunsIdentity() throws IOException {
    String base = "model: {init: random, mlp: [64, 8, 10]}\ntasks: [digits.yaml]\noptimizer: {method: m2n2}\nbudget: {evaluations: 10}\n";
    Path f = dir.resolve("c.yml");
    Files.writeString(f, base + "cluster: spark://10.0.0.1:7077\n");
    EvolveSpec s = EvolveSpec.read(f);
    assertThat(s.cluster()).isEqualTo(new ClusterEvaluation.Cluster("spark://10.0.0.1:7077", java.util.Map.of()));
    Files.writeString(f, base + "cluster: {master: 'local[2]', conf: {spark.executor.memory: 4g, spark.task.maxFailures: 2}}\n");
    s = EvolveSpec.read(f);
    assertThat(s.cluster().master()).isEqualTo("local[2]");
    assertThat(s.cluster().conf()).containsEntry("spark.executor.memory", "4g").containsEntry("spark.task.maxFailures", "2");
    Path again = dir.resolve("again.yml");
    Files.writeString(again, RunRecipe.write(s));
    assertThat(EvolveSpec.read(again).cluster()).isEqualTo(s.cluster());
    assertThat(EvolveRun.sameRun(s, s.withCluster(null))).isTrue(); // a run may be resumed elsewhere
    RecipeException e = problems(base + "cluster: {master: 'my cluster', cores: 4}\n");
    assertThat(e.getMessage()).contains("evolve.yml:5:", "'my cluster' is not a cluster address", "spark://HOST:PORT", "unknown key 'cores'");
  }

  @Test
  void everyProblemAtOnceWithLinesAndHints() throws IOException {
    RecipeException e = problems("""
        model: {init: random, mlp: [64, 8, 10]}
        tasks: [digits.yaml, missing.yaml]
        optimizer: {method: m2n2, archive_sise: 20, sigma: 0.3}
        budgit: {evaluations: 10}
        """);
    String m = e.getMessage();
    assertThat(m).contains("evolve.yml:2:", "missing.yaml' not found");
    assertThat(m).contains("evolve.yml:3:", "archive_sise", "Did you mean 'archive_size'?");
    assertThat(m).contains("'sigma' is not a setting of m2n2");
    assertThat(m).contains("evolve.yml:4:", "unknown key 'budgit'", "Did you mean 'budget'?");
    assertThat(m).contains("missing budget");
    assertThat(e.problems()).hasSizeGreaterThanOrEqualTo(5);
  }

  @Test
  void spaceAndOptimizerMustFit() throws IOException {
    assertThat(problems("model: {init: random, mlp: [64, 10]}\ntasks: [digits.yaml]\noptimizer: {method: random}\nbudget: {evaluations: 5}\n")
        .getMessage()).contains("random searches gene vectors: use it with space: recipe");
    assertThat(problems("model: {init: random, mlp: [64, 10]}\ntasks: [digits.yaml]\noptimizer: {method: map_elites, descriptors: [digits, odd]}\n"
        + "budget: {evaluations: 5}\n").getMessage()).contains("descriptor 'odd' is not one of the tasks", "weight: 0");
    assertThat(problems("model: {init: random, mlp: [64, 10]}\ntasks: [digits.yaml]\noptimizer: {method: m2n2, crossover: tise}\n"
        + "budget: {evaluations: 5}\n").getMessage()).contains("'tise' is not a crossover of model space", "Did you mean 'ties'?");
    assertThat(problems("model: {init: random}\ntasks: [{path: digits.yaml, weight: 0}]\noptimizer: {method: m2n2}\nbudget: {evaluations: 5}\n")
        .getMessage()).contains("needs the architecture", "every task has weight 0");
  }

  @Test
  void recipeSpaceChecksTheMergeRecipeAndTheGenome() throws IOException {
    Files.writeString(dir.resolve("merge.yml"), "merge_method: ties\nbase_model: base\nmodels:\n  - {model: a, parameters: {weight: 1}}\n");
    String m = problems("""
        merge: merge.yml
        genome: {parameters: [weight, densty], bounds: {weight: [0, 200], epsilon: [0, 1]}}
        tasks: [digits.yaml]
        optimizer: {method: cmaes}
        budget: {evaluations: 5}
        """).getMessage();
    assertThat(m).contains("'densty' is not an evolvable parameter of ties", "Did you mean 'density'?");
    assertThat(m).contains("bounds [0.0, 200.0] must be an interval inside [-100, 100]");
    assertThat(m).contains("'epsilon' is not an evolvable parameter of ties");
    Files.writeString(dir.resolve("slices.yml"), "merge_method: linear\nslices:\n  - sources:\n      - {model: a, layer_range: [0, 2]}\n");
    assertThat(problems("merge: slices.yml\ntasks: [digits.yaml]\noptimizer: {method: cmaes}\nbudget: {evaluations: 5}\n").getMessage())
        .contains("uses 'slices:'; recipe space needs the 'models:' form");
  }

  @Test
  void cmaesOnRawWeightsNeedsTheDiagonalVariantBeyondAFewThousandGenes() throws IOException {
    Path f = dir.resolve("c.yml");
    Files.writeString(f, "model: {init: random, mlp: [64, 64, 10], count: 1}\ntasks: [digits.yaml]\noptimizer: {method: cmaes}\nbudget: {evaluations: 5}\n");
    assertThatThrownBy(() -> EvolveRun.prepare(EvolveSpec.read(f), dev.graft.tensor.Device.CPU)).hasMessageContaining("diagonal: true");
    Files.writeString(f, "model: {init: random, mlp: [64, 64, 10], count: 1}\ntasks: [digits.yaml]\noptimizer: {method: cmaes, diagonal: true, sigma: 0.01, popsize: 8}\n"
        + "budget: {evaluations: 24}\n");
    try (EvolveRun.Prepared p = EvolveRun.prepare(EvolveSpec.read(f), dev.graft.tensor.Device.CPU)) {
      EvolveRun.Summary s = EvolveRun.run(p, new EvolveRun.Options(dir.resolve("run"), false, false, dev.graft.tensor.Device.CPU, null));
      assertThat(s.outcome().evaluations()).isEqualTo(24);
      assertThat(s.outcome().best().genome()).isInstanceOf(Genome.Flat.class);
    }
  }

  @Test
  void m2n2NeedsPerExampleScores() throws IOException {
    Path f = dir.resolve("m.yml");
    Files.writeString(f, "model: {init: random, mlp: [64, 10]}\ntasks: [ppl.yaml]\noptimizer: {method: m2n2}\nbudget: {evaluations: 5}\n");
    EvolveSpec s = EvolveSpec.read(f);
    assertThatThrownBy(() -> EvolveRun.prepare(s, dev.graft.tensor.Device.CPU))
        .hasMessageContaining("m2n2 treats examples as resources").hasMessageContaining("ppl (perplexity)");
  }
}
