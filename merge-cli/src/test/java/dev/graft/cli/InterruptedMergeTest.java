package dev.graft.cli;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** A merge stopped by SIGTERM (what Ctrl-C and `kill` send) leaves neither an output nor its partial folder behind. */
class InterruptedMergeTest {
  @TempDir Path dir;

  @Test
  void aMergeStoppedBySigtermLeavesNoPartialOutput() throws IOException, InterruptedException {
    Path recipe = MergeMemoryTest.tiesOverAFamily(dir);
    Path out = dir.resolve("out");
    Path partial = dir.resolve(".out.graft-partial");
    // the DJL backend and small shards: slow enough to be stopped after its first shard file appears
    Process p = GraftProcess.start(256, List.of(), List.of("merge", "-q", recipe.toString(), "-o", out.toString(), "--backend", "djl",
        "--threads", "1", "--out-shard-size", "20MB"));
    long deadline = System.nanoTime() + TimeUnit.MINUTES.toNanos(3);
    while (System.nanoTime() < deadline && p.isAlive() && !holdsAFile(partial)) {
      Thread.sleep(10);
    }
    assertThat(p.isAlive()).as("the merge finished before it could be stopped").isTrue();
    assertThat(holdsAFile(partial)).isTrue();
    p.destroy(); // SIGTERM: shutdown hooks run
    assertThat(p.waitFor(1, TimeUnit.MINUTES)).isTrue();
    assertThat(partial).doesNotExist();
    assertThat(out).doesNotExist();
    assertThat(dir.resolve(".out.graft-stages")).doesNotExist();
  }

  private static boolean holdsAFile(Path d) throws IOException {
    if (!Files.isDirectory(d)) {
      return false;
    }
    try (Stream<Path> s = Files.list(d)) {
      return s.findAny().isPresent();
    } catch (java.nio.file.NoSuchFileException gone) {
      return false;
    }
  }
}
