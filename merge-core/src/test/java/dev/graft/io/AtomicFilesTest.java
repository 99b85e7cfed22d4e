package dev.graft.io;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** What the shutdown hook removes: outputs marked unfinished, not those finished since. */
class AtomicFilesTest {
  @TempDir Path dir;

  @Test
  void unfinishedOutputsAreRemovedAtExitAndFinishedOnesKept() throws IOException {
    Path partial = Files.createDirectories(dir.resolve(".out.graft-partial/sub"));
    Files.writeString(partial.resolve("model-00001-of-00002.safetensors"), "x");
    Path shard = Files.writeString(dir.resolve(".model.safetensors.partial"), "y");
    Path done = Files.writeString(dir.resolve(".done.partial"), "z");
    AtomicFiles.unfinished(dir.resolve(".out.graft-partial"));
    AtomicFiles.unfinished(shard);
    AtomicFiles.unfinished(done);
    AtomicFiles.finished(done);
    AtomicFiles.unfinished(dir.resolve("never-created"));
    AtomicFiles.removeUnfinished();
    assertThat(dir.resolve(".out.graft-partial")).doesNotExist();
    assertThat(shard).doesNotExist();
    assertThat(done).exists();
    AtomicFiles.finished(dir.resolve(".out.graft-partial"));
    AtomicFiles.finished(shard);
    AtomicFiles.finished(dir.resolve("never-created"));
  }
}
