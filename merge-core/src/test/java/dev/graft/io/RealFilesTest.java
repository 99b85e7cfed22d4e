package dev.graft.io;

import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import dev.graft.tensor.DType;
import dev.graft.tensor.Shape;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import org.junit.jupiter.api.Test;

/** Reads files written by the official Python library and by burn (../shared/data/safetensors-real). */
class RealFilesTest {
  static Path shared() {
    String p = System.getProperty("graft.shared", "../shared");
    return Path.of(p).toAbsolutePath().normalize();
  }

  static Path sample(String rel) {
    Path p = shared().resolve("data/safetensors-real").resolve(rel);
    assumeTrue(Files.isRegularFile(p), "../shared/data/safetensors-real not present: " + p);
    return p;
  }

  @Test
  void officialSamplesHoldMinusThreeToTwoInEveryType() {
    Map<String, DType> files =
        Map.of("B", DType.U8, "H", DType.U16, "I", DType.U32, "b", DType.I8, "h", DType.I16, "i", DType.I32,
            "e", DType.F16, "f", DType.F32, "d", DType.F64);
    for (var e : files.entrySet()) {
      try (SafetensorsFile f = SafetensorsFile.open(sample("hf-safetensors-pr84-samples/" + e.getKey() + ".safetensors"))) {
        TensorInfo ti = f.info(e.getKey());
        assertThat(ti.dtype()).isEqualTo(e.getValue());
        assertThat(ti.shape()).isEqualTo(Shape.of(6));
        assertThat(f.header().metadata()).containsExactly(Map.entry("test", "a"));
        assertThat(f.header().headerLength() % 8).as("unpadded header").isNotZero();
        float[] v = f.readFloats(e.getKey());
        boolean unsigned = e.getValue().tag().startsWith("U");
        float[] expected =
            unsigned
                ? new float[] {(float) max(e.getValue()) - 2, (float) max(e.getValue()) - 1, (float) max(e.getValue()), 0, 1, 2}
                : new float[] {-3, -2, -1, 0, 1, 2};
        assertThat(v).as(e.getKey()).containsExactly(expected);
      }
    }
  }

  private static double max(DType d) {
    return switch (d) {
      case U8 -> 255;
      case U16 -> 65535;
      default -> 4294967295.0;
    };
  }

  @Test
  void officialOverallSampleHoldsAllTypesInOneFile() {
    try (Checkpoint cp = Checkpoint.open(sample("hf-safetensors-pr84-samples/overall.safetensors"))) {
      assertThat(cp.tensors()).hasSize(9);
      assertThat(cp.readFloats("d")).containsExactly(-3, -2, -1, 0, 1, 2);
      assertThat(cp.readFloats("e")).containsExactly(-3, -2, -1, 0, 1, 2);
      assertThat(cp.readFloats("b")).containsExactly(-3, -2, -1, 0, 1, 2);
      assertThat(cp.metadata()).containsEntry("test", "a");
    }
  }

  @Test
  void burnTorchFileHasConvLayersAndAZeroDimCounter() {
    try (Checkpoint cp = Checkpoint.open(sample("burn-multi-layer/multi_layer.safetensors"))) {
      assertThat(cp.tensors()).hasSize(9);
      TensorInfo conv = cp.info("conv1.weight");
      assertThat(conv.shape()).isEqualTo(Shape.of(4, 3, 3, 3));
      TensorInfo counter = cp.info("norm1.num_batches_tracked");
      assertThat(counter.dtype()).isEqualTo(DType.I64);
      assertThat(counter.shape().rank()).isZero();
      // a torch BatchNorm after one training step (momentum 0.1): counter 1, affine at init, running stats moved
      assertThat(cp.readFloats("norm1.num_batches_tracked")).containsExactly(1f);
      assertThat(cp.readFloats("norm1.weight")).containsOnly(1f);
      assertThat(cp.readFloats("norm1.bias")).containsOnly(0f);
      for (float v : cp.readFloats("norm1.running_var")) {
        assertThat(v).isBetween(0.9f, 1.0f);
      }
      // values read independently from the raw bytes with Python's struct module
      assertThat(cp.readFloats("conv1.bias")[0]).isEqualTo(0.13191646337509155f);
      assertThat(cp.readFloats("fc1.weight")[1]).isEqualTo(-0.041473813354969025f);
      // torch's kaiming-uniform init: |w| <= 1/sqrt(fan_in)
      for (float w : cp.readFloats("conv1.weight")) {
        assertThat(Math.abs(w)).isLessThanOrEqualTo((float) (1 / Math.sqrt(27)));
      }
      for (float w : cp.readFloats("fc1.weight")) {
        assertThat(Math.abs(w)).isLessThanOrEqualTo(1 / 16f);
      }
      assertThat(cp.parameterCount()).isEqualTo(1 + 4 + 108 + 16 + 4096 + 4 + 4 + 4 + 4);
    }
  }
}
