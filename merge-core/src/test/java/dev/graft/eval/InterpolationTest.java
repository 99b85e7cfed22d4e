package dev.graft.eval;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.data.Offset.offset;

import dev.graft.InvalidInputException;
import dev.graft.io.Progress;
import dev.graft.model.Classifier;
import dev.graft.model.ClassifierConfig;
import dev.graft.tensor.Device;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class InterpolationTest {
  @TempDir Path dir;

  private static Interpolation.Point point(double alpha, double loss, double acc) {
    Score s = new Score("t", "fit", "accuracy", acc, true, 10, Map.of("loss", loss, "accuracy", acc));
    return new Interpolation.Point(alpha, new Evaluator.Report(s, s));
  }

  @Test
  void barriersAreTheLargestGapToTheStraightLine() {
    // loss 1 -> 3 -> 2: the line at 0.5 is 1.5, so the loss barrier is 1.5; accuracy 0.9 -> 0.5 -> 0.7: line 0.8, barrier 0.3
    Map<String, Double> b = Interpolation.barriers(List.of(point(0, 1, 0.9), point(0.5, 3, 0.5), point(1, 2, 0.7)));
    assertThat(b.get("fit/loss")).isCloseTo(1.5, offset(1e-12));
    assertThat(b.get("fit/accuracy")).isCloseTo(0.3, offset(1e-12));
    // a path below the line has no barrier
    assertThat(Interpolation.barriers(List.of(point(0, 1, 0.5), point(0.5, 0.2, 0.9), point(1, 1, 0.5))).get("held-out/loss")).isZero();
  }

  @Test
  void independentlyTrainedNetworksHaveABarrierAndAModelWithItselfHasNone() throws IOException {
    Path t = dir.resolve("t.yaml");
    Files.writeString(t, "kind: classification\ndata: {source: procedural, size: 8, count: 1500, seed: 1}\nsplit: {fit: 0.8, seed: 2}\n");
    Task.Classification task = (Task.Classification) Task.read(t);
    for (int seed = 1; seed <= 2; seed++) {
      try (Classifier c = Classifier.init(ClassifierConfig.mlp(64, new int[] {32}, 10), seed * 101L, Device.CPU)) {
        c.train(task.fit(), new Classifier.TrainOptions(10, 32, 3e-3, seed), Progress.NONE);
        c.save(dir.resolve("m" + seed));
      }
    }
    Interpolation.Result self = Interpolation.run(dir.resolve("m1"), dir.resolve("m1"), task, 5, Device.CPU, Progress.NONE);
    assertThat(self.barriers().get("fit/loss")).isLessThan(1e-6);
    Interpolation.Result two = Interpolation.run(dir.resolve("m1"), dir.resolve("m2"), task, 9, Device.CPU, Progress.NONE);
    assertThat(two.points()).hasSize(9);
    assertThat(two.points().get(0).report().fit().value()).isGreaterThan(0.85);
    // hidden units of independently initialised networks are not aligned: averaging them hurts (Git Re-Basin)
    assertThat(two.barriers().get("fit/loss")).isGreaterThan(0.1);
    Files.writeString(dir.resolve("t2.yaml"), "kind: classification\ndata: {source: procedural, size: 8, count: 50}\n");
    try (Classifier other = Classifier.init(ClassifierConfig.mlp(64, new int[] {16}, 10), 1, Device.CPU)) {
      other.save(dir.resolve("small"));
    }
    assertThatThrownBy(() -> Interpolation.run(dir.resolve("m1"), dir.resolve("small"), task, 3, Device.CPU, Progress.NONE))
        .isInstanceOf(InvalidInputException.class).hasMessageContaining("fc1.weight has shape [32, 64]");
  }
}
