package dev.graft.io;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.graft.tensor.DType;
import dev.graft.tensor.Shape;
import java.io.IOException;
import java.lang.foreign.MemorySegment;
import java.nio.ByteBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

class RoundTripTest {
  @TempDir Path dir;

  /** One tensor of every dtype, random bytes (so every bit pattern, NaNs included, must survive). */
  private static Map<String, byte[]> randomTensors(List<SafetensorsWriter.Entry> entries) {
    SplittableRandom rnd = new SplittableRandom(11);
    Map<String, byte[]> data = new LinkedHashMap<>();
    int i = 0;
    for (DType d : DType.values()) {
      Shape s = switch (i++ % 4) {
        case 0 -> Shape.of(new long[0]);
        case 1 -> Shape.of(7);
        case 2 -> Shape.of(3, 5);
        default -> Shape.of(2, 3, 4);
      };
      var e = new SafetensorsWriter.Entry("layer." + i + "." + d.tag().toLowerCase(), d, s);
      entries.add(e);
      byte[] b = new byte[(int) e.byteSize()];
      rnd.nextBytes(b);
      data.put(e.name(), b);
    }
    return data;
  }

  @ParameterizedTest
  @ValueSource(longs = {Long.MAX_VALUE, 64, 1})
  void everyDtypeRoundTripsBitIdenticallyInEverySharding(long maxShard) throws IOException {
    List<SafetensorsWriter.Entry> entries = new ArrayList<>();
    Map<String, byte[]> data = randomTensors(entries);
    Path out = dir.resolve("model");
    try (SafetensorsWriter w = SafetensorsWriter.create(out, entries, maxShard, Map.of("format", "pt"))) {
      // write in reverse order, in two halves each, to prove order does not matter
      for (SafetensorsWriter.Entry e : entries.reversed()) {
        byte[] b = data.get(e.name());
        int half = b.length / 2;
        w.write(e.name(), half, ByteBuffer.wrap(b, half, b.length - half));
        w.write(e.name(), 0, ByteBuffer.wrap(b, 0, half));
      }
      w.finish();
    }
    try (Stream<Path> s = Files.list(out)) {
      assertThat(s.map(p -> p.getFileName().toString())).noneMatch(n -> n.endsWith(".partial"));
    }
    if (maxShard == Long.MAX_VALUE) {
      assertThat(out.resolve("model.safetensors")).exists();
      assertThat(out.resolve(Checkpoint.INDEX_NAME)).doesNotExist();
    } else {
      JsonNode idx = new ObjectMapper().readTree(out.resolve(Checkpoint.INDEX_NAME).toFile());
      long total = entries.stream().mapToLong(SafetensorsWriter.Entry::byteSize).sum();
      assertThat(idx.at("/metadata/total_size").asLong()).isEqualTo(total);
      assertThat(idx.get("weight_map").size()).isEqualTo(entries.size());
      if (maxShard == 1) {
        assertThat(out.resolve(String.format("model-00001-of-%05d.safetensors", entries.size()))).exists();
      }
    }
    try (Checkpoint cp = Checkpoint.open(out)) {
      assertThat(cp.tensors().keySet()).containsExactlyInAnyOrderElementsOf(data.keySet());
      for (SafetensorsWriter.Entry e : entries) {
        TensorInfo ti = cp.info(e.name());
        assertThat(ti.dtype()).isEqualTo(e.dtype());
        assertThat(ti.shape()).isEqualTo(e.shape());
        try (MappedTensor m = cp.map(e.name())) {
          byte[] back = m.segment().equals(MemorySegment.NULL) ? new byte[0] : m.segment().toArray(java.lang.foreign.ValueLayout.JAVA_BYTE);
          assertThat(back).isEqualTo(data.get(e.name()));
        }
      }
      for (SafetensorsFile f : cp.files()) {
        assertThat(f.header().headerLength() % 8).isZero();
        assertThat(f.header().warnings()).isEmpty();
        assertThat(f.header().metadata()).containsEntry("format", "pt");
      }
    }
  }

  @Test
  void unfinishedOutputLeavesNoFileThatLooksComplete() throws IOException {
    var e = new SafetensorsWriter.Entry("a", DType.F32, Shape.of(4));
    Path out = dir.resolve("m");
    try (SafetensorsWriter w = SafetensorsWriter.create(out, List.of(e), Long.MAX_VALUE, null)) {
      w.writeFloats("a", 0, new float[] {1, 2}, 0, 2);
      assertThatThrownBy(w::finish).isInstanceOf(IllegalStateException.class).hasMessageContaining("got 8 of 16 bytes");
    }
    assertThat(out).as("the folder the writer made, with its partial file").doesNotExist();
  }

  @Test
  void reshardingRemovesStaleShardsOfAnEarlierOutput() throws IOException {
    List<SafetensorsWriter.Entry> entries = new ArrayList<>();
    Map<String, byte[]> data = randomTensors(entries);
    Path out = dir.resolve("m");
    for (long max : new long[] {1, Long.MAX_VALUE}) {
      try (SafetensorsWriter w = SafetensorsWriter.create(out, entries, max, null)) {
        for (var e : entries) {
          w.write(e.name(), 0, ByteBuffer.wrap(data.get(e.name())));
        }
        w.finish();
      }
    }
    try (Stream<Path> s = Files.list(out)) {
      assertThat(s.map(p -> p.getFileName().toString()).toList()).containsExactly("model.safetensors");
    }
  }
}
