package dev.graft.cli;

import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

/** Runs the command line in a child JVM with a small heap (memory tests), with the engines' flags and caches. */
final class GraftProcess {
  private GraftProcess() {}

  record Result(int exit, String log) {}

  static Result run(int heapMb, List<String> jvmExtra, List<String> args) throws IOException, InterruptedException {
    Process p = start(heapMb, jvmExtra, args);
    String log = new String(p.getInputStream().readAllBytes());
    if (!p.waitFor(5, TimeUnit.MINUTES)) {
      p.destroyForcibly();
      return new Result(-1, log + "\n(timed out)");
    }
    return new Result(p.exitValue(), log);
  }

  /** Starts the command line in a child JVM (output merged into its input stream) and returns at once. */
  static Process start(int heapMb, List<String> jvmExtra, List<String> args) throws IOException {
    List<String> cmd = new ArrayList<>();
    cmd.add(Path.of(System.getProperty("java.home"), "bin", "java").toString());
    cmd.add("-Xmx" + heapMb + "m");
    cmd.addAll(jvmExtra);
    cmd.add("--enable-native-access=ALL-UNNAMED");
    cmd.add("--sun-misc-unsafe-memory-access=allow");
    cmd.add("-Dai.djl.offline=true");
    for (String p : List.of("DJL_CACHE_DIR", "org.bytedeco.javacpp.cachedir")) {
      if (System.getProperty(p) != null) {
        cmd.add("-D" + p + "=" + System.getProperty(p));
      }
    }
    cmd.add("-cp");
    cmd.add(System.getProperty("java.class.path"));
    cmd.add(GraftCommand.class.getName());
    cmd.addAll(args);
    return new ProcessBuilder(cmd).redirectErrorStream(true).start();
  }
}
