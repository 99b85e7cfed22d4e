package dev.graft.cli;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The launchers' JDK discovery (bin/graft-env.sh, sourced by ./graft, ./build and .ci/run) on fake JDK folders. */
class LauncherTest {
  @TempDir Path dir;

  private static final Path ENV = Path.of(System.getProperty("user.dir")).getParent().resolve("bin/graft-env.sh");

  private Path jdk(String name, String release, String specVersion) throws IOException {
    Path home = Files.createDirectories(dir.resolve(name).resolve("bin"));
    String java = "#!/bin/sh\necho 'java.specification.version = " + specVersion + "' >&2\n";
    for (String tool : new String[] {"java", "javac"}) {
      Path t = Files.writeString(home.resolve(tool), java);
      Files.setPosixFilePermissions(t, PosixFilePermissions.fromString("rwxr-xr-x"));
    }
    if (release != null) {
      Files.writeString(dir.resolve(name).resolve("release"), release);
    }
    return dir.resolve(name);
  }

  private String bash(String script, String javaHome) throws IOException, InterruptedException {
    ProcessBuilder pb = new ProcessBuilder("bash", "-c", ". '" + ENV + "'; " + script).redirectErrorStream(true);
    pb.environment().put("JAVA_HOME", javaHome);
    Process p = pb.start();
    String out = new String(p.getInputStream().readAllBytes()).strip();
    assertThat(p.waitFor(30, TimeUnit.SECONDS)).isTrue();
    return out;
  }

  @Test
  void majorVersionFromTheReleaseFileOrTheJvm() throws IOException, InterruptedException {
    Path a = jdk("a", "IMPLEMENTOR=\"Eclipse Adoptium\"\nJAVA_VERSION=\"25.0.3\"\nOS_NAME=\"Linux\"\n", "99");
    Path b = jdk("b", "JAVA_VERSION=\"1.8.0_292\"\n", "99");
    Path c = jdk("c", "JAVA_VERSION=\"26\"", "99"); // no newline at the end
    Path d = jdk("d", null, "27"); // no release file: asks the JVM
    for (Object[] t : new Object[][] {{a, "25"}, {b, "1"}, {c, "26"}, {d, "27"}}) {
      assertThat(bash("graft_java_major '" + t[0] + "/bin/java'", "")).as("%s", t[0]).isEqualTo(t[1]);
    }
  }

  @Test
  void javaHomeWinsWhenNewEnough() throws IOException, InterruptedException {
    Path old = jdk("old", "JAVA_VERSION=\"17.0.2\"\n", "17");
    Path recent = jdk("recent", "JAVA_VERSION=\"25.0.1\"\n", "25");
    assertThat(bash("graft_find_jdk && echo \"$GRAFT_JAVA_HOME\"", recent.toString())).isEqualTo(recent.toString());
    // too old a JAVA_HOME is passed over for a JDK >= 25 found elsewhere (this machine's), never chosen itself
    String chosen = bash("graft_find_jdk && echo \"$GRAFT_JAVA_HOME\"", old.toString());
    assertThat(chosen).isNotEqualTo(old.toString());
  }
}
