package dev.graft.evolve;

import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.graft.eval.EvalModel;
import dev.graft.io.AtomicFiles;
import dev.graft.op.Operators;
import dev.graft.plan.MergeExecutor;
import dev.graft.plan.MergePlan;
import dev.graft.plan.MergeRunner;
import dev.graft.plan.ModelResolver;
import dev.graft.recipe.Recipe;
import dev.graft.recipe.RecipeWriter;
import dev.graft.tensor.Backends;
import dev.graft.tensor.Device;
import dev.graft.tensor.spi.Backend;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;

/**
 * Recipe space as a search: each genome decodes into a recipe, the recipe is merged in memory (nothing written;
 * tensors rounded to its {@code out_dtype}, so the scores are those of the model {@code graft merge} would write with
 * the run's seed), and the merge is scored.
 */
public final class RecipeSearch implements SearchSpace {
  private final RecipeSpace space;
  private final TaskSet tasks;
  private final ModelResolver resolver;
  private final String backend;
  private final Device device;
  private final long seed;

  /**
   * @param backend backend of the merges ({@code auto}, {@code reference}, {@code djl}, {@code nd4j})
   * @param seed seed of the merges' random operators (the run seed: {@code graft merge --seed} reproduces a candidate)
   */
  public RecipeSearch(RecipeSpace space, TaskSet tasks, ModelResolver resolver, String backend, Device device, long seed) {
    this.space = space;
    this.tasks = tasks;
    this.resolver = resolver;
    this.backend = backend;
    this.device = device;
    this.seed = seed;
  }

  public RecipeSpace space() {
    return space;
  }

  @Override
  public String kind() {
    return "recipe";
  }

  @Override
  public List<Genome> seeds() {
    return List.of(space.start());
  }

  @Override
  public Genome start() {
    return space.start();
  }

  @Override
  public Bounds bounds() {
    return space.bounds();
  }

  @Override
  public Generator generator() {
    Bounds b = space.bounds();
    return (rng, origin) -> {
      origin.put("init", "uniform");
      return new Genome.Genes(b.sample(rng));
    };
  }

  @Override
  public Crossover crossover(String name, Map<String, Object> parameters) {
    return switch (name) {
      case "slerp_split" -> new SlerpCrossover(true, space.bounds());
      case "slerp" -> new SlerpCrossover(false, space.bounds());
      case "blend" -> new BlendCrossover(parameters.containsKey("alpha") ? ((Number) parameters.get("alpha")).doubleValue() : 0.5, space.bounds());
      default -> throw new IllegalArgumentException("recipe space crosses gene vectors: slerp_split, slerp or blend, not '" + name + "'");
    };
  }

  /** The recipe of a genome. */
  public Recipe recipe(Genome g) {
    return space.decode((Genome.Genes) g);
  }

  /** Merges a genome's recipe in memory. */
  MergeRunner.Merged merge(Genome g, Backend be) {
    List<MergePlan> plans = MergeRunner.prepare(List.of(recipe(g)), resolver, Operators.builtIn());
    MergeExecutor.Options o = new MergeExecutor.Options(be, seed, Long.MAX_VALUE, 1, Runtime.getRuntime().maxMemory() / 4);
    return MergeRunner.runInMemory(plans, o, (i, n, p) -> dev.graft.io.Progress.NONE);
  }

  @Override
  public CandidateEvaluator newEvaluator() {
    return new Evaluator();
  }

  /** One worker's evaluator: its own backend, and a classifier kept between candidates (weights replaced in place). */
  private final class Evaluator extends ModelScorer {
    private final Backend be = Backends.create(backend, device);
    private MergeRunner.Merged merged; // of the genome weights() last merged

    Evaluator() {
      super(tasks.fitness());
    }

    @Override
    dev.graft.model.Weights weights(Genome genome) {
      merged = merge(genome, be);
      return dev.graft.model.Weights.of("merge", merged.tensors(), merged.shapes());
    }

    @Override
    EvalModel build(Genome genome, dev.graft.model.Weights weights) {
      return EvalModel.of(merged, device);
    }

    @Override
    public void close() {
      super.close();
      be.close();
    }
  }

  @Override
  public Evolution.HeldOut heldOut() {
    return new Evaluator().heldOut(tasks);
  }

  @Override
  public ObjectNode describe(Genome genome) {
    return space.describe(genome);
  }

  @Override
  public void saveModel(Genome genome, Path dir) {
    List<Recipe> stages = List.of(recipe(genome));
    List<MergePlan> plans = MergeRunner.prepare(stages, resolver, Operators.builtIn());
    try (Backend be = Backends.create(backend, device)) {
      MergeExecutor.Options o = new MergeExecutor.Options(be, seed, 5_000_000_000L, Math.max(1, Runtime.getRuntime().availableProcessors()),
          Runtime.getRuntime().maxMemory() / 2);
      MergeRunner.run(plans, stages, dir, o, (i, n, p) -> dev.graft.io.Progress.NONE);
    }
  }

  /** Writes a genome's recipe as mergekit YAML (atomically). */
  public void saveRecipe(Genome genome, Path file) {
    AtomicFiles.writeString(file, RecipeWriter.write(recipe(genome)));
  }
}
