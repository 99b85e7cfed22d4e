package dev.graft.spark;

import ch.qos.logback.classic.LoggerContext;
import ch.qos.logback.classic.encoder.PatternLayoutEncoder;
import ch.qos.logback.classic.spi.ILoggingEvent;
import ch.qos.logback.core.FileAppender;
import dev.graft.InvalidInputException;
import dev.graft.evolve.BatchEvaluator;
import dev.graft.evolve.ClusterEvaluation;
import dev.graft.tensor.Device;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import org.apache.spark.SparkConf;
import org.apache.spark.api.java.JavaSparkContext;
import org.slf4j.LoggerFactory;

/**
 * The {@link ClusterEvaluation} provider: connects to a Spark cluster ({@code local[N]}, {@code local-cluster[...]},
 * {@code spark://HOST:PORT}) and scores candidates on its executors. Spark's log goes to {@code RUN_DIR/spark.log};
 * its warnings also to the console.
 */
public final class SparkEvaluation implements ClusterEvaluation {
  /** The log file Spark writes into the run folder. */
  public static final String LOG = "spark.log";

  @Override
  public BatchEvaluator open(Cluster cluster, String runRecipe, Device device, Path runDir) {
    AutoCloseable log = logTo(runDir.resolve(LOG));
    try {
      JavaSparkContext sc = new JavaSparkContext(conf(cluster, "graft evolve"));
      return new SparkBatchEvaluator(sc, new RunRecipeSource(runRecipe, device.toString()), true, log);
    } catch (RuntimeException e) {
      closeQuietly(log);
      throw e;
    }
  }

  @Override
  public void check(Cluster cluster) {
    String m = cluster.master();
    if (!m.startsWith("spark://")) {
      return; // local masters need nothing; others (yarn, k8s) are Spark's to check
    }
    List<String> tried = new ArrayList<>();
    for (String hostPort : m.substring("spark://".length()).split(",")) {
      int colon = hostPort.lastIndexOf(':');
      String host = colon < 0 ? hostPort : hostPort.substring(0, colon);
      int port = 7077;
      try {
        port = colon < 0 ? 7077 : Integer.parseInt(hostPort.substring(colon + 1));
      } catch (NumberFormatException e) {
        throw new InvalidInputException("'" + m + "': '" + hostPort.substring(colon + 1) + "' is not a port; write spark://HOST:PORT");
      }
      try (java.net.Socket s = new java.net.Socket()) {
        s.connect(new java.net.InetSocketAddress(host, port), 3000);
        return; // one master answers
      } catch (java.io.IOException e) {
        tried.add(host + ":" + port + " (" + (e.getMessage() == null ? "no answer" : e.getMessage().toLowerCase(java.util.Locale.ROOT)) + ")");
      }
    }
    throw new InvalidInputException("no Spark master answers at " + String.join(", ", tried) + ". Start one (bin/graft-spark master, then"
        + " bin/graft-spark worker " + m + "), or correct the address given by --cluster or the recipe's cluster:");
  }

  /**
   * Spark settings for Graft: the user's {@code conf} on top of these defaults: no web UI, a loopback driver address
   * for a loopback master, and executor JVMs that find the native caches of this machine's Graft and stay offline;
   * with {@code spark.executor.cores} set, libtorch uses that many threads in an executor, and one-core executors run
   * the merge kernels on their task's thread alone.
   */
  public static SparkConf conf(Cluster cluster, String appName) {
    SparkConf conf = new SparkConf().setMaster(cluster.master()).setAppName(appName);
    conf.set("spark.ui.enabled", "false");
    String m = cluster.master();
    if (m.startsWith("local") || m.contains("://127.") || m.contains("://localhost")) {
      conf.set("spark.driver.host", "127.0.0.1");
      conf.set("spark.driver.bindAddress", "127.0.0.1");
    }
    List<String> opts = new ArrayList<>(List.of("-Dai.djl.offline=true"));
    String cores = cluster.conf().get("spark.executor.cores");
    if (cores != null && cores.matches("[1-9][0-9]*")) { // an executor computes on the cores it is given, not on every core of its host
      int c = Integer.parseInt(cores);
      if (c == 1) {
        opts.add("-Dgraft.threads=1"); // merge kernels on the task's thread only (their blocks, and so the bits, unchanged)
      }
      opts.add("-Dai.djl.pytorch.num_threads=" + c);
    }
    for (String p : List.of("DJL_CACHE_DIR", "org.bytedeco.javacpp.cachedir")) {
      String v = System.getProperty(p);
      if (v != null && !v.isBlank() && !v.contains(" ")) {
        opts.add("-D" + p + "=" + v);
      }
    }
    String user = cluster.conf().get("spark.executor.extraJavaOptions");
    if (user != null) {
      opts.add(user);
    }
    cluster.conf().forEach(conf::set);
    conf.set("spark.executor.extraJavaOptions", String.join(" ", opts));
    return conf;
  }

  /** Adds a file appender for everything logged (Spark's INFO lines included) while the run is connected. */
  static AutoCloseable logTo(Path file) {
    if (!(LoggerFactory.getILoggerFactory() instanceof LoggerContext ctx)) {
      return () -> { };
    }
    PatternLayoutEncoder enc = new PatternLayoutEncoder();
    enc.setContext(ctx);
    enc.setPattern("%d{HH:mm:ss.SSS} %-5level %logger{36}: %msg%n");
    enc.start();
    FileAppender<ILoggingEvent> fa = new FileAppender<>();
    fa.setContext(ctx);
    fa.setName("graft-run-log");
    fa.setFile(file.toString());
    fa.setAppend(true);
    fa.setEncoder(enc);
    fa.start();
    ch.qos.logback.classic.Logger root = ctx.getLogger(org.slf4j.Logger.ROOT_LOGGER_NAME);
    root.addAppender(fa);
    return () -> {
      root.detachAppender(fa);
      fa.stop();
    };
  }

  static void closeQuietly(AutoCloseable c) {
    try {
      c.close();
    } catch (Exception ignored) {
      // closing a log file cannot fail the run
    }
  }
}
