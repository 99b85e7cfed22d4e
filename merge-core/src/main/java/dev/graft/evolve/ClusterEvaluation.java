package dev.graft.evolve;

import dev.graft.InvalidInputException;
import dev.graft.tensor.Device;
import java.nio.file.Path;
import java.util.Map;
import java.util.ServiceLoader;

/**
 * Evaluation on a cluster, provided by an optional module ({@code merge-spark}) found with {@link ServiceLoader}, so
 * that runs which never use a cluster do not carry its jars.
 */
public interface ClusterEvaluation {
  /**
   * Where to evaluate.
   *
   * @param master the cluster manager's address: {@code local[N]} (threads of this JVM), {@code spark://HOST:PORT}
   *     (a standalone cluster), ...
   * @param conf engine settings passed through as they are (e.g. {@code spark.executor.memory: 4g})
   */
  record Cluster(String master, Map<String, String> conf) {
    public Cluster {
      if (!valid(master)) {
        throw new IllegalArgumentException("'" + master + "' is not a cluster address; " + FORMS);
      }
      conf = Map.copyOf(conf);
    }

    /** The address forms, for messages. */
    public static final String FORMS = "use local[N], local-cluster[W,C,MB] or spark://HOST:PORT";

    /** Whether {@code master} looks like a master address Spark accepts. */
    public static boolean valid(String master) {
      return master != null
          && master.matches("local(\\[(\\d+|\\*)(,\\d+)?])?|local-cluster\\[\\d+, *\\d+, *\\d+]|(spark|yarn|k8s|mesos)(://\\S+)?");
    }
  }

  /**
   * Connects to the cluster and returns an evaluator whose executors rebuild the run's search space from
   * {@code runRecipe} (once per executor process, kept across generations) and score candidates there.
   *
   * @param runRecipe the resolved run recipe ({@code run.yml}: every path absolute; paths must be visible to every node)
   * @param runDir the run folder on the driver (for the engine's own log)
   */
  BatchEvaluator open(Cluster cluster, String runRecipe, Device device, Path runDir);

  /**
   * Checks, cheaply and before any heavy work, that the cluster can be used (its master answers); throws
   * {@link InvalidInputException} saying what to fix.
   */
  default void check(Cluster cluster) {}

  /** The provider on the class path. */
  static ClusterEvaluation find() {
    return ServiceLoader.load(ClusterEvaluation.class).findFirst().orElseThrow(() -> new InvalidInputException(
        "evaluation on a cluster needs Graft's Spark module (merge-spark), which is not on the class path. ./graft adds it"
            + " when the command line has --cluster or the recipe has 'cluster:'; from Maven, depend on dev.graft:merge-spark"));
  }
}
