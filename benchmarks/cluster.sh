#!/usr/bin/env bash
# Figures of evaluation on Spark for benchmarks/README.md: the cluster's overhead per generation of 200 candidates
# (local[2] and a standalone cluster of two one-core workers started here as separate JVMs), and the speed-up of a
# recipe-space run whose evaluations dominate (CMA-ES over a ties merge of a 16M-parameter Llama family). Usage: benchmarks/cluster.sh [OUT_DIR] [EVALUATIONS (default 56)] [--no-overhead]
set -euo pipefail
here=$(cd "$(dirname "$0")/.." && pwd)
. "$here/bin/graft-env.sh"
graft_find_jdk || exit 2
out=${1:-$here/merge-spark/target/cluster-bench}
"$here/build" -q -DskipTests install -pl merge-spark -am
cd "$here/merge-spark"
"$here/build" -q dependency:build-classpath -Dmdep.outputFile=target/test-classpath.txt -Dmdep.includeScope=test -f pom.xml >/dev/null
# shellcheck disable=SC2086
exec "$GRAFT_JAVA_HOME/bin/java" $GRAFT_JVM_FLAGS -Xmx2g -cp "target/test-classes:target/classes:$(cat target/test-classpath.txt)" \
  dev.graft.spark.ClusterBenchmark "$out" "${2:-56}" ${3:-}
