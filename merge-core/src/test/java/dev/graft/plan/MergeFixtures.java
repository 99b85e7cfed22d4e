package dev.graft.plan;

import dev.graft.io.Progress;
import dev.graft.op.Operators;
import dev.graft.recipe.Recipe;
import dev.graft.recipe.RecipeReader;
import dev.graft.synth.SynthSpec;
import dev.graft.synth.SyntheticCheckpoints;
import dev.graft.tensor.Backends;
import dev.graft.tensor.DType;
import dev.graft.tensor.Device;
import dev.graft.tensor.spi.Backend;
import java.nio.file.Path;
import java.util.List;

/** Small synthetic families and a one-call merge for tests. */
final class MergeFixtures {
  private MergeFixtures() {}

  /** hidden 32, 4 layers, 4 heads (2 kv), intermediate 64. */
  static SynthSpec spec(DType dtype, boolean tie, int fineTunes, int vocab, int hidden) {
    return new SynthSpec(vocab, hidden, 4, 4, 2, 64, tie, dtype, 40_000, fineTunes, 2, 7);
  }

  static void family(Path dir, SynthSpec spec) {
    SyntheticCheckpoints.writeFamily(spec, dir, 2, Progress.NONE);
  }

  static ModelResolver resolver(Path work) {
    return new ModelResolver(work, null, work.resolve("hub"));
  }

  static MergeExecutor.Result merge(String yaml, Path work, Path out, String backend, long seed) {
    List<Recipe> rs = RecipeReader.parse(yaml, "test.yml");
    List<MergePlan> ps = MergeRunner.prepare(rs, resolver(work), Operators.builtIn());
    try (Backend be = Backends.create(backend, Device.CPU)) {
      return MergeRunner.run(ps, rs, out, new MergeExecutor.Options(be, seed, 50_000, 2, 1L << 30), (i, n, p) -> Progress.NONE);
    }
  }
}
