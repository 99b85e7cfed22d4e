package dev.graft.evolve;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;

class CmaEsTest {
  static double sphere(double[] x, double[] c) {
    double s = 0;
    for (int i = 0; i < x.length; i++) {
      s += (x[i] - c[i]) * (x[i] - c[i]);
    }
    return s;
  }

  /** A random rotation (Gram-Schmidt of a Gaussian matrix). */
  static double[][] rotation(int n, long seed) {
    SplittableRandom r = new SplittableRandom(seed);
    double[][] q = new double[n][n];
    for (int i = 0; i < n; i++) {
      for (int j = 0; j < n; j++) {
        q[i][j] = r.nextGaussian();
      }
      for (int k = 0; k < i; k++) {
        double d = 0;
        for (int j = 0; j < n; j++) {
          d += q[i][j] * q[k][j];
        }
        for (int j = 0; j < n; j++) {
          q[i][j] -= d * q[k][j];
        }
      }
      double norm = Math.sqrt(sphere(q[i], new double[n]));
      for (int j = 0; j < n; j++) {
        q[i][j] /= norm;
      }
    }
    return q;
  }

  @Test
  void shiftedSphereConvergesToItsCentre() {
    int n = 10;
    double[] c = new double[n];
    for (int i = 0; i < n; i++) {
      c[i] = 1.5 - 0.3 * i;
    }
    CmaEs es = new CmaEs(new CmaEs.Options(0.5, 0, false, 0), new double[n], null);
    double best = Toys.run(es, x -> -sphere(x, c), 4000, 7);
    assertThat(-best).isLessThan(1e-10);
    assertThat(sphere(es.mean(), c)).isLessThan(1e-8);
  }

  @Test
  void rotatedEllipsoidNeedsAndGetsTheFullCovariance() {
    int n = 8;
    double[][] rot = rotation(n, 3);
    java.util.function.ToDoubleFunction<double[]> ellipsoid = x -> {
      double s = 0;
      for (int i = 0; i < n; i++) {
        double y = 0;
        for (int j = 0; j < n; j++) {
          y += rot[i][j] * (x[j] - 1);
        }
        s += Math.pow(1e6, i / (n - 1.0)) * y * y;
      }
      return -s;
    };
    double[] x0 = new double[n];
    CmaEs full = new CmaEs(new CmaEs.Options(0.5, 0, false, 0), x0, null);
    double bestFull = Toys.run(full, ellipsoid, 8000, 11);
    assertThat(-bestFull).isLessThan(1e-8);
    // control: the separable variant cannot learn the rotation within the same budget
    CmaEs sep = new CmaEs(new CmaEs.Options(0.5, 0, true, 0), x0, null);
    double bestSep = Toys.run(sep, ellipsoid, 8000, 11);
    assertThat(-bestSep).isGreaterThan(-bestFull * 100);
  }

  @Test
  void diagonalVariantSolvesASeparableEllipsoidInManyDimensions() {
    int n = 200;
    java.util.function.ToDoubleFunction<double[]> f = x -> {
      double s = 0;
      for (int i = 0; i < n; i++) {
        s += Math.pow(1e3, i / (n - 1.0)) * (x[i] - 0.5) * (x[i] - 0.5);
      }
      return -s;
    };
    CmaEs sep = new CmaEs(new CmaEs.Options(0.3, 0, true, 0), new double[n], null);
    double start = f.applyAsDouble(new double[n]);
    double best = Toys.run(sep, f, 30000, 5);
    assertThat(-best).isLessThan(-start * 1e-6);
  }

  @Test
  void boundedSearchStaysInsideAndFindsAnOptimumOnTheBoundary() {
    int n = 4;
    Bounds b = Bounds.uniform(n, 0, 1);
    double[] c = {1.4, 0.3, -0.5, 0.8}; // two coordinates of the optimum lie outside the box
    CmaEs es = new CmaEs(new CmaEs.Options(1.0 / 6, 0, false, 0), new double[] {0.5, 0.5, 0.5, 0.5}, b);
    long id = 0;
    for (long step = 0; step < 150; step++) {
      List<Proposal> ps = es.ask(new SplittableRandom(step));
      List<Evaluated> out = new ArrayList<>();
      for (Proposal p : ps) {
        double[] x = ((Genome.Genes) p.genome()).values();
        for (double v : x) {
          assertThat(v).isBetween(0.0, 1.0);
        }
        out.add(Toys.ev(id++, x, -sphere(x, c)));
      }
      es.tell(out);
    }
    double[] m = es.mean();
    assertThat(m[0]).isCloseTo(1.0, org.assertj.core.data.Offset.offset(1e-3));
    assertThat(m[1]).isCloseTo(0.3, org.assertj.core.data.Offset.offset(1e-3));
    assertThat(m[2]).isCloseTo(0.0, org.assertj.core.data.Offset.offset(1e-3));
    assertThat(m[3]).isCloseTo(0.8, org.assertj.core.data.Offset.offset(1e-3));
  }

  @Test
  void sameSeedSameSearchAndStateRoundTrips() {
    int n = 5;
    double[] c = {0.1, 0.2, 0.3, 0.4, 0.5};
    CmaEs a = new CmaEs(new CmaEs.Options(0.3, 0, false, 0), new double[n], null);
    CmaEs b = new CmaEs(new CmaEs.Options(0.3, 0, false, 0), new double[n], null);
    assertThat(Toys.run(a, x -> -sphere(x, c), 300, 9)).isEqualTo(Toys.run(b, x -> -sphere(x, c), 300, 9));
    // a checkpoint restored into a fresh optimiser proposes exactly what the original proposes next
    GenomeStore store = new GenomeStore();
    var state = a.save(store);
    CmaEs c2 = new CmaEs(new CmaEs.Options(0.3, 0, false, 0), new double[n], null);
    c2.restore(state, store);
    List<Proposal> pa = a.ask(new SplittableRandom(99));
    List<Proposal> pc = c2.ask(new SplittableRandom(99));
    for (int i = 0; i < pa.size(); i++) {
      assertThat(pc.get(i).genome()).isEqualTo(pa.get(i).genome());
    }
  }

  @Test
  void restartsDoubleThePopulation() {
    CmaEs es = new CmaEs(new CmaEs.Options(0.3, 6, false, 1), new double[] {0.5, 0.5}, Bounds.uniform(2, 0, 1));
    Toys.run(es, x -> -sphere(x, new double[] {0.25, 0.75}), 6000, 1);
    assertThat(es.lambda()).isEqualTo(12);
  }
}
