package dev.graft.op;

import static dev.graft.op.TaskArithmetic.Consensus;
import static dev.graft.op.TaskArithmetic.Sparsifier;

import dev.graft.internal.Names;
import java.util.Collection;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/** An immutable registry of merge operators by name, built explicitly (no static registration). */
public final class Operators {
  private final Map<String, MergeOperator> byName;

  private Operators(Map<String, MergeOperator> byName) {
    this.byName = java.util.Collections.unmodifiableMap(byName);
  }

  /**
   * A registry of the given operators.
   *
   * @throws IllegalArgumentException on duplicate names
   */
  public static Operators of(Collection<? extends MergeOperator> ops) {
    Map<String, MergeOperator> m = new LinkedHashMap<>();
    for (MergeOperator op : ops) {
      if (m.putIfAbsent(op.spec().name(), op) != null) {
        throw new IllegalArgumentException("two merge operators are named '" + op.spec().name() + "'");
      }
    }
    return new Operators(m);
  }

  /** Every operator Graft ships. */
  public static Operators builtIn() {
    String tiesPaper = "https://arxiv.org/abs/2306.01708";
    String darePaper = "https://arxiv.org/abs/2311.03099";
    String bcPaper = "https://arxiv.org/abs/2312.06795";
    String dellaPaper = "https://arxiv.org/abs/2406.11617";
    return of(
        List.of(
            new Linear(),
            new Slerp(),
            new NuSlerp(),
            TaskArithmetic.preset("task_arithmetic", "Task arithmetic", "https://arxiv.org/abs/2212.04089",
                "adds weighted task vectors to the base", Sparsifier.NONE, Consensus.NONE, false, "none"),
            TaskArithmetic.preset("ties", "TIES", tiesPaper,
                "trims task vectors by magnitude, elects signs, merges agreeing entries", Sparsifier.MAGNITUDE, Consensus.SUM, true, "none"),
            TaskArithmetic.preset("dare_ties", "DARE-TIES", darePaper,
                "random drop-and-rescale of task vectors, then TIES sign election", Sparsifier.BERNOULLI, Consensus.SUM, false, "l1"),
            TaskArithmetic.preset("dare_linear", "DARE (linear)", darePaper,
                "random drop-and-rescale of task vectors, then task arithmetic", Sparsifier.BERNOULLI, Consensus.NONE, false, "l1"),
            TaskArithmetic.preset("breadcrumbs", "Model Breadcrumbs", bcPaper,
                "drops the largest and smallest task-vector entries, then task arithmetic", Sparsifier.OUTLIERS, Consensus.NONE, false, "none"),
            TaskArithmetic.preset("breadcrumbs_ties", "Model Breadcrumbs with TIES", bcPaper,
                "Breadcrumbs masks with TIES sign election", Sparsifier.OUTLIERS, Consensus.SUM, false, "none"),
            TaskArithmetic.preset("della", "DELLA", dellaPaper,
                "magnitude-ranked random drop (MAGPRUNE) with TIES sign election", Sparsifier.DELLA, Consensus.SUM, true, "inverse_density"),
            TaskArithmetic.preset("della_linear", "DELLA (linear)", dellaPaper,
                "magnitude-ranked random drop (MAGPRUNE), then task arithmetic", Sparsifier.DELLA, Consensus.NONE, false, "inverse_density"),
            new ModelStock(),
            new Passthrough(),
            new FisherMerge()));
  }

  public Optional<MergeOperator> find(String name) {
    return Optional.ofNullable(byName.get(name));
  }

  /** The operator, or an {@link IllegalArgumentException} with a did-you-mean. */
  public MergeOperator get(String name) {
    MergeOperator op = byName.get(name);
    if (op == null) {
      String hint = Names.didYouMean(name, byName.keySet());
      throw new IllegalArgumentException("unknown merge method '" + name + "'" + (hint.isEmpty() ? "" : ". " + hint));
    }
    return op;
  }

  public Collection<MergeOperator> all() {
    return byName.values();
  }

  public java.util.Set<String> names() {
    return byName.keySet();
  }
}
