package dev.graft.evolve;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.graft.InvalidInputException;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;

/**
 * The files of a run that make it resumable: {@code evaluations.jsonl} (append-only, one line per candidate, each
 * line written with one system call so a killed process leaves at most one partial last line, which a resume cuts
 * off), {@code generations.jsonl} (one line per reported generation) and {@code checkpoint.safetensors} (the engine's
 * and the optimiser's state, replaced atomically).
 */
final class RunRecord implements AutoCloseable {
  static final String EVALUATIONS = "evaluations.jsonl";
  static final String GENERATIONS = "generations.jsonl";
  static final String CHECKPOINT = "checkpoint.safetensors";

  private final Path dir;
  private final FileChannel evaluations;
  private final FileChannel generations;

  private RunRecord(Path dir, boolean fresh) {
    this.dir = dir;
    try {
      Files.createDirectories(dir);
      if (fresh) {
        for (String f : List.of(EVALUATIONS, GENERATIONS, CHECKPOINT)) {
          Files.deleteIfExists(dir.resolve(f));
        }
      }
      evaluations = FileChannel.open(dir.resolve(EVALUATIONS), StandardOpenOption.CREATE, StandardOpenOption.WRITE);
      generations = FileChannel.open(dir.resolve(GENERATIONS), StandardOpenOption.CREATE, StandardOpenOption.WRITE);
      evaluations.position(evaluations.size());
      generations.position(generations.size());
    } catch (IOException e) {
      throw new UncheckedIOException("cannot open the run record in " + dir + ": " + e.getMessage(), e);
    }
  }

  /** A new record (earlier record files in {@code dir} are removed). */
  static RunRecord create(Path dir) {
    return new RunRecord(dir, true);
  }

  /** The record in {@code dir}, to continue. */
  static RunRecord open(Path dir) {
    return new RunRecord(dir, false);
  }

  Path dir() {
    return dir;
  }

  /** Whether {@code dir} holds a run's record. */
  static boolean exists(Path dir) {
    return Files.exists(dir.resolve(EVALUATIONS)) || Files.exists(dir.resolve(CHECKPOINT));
  }

  synchronized void appendEvaluation(ObjectNode line) {
    write(evaluations, line);
  }

  synchronized void appendGeneration(ObjectNode line) {
    write(generations, line);
  }

  private static void write(FileChannel ch, ObjectNode line) {
    try {
      ByteBuffer b = ByteBuffer.wrap((States.JSON.writeValueAsString(line) + "\n").getBytes(StandardCharsets.UTF_8));
      while (b.hasRemaining()) {
        ch.write(b);
      }
    } catch (IOException e) {
      throw new UncheckedIOException("cannot append to the run record: " + e.getMessage(), e);
    }
  }

  long generationsBytes() {
    try {
      return generations.size();
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  /** Cuts {@code generations.jsonl} back to {@code bytes} (what the checkpoint saw). */
  void truncateGenerations(long bytes) {
    try {
      if (generations.size() > bytes) {
        generations.truncate(bytes);
      }
      generations.position(generations.size());
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  /** Every complete evaluation line; a partial last line (a killed write) is cut off the file. */
  List<JsonNode> readEvaluations() {
    return readLines(evaluations, EVALUATIONS, true);
  }

  /** Every generation line. */
  List<JsonNode> readGenerations() {
    return readLines(generations, GENERATIONS, false);
  }

  private List<JsonNode> readLines(FileChannel ch, String name, boolean repair) {
    try {
      byte[] all = Files.readAllBytes(dir.resolve(name));
      int end = all.length;
      while (end > 0 && all[end - 1] != '\n') {
        end--;
      }
      if (repair && end < all.length) {
        ch.truncate(end);
        ch.position(end);
      }
      List<JsonNode> out = new ArrayList<>();
      int lineNo = 0;
      for (String line : new String(all, 0, end, StandardCharsets.UTF_8).split("\n")) {
        lineNo++;
        if (line.isBlank()) {
          continue;
        }
        try {
          out.add(States.JSON.readTree(line));
        } catch (IOException e) {
          throw new InvalidInputException(dir.resolve(name) + ":" + lineNo + ": not valid JSON; the run record is damaged ("
              + e.getMessage().lines().findFirst().orElse("") + "). Start a new run in another folder");
        }
      }
      return out;
    } catch (IOException e) {
      throw new UncheckedIOException("cannot read " + dir.resolve(name) + ": " + e.getMessage(), e);
    }
  }

  void writeCheckpoint(GenomeStore store, ObjectNode state) {
    try {
      evaluations.force(false);
      generations.force(false);
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
    store.write(dir.resolve(CHECKPOINT), state);
  }

  Optional<GenomeStore.Loaded> readCheckpoint() {
    Path p = dir.resolve(CHECKPOINT);
    return Files.exists(p) ? Optional.of(GenomeStore.read(p)) : Optional.empty();
  }

  @Override
  public void close() {
    try {
      evaluations.close();
      generations.close();
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }
}
