package dev.graft.data;

import java.util.Arrays;
import java.util.SplittableRandom;
import java.util.function.IntPredicate;

/**
 * A labelled classification dataset held in one flat float array: example {@code i} is
 * {@code features[i * featureCount() .. (i+1) * featureCount())}, shaped {@code exampleShape} (e.g. {@code [64]},
 * {@code [1, 8, 8]}, {@code [1, 28, 28]}).
 *
 * @param name where it came from, for reports
 * @param exampleShape shape of one example
 * @param features all examples, row-major
 * @param labels class of each example, in {@code [0, classes)}
 * @param classes number of classes
 */
public record Dataset(String name, int[] exampleShape, float[] features, int[] labels, int classes) {
  public Dataset {
    int f = 1;
    for (int d : exampleShape) {
      f *= d;
    }
    if (features.length != (long) f * labels.length) {
      throw new IllegalArgumentException(name + ": " + features.length + " feature values for " + labels.length + " examples of " + f);
    }
    for (int l : labels) {
      if (l < 0 || l >= classes) {
        throw new IllegalArgumentException(name + ": label " + l + " outside [0, " + classes + ")");
      }
    }
  }

  public int size() {
    return labels.length;
  }

  public int featureCount() {
    return labels.length == 0 ? Arrays.stream(exampleShape).reduce(1, (a, b) -> a * b) : features.length / labels.length;
  }

  /** The examples at {@code indices}, in that order. */
  public Dataset subset(int[] indices, String newName) {
    int f = featureCount();
    float[] x = new float[indices.length * f];
    int[] y = new int[indices.length];
    for (int i = 0; i < indices.length; i++) {
      System.arraycopy(features, indices[i] * f, x, i * f, f);
      y[i] = labels[indices[i]];
    }
    return new Dataset(newName, exampleShape, x, y, classes);
  }

  /** The examples whose label passes {@code keep}. */
  public Dataset withLabels(IntPredicate keep, String newName) {
    return subset(java.util.stream.IntStream.range(0, size()).filter(i -> keep.test(labels[i])).toArray(), newName);
  }

  /** The first {@code n} examples (all when fewer). */
  public Dataset limit(int n) {
    return n >= size() ? this : subset(java.util.stream.IntStream.range(0, n).toArray(), name + "[:" + n + "]");
  }

  /**
   * A seeded random split: {@code fitFraction} of the examples (rounded down) go to the first part, the rest to
   * the second. The two parts never share an example.
   */
  public Dataset[] split(double fitFraction, long seed) {
    return split(fitFraction, permutation(size(), seed));
  }

  /**
   * A split in file order: the first {@code fitFraction} of the examples (rounded down) go to the first part, the rest
   * to the second (the M2N2 reference splits scikit-learn's digits so).
   */
  public Dataset[] splitInOrder(double fitFraction) {
    return split(fitFraction, java.util.stream.IntStream.range(0, size()).toArray());
  }

  /** The first {@code fitFraction} of the examples in {@code order} (rounded down), then the rest. */
  private Dataset[] split(double fitFraction, int[] order) {
    if (!(fitFraction > 0 && fitFraction < 1)) {
      throw new IllegalArgumentException("split fraction must be in (0, 1), found " + fitFraction);
    }
    int k = (int) Math.floor(fitFraction * size());
    return new Dataset[] {
      subset(Arrays.copyOfRange(order, 0, k), name + "/fit"), subset(Arrays.copyOfRange(order, k, size()), name + "/held-out")
    };
  }

  /** A seeded Fisher-Yates permutation of {@code 0..n-1}. */
  public static int[] permutation(int n, long seed) {
    return dev.graft.internal.Shuffle.permutation(n, new SplittableRandom(seed));
  }
}
