package dev.graft.spark;

import java.io.IOException;
import java.io.OutputStream;
import java.io.UncheckedIOException;
import java.net.ServerSocket;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.jar.JarEntry;
import java.util.jar.JarOutputStream;
import java.util.stream.Stream;

/**
 * A real standalone Spark cluster for tests: one Master and {@code workers} Workers, each a separate JVM on
 * 127.0.0.1, run from a SPARK_HOME whose {@code jars/} holds this test's class path (class folders packed into jars,
 * so executors load the same classes as the driver). {@link #close} stops every process it started, executors
 * included.
 */
final class StandaloneCluster implements AutoCloseable {
  final Path dir;
  final String master;
  private final List<Process> daemons = new ArrayList<>();

  StandaloneCluster(Path dir, int workers) throws IOException, InterruptedException {
    this.dir = dir;
    Path home = dir.resolve("spark-home");
    Path jars = Files.createDirectories(home.resolve("jars"));
    String[] cp = System.getProperty("java.class.path").split(java.io.File.pathSeparator);
    for (int i = 0; i < cp.length; i++) {
      Path p = Path.of(cp[i]);
      if (Files.isDirectory(p)) {
        pack(p, jars.resolve(i + "-classes.jar"));
      } else if (p.toString().endsWith(".jar") && Files.isRegularFile(p)) {
        Path to = jars.resolve(i + "-" + p.getFileName());
        try {
          Files.createLink(to, p); // a hard link: no copy, and nothing that points outside the folder
        } catch (IOException | UnsupportedOperationException e) {
          Files.copy(p, to);
        }
      }
    }
    int port = freePort();
    int ui = freePort();
    master = "spark://127.0.0.1:" + port;
    Path log = Files.createDirectories(dir.resolve("logs"));
    daemons.add(start(home, log.resolve("master.log"), "org.apache.spark.deploy.master.Master", "--host", "127.0.0.1", "--port",
        String.valueOf(port), "--webui-port", String.valueOf(ui)));
    for (int w = 0; w < workers; w++) {
      Path work = Files.createDirectories(dir.resolve("work" + w));
      daemons.add(start(home, log.resolve("worker" + w + ".log"), "org.apache.spark.deploy.worker.Worker", "--host", "127.0.0.1",
          "--cores", "1", "--memory", "3g", "--work-dir", work.toString(), "--webui-port", String.valueOf(freePort()), master));
    }
    long deadline = System.nanoTime() + 60_000_000_000L;
    while (aliveWorkers(ui) < workers) {
      for (Process p : daemons) {
        if (!p.isAlive()) {
          throw new IllegalStateException("a Spark daemon exited with " + p.exitValue() + "; logs in " + log);
        }
      }
      if (System.nanoTime() > deadline) {
        throw new IllegalStateException("workers did not register with the master within 60 s; logs in " + log);
      }
      Thread.sleep(200);
    }
  }

  private Process start(Path home, Path log, String main, String... args) throws IOException {
    List<String> cmd = new ArrayList<>(List.of(ProcessHandle.current().info().command().orElse("java"), "-Xmx256m",
        "--enable-native-access=ALL-UNNAMED", "--sun-misc-unsafe-memory-access=allow", "-Djava.io.tmpdir=" + dir, "-Dlogback.configurationFile=logback-daemon.xml",
        "-cp", home.resolve("jars") + "/*", main));
    cmd.addAll(List.of(args));
    ProcessBuilder pb = new ProcessBuilder(cmd).redirectErrorStream(true).redirectOutput(log.toFile());
    pb.environment().put("SPARK_HOME", home.toString());
    pb.environment().put("SPARK_SCALA_VERSION", "2.13");
    pb.environment().put("SPARK_LOCAL_DIRS", dir.toString());
    return pb.start();
  }

  /** Workers the master reports alive (its web UI's JSON), 0 while it is not up. */
  private static int aliveWorkers(int ui) {
    try (java.net.http.HttpClient c = java.net.http.HttpClient.newHttpClient()) {
      String body = c.send(java.net.http.HttpRequest.newBuilder(java.net.URI.create("http://127.0.0.1:" + ui + "/json/")).build(),
          java.net.http.HttpResponse.BodyHandlers.ofString()).body();
      return new com.fasterxml.jackson.databind.ObjectMapper().readTree(body).path("aliveworkers").asInt(0);
    } catch (IOException e) {
      return 0;
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      return 0;
    }
  }

  static int freePort() throws IOException {
    try (ServerSocket s = new ServerSocket(0)) {
      return s.getLocalPort();
    }
  }

  private static void pack(Path classes, Path jar) throws IOException {
    try (OutputStream os = Files.newOutputStream(jar); JarOutputStream out = new JarOutputStream(os); Stream<Path> files = Files.walk(classes)) {
      for (Path f : (Iterable<Path>) files.filter(Files::isRegularFile).sorted()::iterator) {
        out.putNextEntry(new JarEntry(classes.relativize(f).toString().replace('\\', '/')));
        Files.copy(f, out);
        out.closeEntry();
      }
    } catch (UncheckedIOException e) {
      throw e.getCause();
    }
  }

  /** Every process this cluster runs now: the daemons and their executors. */
  List<ProcessHandle> processes() {
    List<ProcessHandle> all = new ArrayList<>();
    for (Process p : daemons) {
      all.add(p.toHandle());
      p.descendants().forEach(all::add);
    }
    return all;
  }

  @Override
  public void close() {
    List<ProcessHandle> all = processes();
    all.forEach(ProcessHandle::destroyForcibly);
    for (ProcessHandle h : all) {
      try {
        h.onExit().get(30, java.util.concurrent.TimeUnit.SECONDS);
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
      } catch (java.util.concurrent.ExecutionException | java.util.concurrent.TimeoutException e) {
        throw new IllegalStateException("process " + h.pid() + " did not stop", e);
      }
    }
  }
}
