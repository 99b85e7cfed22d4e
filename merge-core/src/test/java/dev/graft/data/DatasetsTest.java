package dev.graft.data;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import dev.graft.InvalidInputException;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class DatasetsTest {
  static final Path SHARED = Path.of(System.getProperty("graft.shared", "../shared"), "data").toAbsolutePath().normalize();

  @TempDir Path dir;

  @Test
  void proceduralDigitsAreDeterministicPerExampleAndLookLikeTheirDatasets() {
    Dataset a = ProceduralDigits.generate(8, 50, 3);
    Dataset b = ProceduralDigits.generate(8, 20, 3);
    assertThat(Arrays.copyOf(a.features(), 20 * 64)).isEqualTo(b.features());
    assertThat(Arrays.copyOf(a.labels(), 20)).isEqualTo(b.labels());
    assertThat(ProceduralDigits.generate(8, 20, 4).features()).isNotEqualTo(b.features());
    // optdigits-like: counts of 16 per block, so multiples of 1/16 in [0, 1], with real ink
    for (float v : a.features()) {
      assertThat(v * 16).isEqualTo(Math.round(v * 16));
      assertThat(v).isBetween(0f, 1f);
    }
    Dataset m = ProceduralDigits.generate(28, 200, 1);
    assertThat(m.exampleShape()).containsExactly(1, 28, 28);
    double ink = 0;
    for (float v : m.features()) {
      ink += v;
    }
    assertThat(ink / m.features().length).isBetween(0.05, 0.3); // MNIST's mean is 0.13
    int[] counts = new int[10];
    for (int l : m.labels()) {
      counts[l]++;
    }
    assertThat(Arrays.stream(counts).min().orElseThrow()).isGreaterThan(5);
  }

  @Test
  void splitsArePartitionsAndSeeded() {
    Dataset d = ProceduralDigits.generate(8, 101, 2);
    Dataset[] s = d.split(0.8, 9);
    assertThat(s[0].size()).isEqualTo(80);
    assertThat(s[1].size()).isEqualTo(21);
    assertThat(d.split(0.8, 9)[1].features()).isEqualTo(s[1].features());
    assertThat(d.split(0.8, 10)[1].features()).isNotEqualTo(s[1].features());
  }

  @Test
  void csvErrorsNameFileLineAndColumn() throws IOException {
    Path f = dir.resolve("d.csv");
    Files.writeString(f, "1,2,0\n3,4,1\n5,x,1\n");
    assertThatThrownBy(() -> Datasets.csv(f, -1, 1, 2, false)).isInstanceOf(InvalidInputException.class)
        .hasMessageContaining("d.csv:3: column 2 is 'x', not a number");
    Files.writeString(f, "1,2,0\n3,4\n");
    assertThatThrownBy(() -> Datasets.csv(f, -1, 1, 2, false)).hasMessageContaining("d.csv:2: expected 3");
    Files.writeString(f, "1,2,7\n");
    assertThatThrownBy(() -> Datasets.csv(f, -1, 1, 2, false)).hasMessageContaining("d.csv:1: label 7 is outside [0, 2)");
    Files.writeString(f, "a,b,label\n1,2,1\n");
    assertThat(Datasets.csv(f, 2, 2, 2, true).features()).containsExactly(0.5f, 1f);
  }

  @Test
  void readsUciOptdigitsAsShipped() {
    Path tes = SHARED.resolve("digits/optdigits.tes");
    assumeTrue(Files.isRegularFile(tes), "../shared/data is absent");
    Dataset d = Datasets.optdigits(tes);
    assertThat(d.size()).isEqualTo(1797);
    assertThat(d.exampleShape()).containsExactly(1, 8, 8);
    assertThat(d.labels()[0]).isEqualTo(0);
    assertThat(d.features()[2]).isEqualTo(5 / 16f);
    Dataset gz = Datasets.optdigits(SHARED.resolve("digits/digits.csv.gz"));
    assertThat(gz.features()).isEqualTo(d.features());
  }

  @Test
  void readsMnistIdx() {
    Path images = SHARED.resolve("mnist/t10k-images-idx3-ubyte.gz");
    assumeTrue(Files.isRegularFile(images), "../shared/data is absent");
    Dataset d = Datasets.idx(images, SHARED.resolve("mnist/t10k-labels-idx1-ubyte.gz"));
    assertThat(d.size()).isEqualTo(10_000);
    assertThat(d.exampleShape()).containsExactly(1, 28, 28);
    assertThat(d.labels()[0]).isEqualTo(7); // the first test digit is a 7
    assertThatThrownBy(() -> Datasets.idx(SHARED.resolve("mnist/t10k-labels-idx1-ubyte.gz"), images))
        .hasMessageContaining("not an IDX image file");
  }
}
