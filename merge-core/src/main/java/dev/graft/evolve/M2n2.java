package dev.graft.evolve;

import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Optional;
import java.util.SplittableRandom;

/**
 * M2N2, model merging of natural niches (algorithms.md §2.5, after the reference code): an archive whose members
 * compete for examples as resources, attraction-based mate choice, crossover, and a child that replaces the archive's
 * worst member when it is not itself the worst.
 *
 * <ul>
 *   <li>Competition fitness: with {@code s[i][j]} in [0, 1] the score of member i on example j and
 *       {@code z[j] = (Σ_k s[k][j])^α} (0 replaced by 1), {@code f[i] = Σ_j s[i][j] / z[j]}.
 *   <li>Parent 1 is drawn with probability {@code f[i] / Σ f}; parent 2 with probability proportional to the
 *       attraction {@code g(p1, i) = Σ_j max(0, s[i][j]/z[j] - s[p1][j]/z[j])}. Guards the reference lacks: when every
 *       attraction is 0 (parent 1 dominates everybody) parent 2 is drawn by fitness among the other members (parent 1
 *       itself only when no other member has positive fitness); when every fitness is 0 the draw is uniform over the
 *       filled slots. Without attraction both parents are drawn by fitness, independently.
 *   <li>Archive update: the child's fitness is computed over archive + child; the first member with the smallest
 *       fitness (ties favour the child, empty slots are filled first) is replaced, unless that is the child.
 * </ul>
 *
 * <p>{@code batch} children are made from one archive state per step and inserted one after the other; batch 1 is
 * the reference's sequential loop.
 */
public final class M2n2 implements Optimizer {
  /**
   * Settings.
   *
   * @param archiveSize archive slots (the paper: 20)
   * @param alpha competition exponent (1 for M2N2, 0 turns fitness into a plain score sum)
   * @param attraction attraction-based choice of parent 2
   * @param crossover whether to cross (false: the child is parent 1, then mutated)
   * @param batch children made per step from one archive state
   */
  public record Options(int archiveSize, double alpha, boolean attraction, boolean crossover, int batch) {
    public Options {
      if (archiveSize < 2 || !(alpha >= 0) || batch < 1) {
        throw new IllegalArgumentException("m2n2 needs archive_size >= 2, alpha >= 0 and batch >= 1");
      }
    }
  }

  private final Options options;
  private final List<Genome> initial;
  private final Crossover crossover;
  private final Mutation mutation;
  private final Evaluated[] archive;
  private int inserted; // initial genomes told so far
  private double[] total; // per example: the summed scores of the archive (the resources' consumption)
  private double[][] fm; // the fitness matrix of the current archive, or null when it must be recomputed
  private String lastError;

  /**
   * @param initial genomes put into the archive first (e.g. two random models, or two pre-trained ones)
   * @param crossover how children are made
   * @param mutation applied to every child (none when starting from pre-trained models, as the reference)
   */
  public M2n2(Options options, List<Genome> initial, Crossover crossover, Mutation mutation) {
    if (initial.isEmpty() || initial.size() > options.archiveSize()) {
      throw new IllegalArgumentException("m2n2 starts from 1 to archive_size models, found " + initial.size());
    }
    this.options = options;
    this.initial = List.copyOf(initial);
    this.crossover = crossover;
    this.mutation = mutation;
    this.archive = new Evaluated[options.archiveSize()];
  }

  @Override
  public String method() {
    return "m2n2";
  }

  @Override
  public int generationSize() {
    return options.archiveSize();
  }

  @Override
  public int nextBatch() {
    return inserted < initial.size() ? initial.size() - inserted : options.batch();
  }

  @Override
  public List<Proposal> ask(SplittableRandom rng) {
    List<Proposal> out = new ArrayList<>();
    if (inserted < initial.size()) {
      for (int i = inserted; i < initial.size(); i++) {
        out.add(new Proposal(initial.get(i), States.origin("init").put("index", i)));
      }
      return out;
    }
    if (java.util.Arrays.stream(archive).allMatch(java.util.Objects::isNull)) {
      throw new dev.graft.InvalidInputException("m2n2: every initial model failed to evaluate, so the archive is empty"
          + (lastError == null ? "" : " (" + lastError + ")"));
    }
    double[][] fm = fitnessMatrix();
    double[] f = new double[archive.length];
    for (int i = 0; i < archive.length; i++) {
      f[i] = archive[i] == null ? 0 : sum(fm[i]);
    }
    for (int b = 0; b < options.batch(); b++) {
      int p1 = choose(f, rng, -1);
      java.util.function.Supplier<Evaluated> p2;
      if (options.attraction()) {
        p2 = () -> {
          double[] g = attraction(fm, p1);
          return archive[sum(g) > 0 ? draw(g, rng) : choose(f, rng, p1)];
        };
      } else {
        p2 = () -> archive[choose(f, rng, -1)];
      }
      out.add(Breeding.child(archive[p1], options.crossover(), p2, crossover, mutation, rng));
    }
    return out;
  }

  @Override
  public void tell(List<Evaluated> results) {
    for (Evaluated e : results) {
      if (inserted < initial.size()) {
        inserted++;
      }
      if (e.result().ok()) {
        insert(e);
      } else {
        lastError = e.result().error();
      }
    }
  }

  /** Puts {@code e} in place of the worst member unless it is the worst itself. */
  void insert(Evaluated e) {
    float[] s = scores(e);
    int n = s.length;
    if (total == null) {
      total = new double[n];
    } else if (total.length != n) {
      throw new IllegalStateException("candidates scored on " + total.length + " and " + n + " examples");
    }
    double[] inv = new double[n];
    for (int j = 0; j < n; j++) {
      inv[j] = 1 / denominator(total[j] + s[j]);
    }
    int worst = archive.length;
    double worstF = competition(s, inv);
    for (int i = archive.length - 1; i >= 0; i--) { // backwards so that the first index wins ties
      double fi = archive[i] == null ? 0 : competition(scores(archive[i]), inv);
      if (fi <= worstF) {
        worstF = fi;
        worst = i;
      }
    }
    if (worst < archive.length) {
      archive[worst] = e;
      recount();
    }
  }

  /**
   * Sums the archive's scores per example, in slot order (from scratch, so that a restored archive gets the very same
   * sums as the one that was saved), and drops the cached fitness matrix.
   */
  private void recount() {
    total = null;
    fm = null;
    for (Evaluated m : archive) {
      if (m != null) {
        float[] s = scores(m);
        if (total == null) {
          total = new double[s.length];
        }
        for (int j = 0; j < s.length; j++) {
          total[j] += s[j];
        }
      }
    }
  }

  private double denominator(double total) {
    double p = Math.pow(total, options.alpha());
    return p == 0 ? 1 : p;
  }

  /** Σ_j s[j] · inv[j]. */
  private static double competition(float[] s, double[] inv) {
    double f = 0;
    for (int j = 0; j < s.length; j++) {
      f += s[j] * inv[j];
    }
    return f;
  }

  private static float[] scores(Evaluated e) {
    float[] s = e.result().examples();
    if (s == null) {
      throw new IllegalStateException("m2n2 needs per-example scores; candidate " + e.id() + " has none");
    }
    return s;
  }

  /** {@code s[i][j] / z[j]} over the archive (rows of empty slots stay null); cached until the archive changes. */
  double[][] fitnessMatrix() {
    if (fm != null) {
      return fm;
    }
    double[][] m = new double[archive.length][];
    if (total != null) {
      int n = total.length;
      double[] inv = new double[n];
      for (int j = 0; j < n; j++) {
        inv[j] = 1 / denominator(total[j]);
      }
      for (int i = 0; i < archive.length; i++) {
        if (archive[i] != null) {
          float[] s = scores(archive[i]);
          m[i] = new double[n];
          for (int j = 0; j < n; j++) {
            m[i][j] = s[j] * inv[j];
          }
        }
      }
    }
    fm = m;
    return fm;
  }

  /** Attraction of every member to parent {@code p1}: Σ_j max(0, fm[i][j] - fm[p1][j]). */
  double[] attraction(double[][] fm, int p1) {
    double[] g = new double[archive.length];
    for (int i = 0; i < archive.length; i++) {
      if (fm[i] != null) {
        double s = 0;
        for (int j = 0; j < fm[i].length; j++) {
          s += Math.max(0, fm[i][j] - fm[p1][j]);
        }
        g[i] = s;
      }
    }
    return g;
  }

  /**
   * A member drawn with probability proportional to {@code f}, leaving out {@code exclude} (when another member
   * has positive weight); uniform over the filled slots when every weight is 0.
   */
  private int choose(double[] f, SplittableRandom rng, int exclude) {
    double[] w = f.clone();
    if (exclude >= 0) {
      double rest = sum(w) - w[exclude];
      if (rest > 0) {
        w[exclude] = 0;
      }
    }
    if (!(sum(w) > 0)) {
      for (int i = 0; i < w.length; i++) {
        w[i] = archive[i] == null ? 0 : 1;
      }
    }
    return draw(w, rng);
  }

  /** An index drawn with probability proportional to {@code w} (non-negative, positive sum). */
  static int draw(double[] w, SplittableRandom rng) {
    double total = sum(w);
    double u = rng.nextDouble() * total;
    double acc = 0;
    int last = -1;
    for (int i = 0; i < w.length; i++) {
      if (w[i] > 0) {
        acc += w[i];
        last = i;
        if (u < acc) {
          return i;
        }
      }
    }
    return last; // rounding at the top end
  }

  private static double sum(double[] v) {
    double s = 0;
    for (double x : v) {
      s += x;
    }
    return s;
  }

  @Override
  public Optional<Evaluated> best() {
    Evaluated b = null;
    for (Evaluated e : archive) {
      if (e != null && (b == null || e.fitness() > b.fitness())) {
        b = e;
      }
    }
    return Optional.ofNullable(b);
  }

  @Override
  public List<Evaluated> population() {
    return Arrays.stream(archive).filter(java.util.Objects::nonNull)
        .sorted(java.util.Comparator.comparingDouble(Evaluated::fitness).reversed()).toList();
  }

  /** The archive slots (null where empty), for tests. */
  Evaluated[] archive() {
    return archive.clone();
  }

  @Override
  public ObjectNode save(GenomeStore store) {
    ObjectNode n = States.JSON.createObjectNode();
    n.put("inserted", inserted);
    ArrayNode a = n.putArray("archive");
    for (Evaluated e : archive) {
      a.add(e == null ? States.JSON.nullNode() : States.evaluated(e, store));
    }
    return n;
  }

  @Override
  public void restore(ObjectNode state, GenomeStore store) {
    inserted = state.get("inserted").asInt();
    List<Evaluated> a = States.list(state.get("archive"), store);
    if (a.size() != archive.length) {
      throw new IllegalStateException("the checkpoint's archive has " + a.size() + " slots, the recipe says " + archive.length);
    }
    for (int i = 0; i < archive.length; i++) {
      archive[i] = a.get(i);
    }
    recount();
  }
}
