package dev.graft.io;

import static org.assertj.core.api.Assertions.assertThat;

import dev.graft.tensor.DType;
import dev.graft.tensor.Shape;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
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

  private static SafetensorsWriter writer(Path out) {
    return SafetensorsWriter.create(out, List.of(new SafetensorsWriter.Entry("w", DType.F32, Shape.of(4))), 1 << 20, Map.of());
  }

  @Test
  void aFolderTheWriterMadeGoesWithAnAbandonedOutputOnly() throws IOException {
    // stopped before finish: the hook removes the folder it made (partial shard and all)
    Path stopped = dir.resolve("stopped");
    SafetensorsWriter w = writer(stopped);
    AtomicFiles.removeUnfinished();
    assertThat(stopped).doesNotExist();
    w.close();
    // abandoned (closed unfinished): its partial files and the empty folder it made are removed
    Path abandoned = dir.resolve("abandoned");
    writer(abandoned).close();
    assertThat(abandoned).doesNotExist();
    // a folder that was there before stays, with what it held
    Path existing = Files.createDirectories(dir.resolve("existing"));
    Files.writeString(existing.resolve("notes.txt"), "mine");
    writer(existing).close();
    assertThat(existing.resolve("notes.txt")).exists();
    // finished: kept whatever happens next
    Path done = dir.resolve("done");
    try (SafetensorsWriter f = writer(done)) {
      f.writeFloats("w", 0, new float[] {1, 2, 3, 4}, 0, 4);
      f.finish();
    }
    AtomicFiles.removeUnfinished();
    assertThat(done.resolve("model.safetensors")).exists();
  }
}
