package dev.graft.plan;

import static org.assertj.core.api.Assertions.assertThat;

import dev.graft.io.Checkpoint;
import dev.graft.io.SafetensorsWriter;
import dev.graft.op.Operators;
import dev.graft.recipe.Recipe;
import dev.graft.recipe.RecipeReader;
import dev.graft.tensor.Backends;
import dev.graft.tensor.DType;
import dev.graft.tensor.Device;
import dev.graft.tensor.spi.Backend;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

/** Every recipe in recipes/ validates and merges on a small synthetic family. */
class RecipesTest {
  static final Path RECIPES = Path.of("..", "recipes");
  @TempDir static Path work;

  @BeforeAll
  static void family() throws IOException {
    MergeFixtures.family(work.resolve("family"), MergeFixtures.spec(DType.BF16, false, 3, 300, 32));
    // Stand-in diagonal Fishers for the fisher recipe: squared task vectors plus a constant.
    try (Checkpoint base = Checkpoint.open(work.resolve("family/base"))) {
      for (int m = 1; m <= 2; m++) {
        try (Checkpoint ft = Checkpoint.open(work.resolve("family/ft-" + m))) {
          List<SafetensorsWriter.Entry> es = new ArrayList<>();
          base.tensors().values().forEach(ti -> es.add(new SafetensorsWriter.Entry(ti.name(), DType.F32, ti.shape())));
          try (SafetensorsWriter w = SafetensorsWriter.createFile(work.resolve("family/ft-" + m + ".fisher.safetensors"), es, Map.of())) {
            for (var ti : base.tensors().values()) {
              float[] b = base.readFloats(ti.name());
              float[] f = ft.readFloats(ti.name());
              for (int i = 0; i < b.length; i++) {
                float d = f[i] - b[i];
                f[i] = d * d * 1e4f + 0.01f;
              }
              w.writeFloats(ti.name(), 0, f, 0, f.length);
            }
            w.finish();
          }
        }
      }
    }
  }

  static Stream<String> recipes() throws IOException {
    try (Stream<Path> s = Files.list(RECIPES)) {
      return s.map(p -> p.getFileName().toString()).filter(n -> n.endsWith(".yml")).sorted().toList().stream();
    }
  }

  @ParameterizedTest
  @MethodSource("recipes")
  void validatesAndMerges(String file) throws IOException {
    List<Recipe> rs = RecipeReader.read(RECIPES.resolve(file));
    List<MergePlan> plans = MergeRunner.prepare(rs, MergeFixtures.resolver(work), Operators.builtIn());
    MergePlan last = plans.get(plans.size() - 1);
    Path out = work.resolve("out-" + file);
    try (Backend be = Backends.create("djl", Device.CPU)) {
      MergeRunner.run(plans, rs, out, new MergeExecutor.Options(be, 1, 100_000, 2, 1L << 30), (i, n, p) -> dev.graft.io.Progress.NONE);
    }
    try (Checkpoint cp = Checkpoint.open(out)) {
      assertThat(cp.tensors()).hasSize(last.tasks().size());
      assertThat(cp.tensors().values()).allSatisfy(ti -> assertThat(ti.dtype()).isEqualTo(DType.BF16));
      for (String name : cp.tensors().keySet()) {
        float[] v = cp.readFloats(name);
        for (float x : v) {
          assertThat(Float.isFinite(x)).as(name).isTrue();
        }
      }
      assertThat(cp.config()).isPresent();
      int layers = file.equals("passthrough.yml") ? 6 : 4;
      assertThat(cp.config().get().integer("num_hidden_layers")).hasValue(layers);
      assertThat(cp.config().get().text("torch_dtype")).contains("bfloat16");
    }
    assertThat(out.resolve("tokenizer.json")).exists();
    assertThat(RecipeReader.read(out.resolve(MergeRunner.RECIPE_FILE))).isEqualTo(rs);
    // The reference backend (the default on CPU: fused kernels, inputs without a copy, a pool of arrays) writes the
    // same bytes as DJL's tensor-layer formulation.
    Path ref = work.resolve("ref-" + file);
    MergeRunner.run(plans, rs, ref, new MergeExecutor.Options(dev.graft.backend.reference.ReferenceBackend.INSTANCE, 1, 100_000, 2, 1L << 30),
        (i, n, p) -> dev.graft.io.Progress.NONE);
    try (Checkpoint a = Checkpoint.open(out); Checkpoint b = Checkpoint.open(ref)) {
      for (String name : a.tensors().keySet()) {
        assertThat(b.readFloats(name)).as(file + " " + name).containsExactly(a.readFloats(name));
      }
    }
    assertThat(Files.readString(out.resolve("README.md"))).startsWith("---\nbase_model:").contains("library_name: transformers");
    try (Stream<Path> s = Files.list(work)) {
      assertThat(s.map(p -> p.getFileName().toString()).filter(n -> n.contains(".graft-"))).isEmpty();
    }
  }
}
