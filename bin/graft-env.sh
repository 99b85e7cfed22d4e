# Shared by ./graft, ./build and .ci/run: finds a JDK >= 25 and sets the native-cache folders.
# Sourced, not executed.
GRAFT_HOME=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)

graft_java_major() { # prints the major version of the JDK whose java binary is $1, or nothing
  local home=${1%/bin/java} line v
  if [ -r "$home/release" ]; then   # fast path: the JDK's release file, read with shell builtins (no process per line)
    while IFS= read -r line || [ -n "$line" ]; do
      case $line in
        JAVA_VERSION=*)
          v=${line#JAVA_VERSION=}; v=${v#\"}; v=${v%%[!0-9]*}
          if [ -n "$v" ]; then echo "$v"; return; fi ;;
      esac
    done <"$home/release"
  fi
  "$1" -XshowSettings:properties -version 2>&1 | sed -n 's/^ *java\.specification\.version = \([0-9]*\).*/\1/p' | head -n1
}

graft_find_jdk() { # sets GRAFT_JAVA_HOME to a JDK >= 25, or fails with a message
  local c best="" bestv=0 v
  for c in "${JAVA_HOME:-}" /usr/lib/jvm/* /usr/java/* /opt/java/* /opt/jdk* /Library/Java/JavaVirtualMachines/*/Contents/Home "$HOME"/.sdkman/candidates/java/* "$HOME"/.jdks/*; do
    [ -n "$c" ] && [ -x "$c/bin/java" ] && [ -x "$c/bin/javac" ] || continue
    v=$(graft_java_major "$c/bin/java")
    [ -n "$v" ] && [ "$v" -ge 25 ] || continue
    if [ "$c" = "${JAVA_HOME:-}" ]; then best=$c; bestv=$v; break; fi   # JAVA_HOME wins when new enough
    if [ "$v" -gt "$bestv" ]; then best=$c; bestv=$v; fi
  done
  if [ -z "$best" ]; then
    echo "graft: no JDK 25 or newer found (looked at JAVA_HOME and /usr/lib/jvm)." >&2
    echo "       Install one (e.g. Temurin 25: apt-get install temurin-25-jdk) or set JAVA_HOME to it." >&2
    return 2
  fi
  GRAFT_JAVA_HOME=$best
}

# Native libraries of DJL (libtorch) and ND4J (javacpp) are extracted once into a persistent cache.
GRAFT_CACHE=${GRAFT_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/graft}
export DJL_CACHE_DIR=${DJL_CACHE_DIR:-$GRAFT_CACHE/djl}
# -Xms64m: the heap starts small and grows with need, so resident memory follows what a command holds (a streamed
# merge keeps about 50 MB live; the default initial heap, 1/64 of RAM, would be touched through by the young
# generation anyway). GRAFT_JAVA_OPTS come later on the command line and override it.
GRAFT_JVM_FLAGS="-Xms64m --enable-native-access=ALL-UNNAMED --sun-misc-unsafe-memory-access=allow -Dai.djl.offline=true -Dorg.bytedeco.javacpp.cachedir=$GRAFT_CACHE/javacpp -DDJL_CACHE_DIR=$DJL_CACHE_DIR"

graft_build_if_stale() { # $1 = jar, $2 = Maven module, rest = sources it is built from; builds the module when the jar is missing or older
  local jar=$1 module=$2 log
  shift 2
  if [ -f "$jar" ] && [ -z "$(find "$@" -newer "$jar" -print -quit 2>/dev/null)" ]; then
    return 0
  fi
  echo "graft: building $module (first use or sources changed)..." >&2
  log=$(mktemp)
  if ! "$GRAFT_HOME/build" -q -DskipTests -pl "$module" -am install >"$log" 2>&1; then
    cat "$log" >&2; rm -f "$log"
    echo "graft: build failed (output above)" >&2
    return 1
  fi
  rm -f "$log"
  touch "$jar"   # Maven keeps an unchanged jar's old time; mark it as built from the current sources
}

graft_spark_home() { # builds merge-spark when needed; sets SPARK_HOME (its jars/: Spark and Graft) and SPARK_SCALA_VERSION
  graft_build_if_stale "$GRAFT_HOME/merge-spark/target/spark-home/jars/graft-spark.jar" merge-spark \
    "$GRAFT_HOME/pom.xml" "$GRAFT_HOME/merge-core/pom.xml" "$GRAFT_HOME/merge-spark/pom.xml" \
    "$GRAFT_HOME/merge-core/src/main" "$GRAFT_HOME/merge-spark/src/main" || return 1
  export SPARK_HOME="$GRAFT_HOME/merge-spark/target/spark-home"
  export SPARK_SCALA_VERSION=2.13
}
