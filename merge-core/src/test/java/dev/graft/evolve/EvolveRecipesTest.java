package dev.graft.evolve;

import static org.assertj.core.api.Assertions.assertThat;

import dev.graft.eval.Task;
import dev.graft.io.Progress;
import dev.graft.model.Classifier;
import dev.graft.model.ClassifierConfig;
import dev.graft.synth.SynthSpec;
import dev.graft.synth.SyntheticCheckpoints;
import dev.graft.tensor.DType;
import dev.graft.tensor.Device;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.stream.Stream;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

/** Every evolve recipe in recipes/evolve validates and runs (a few evaluations) on models made here. */
class EvolveRecipesTest {
  static final Path RECIPES = Path.of("..", "recipes");
  static final Path SHARED_DIGITS = Path.of("..", "..", "shared", "data", "digits", "optdigits.tes");
  @TempDir static Path work;

  @BeforeAll
  static void setUp() throws IOException {
    copy(RECIPES, work.resolve("recipes"));
    // the ties recipe's family/ (resolved against the merge recipe's folder)
    SyntheticCheckpoints.writeFamily(new SynthSpec(300, 32, 4, 4, 2, 64, false, DType.BF16, 1L << 30, 3, 2, 7), work.resolve("recipes/family"), 2,
        Progress.NONE);
    // the specialists of m2n2-specialists.yml and ga-specialists.yml (resolved against the evolve recipe's folder)
    Path sp = work.resolve("recipes/evolve/specialists");
    Task few = Task.read(work.resolve("recipes/tasks/digits-few.yaml"));
    try (Classifier b = Classifier.init(ClassifierConfig.mlp(64, new int[] {16}, 10), 1, Device.CPU)) {
      b.train(((Task.Classification) few).fit(), new Classifier.TrainOptions(1, 32, 1e-3, 1), Progress.NONE);
      b.save(sp.resolve("base"));
    }
    for (String half : new String[] {"0-4", "5-9"}) {
      Task t = Task.read(work.resolve("recipes/tasks/digits-" + half + ".yaml"));
      try (Classifier s = Classifier.load(sp.resolve("base"), Device.CPU)) {
        s.train(((Task.Classification) t).fit().limit(200), new Classifier.TrainOptions(1, 32, 1e-3, 2), Progress.NONE);
        s.save(sp.resolve("digits-" + half));
      }
    }
    if (Files.exists(SHARED_DIGITS)) { // the UCI task names ../shared relative to the repository
      Path task = work.resolve("recipes/tasks/uci-digits-m2n2.yaml");
      Files.writeString(task, Files.readString(task).replace("../../../shared/data/digits/optdigits.tes", SHARED_DIGITS.toAbsolutePath().normalize().toString()));
    }
  }

  static void copy(Path from, Path to) throws IOException {
    try (Stream<Path> s = Files.walk(from)) {
      for (Path p : s.toList()) {
        Path t = to.resolve(from.relativize(p).toString());
        if (Files.isDirectory(p)) {
          Files.createDirectories(t);
        } else {
          Files.copy(p, t);
        }
      }
    }
  }

  static Stream<String> recipes() throws IOException {
    try (Stream<Path> s = Files.list(RECIPES.resolve("evolve"))) {
      return s.map(p -> p.getFileName().toString()).filter(n -> n.endsWith(".yml")).sorted().toList().stream();
    }
  }

  @ParameterizedTest
  @MethodSource("recipes")
  void validatesAndRuns(String file) throws IOException {
    if (Files.readString(RECIPES.resolve("evolve").resolve(file)).contains("uci-digits-m2n2.yaml")) {
      Assumptions.assumeTrue(Files.exists(SHARED_DIGITS), "../shared/data/digits is absent");
    }
    EvolveSpec spec = EvolveSpec.read(work.resolve("recipes/evolve").resolve(file));
    long budget = switch (spec.optimizer().method()) {
      case "cmaes" -> 28;
      case "ga" -> 31;
      case "map_elites" -> 60;
      default -> 40;
    };
    Path out = work.resolve("runs").resolve(file);
    spec = spec.withCluster(null); // threads of this JVM: merge-spark runs its recipes on Spark
    try (EvolveRun.Prepared p = EvolveRun.prepare(spec.with(null, budget, null, 2), Device.CPU)) {
      EvolveRun.Summary s = EvolveRun.run(p, new EvolveRun.Options(out, false, false, Device.CPU, null));
      assertThat(s.outcome().evaluations()).isBetween(1L, budget);
      assertThat(s.outcome().best()).isNotNull();
      assertThat(s.outcome().heldOut()).isNotNull();
    }
    for (String f : new String[] {"run.yml", "evaluations.jsonl", "generations.jsonl", "checkpoint.safetensors", "report.md", "fitness.png",
        "summary.json"}) {
      assertThat(out.resolve(f)).exists();
    }
    assertThat(out.resolve("best-model/config.json")).exists();
    if (spec.space().equals("recipe")) {
      assertThat(out.resolve("best.yml")).exists();
      assertThat(dev.graft.recipe.RecipeReader.read(out.resolve("best.yml"))).hasSize(1);
    }
    if (spec.optimizer().method().equals("map_elites")) {
      assertThat(out.resolve("map.png")).exists();
    }
    // the resolved recipe reads back as the same run
    assertThat(EvolveRun.sameRun(EvolveRun.recipeOf(out), spec)).isTrue();
  }
}
