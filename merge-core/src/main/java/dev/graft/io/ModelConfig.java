package dev.graft.io;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.graft.InvalidInputException;
import java.io.IOException;
import java.nio.file.Path;
import java.util.Optional;
import java.util.OptionalInt;

/**
 * A Hugging Face {@code config.json}, kept as a JSON tree (every key preserved for writing back) with typed
 * accessors for the keys Graft uses.
 *
 * @implNote immutable: {@link #json()} returns a copy.
 */
public final class ModelConfig {
  private static final ObjectMapper JSON = new ObjectMapper();
  private final ObjectNode node;

  private ModelConfig(ObjectNode node) {
    this.node = node;
  }

  /** A config holding a copy of {@code node}. */
  public static ModelConfig of(ObjectNode node) {
    return new ModelConfig(node.deepCopy());
  }

  /** Reads a config file. */
  public static ModelConfig read(Path file) {
    try {
      JsonNode n = JSON.readTree(file.toFile());
      if (!(n instanceof ObjectNode o)) {
        throw new InvalidInputException(file + ": config.json must hold a JSON object");
      }
      return new ModelConfig(o);
    } catch (IOException e) {
      String m = e.getMessage();
      int nl = m == null ? -1 : m.indexOf('\n');
      throw new InvalidInputException(file + ": invalid JSON: " + (nl < 0 ? m : m.substring(0, nl)));
    }
  }

  /** A copy of the whole tree. */
  public ObjectNode json() {
    return node.deepCopy();
  }

  /** {@code architectures[0]}, e.g. {@code LlamaForCausalLM}. */
  public Optional<String> architecture() {
    JsonNode a = node.get("architectures");
    return a != null && a.isArray() && !a.isEmpty() ? Optional.of(a.get(0).asText()) : Optional.empty();
  }

  /** {@code model_type}, e.g. {@code llama}. */
  public Optional<String> modelType() {
    return text("model_type");
  }

  public Optional<Boolean> tieWordEmbeddings() {
    JsonNode n = node.get("tie_word_embeddings");
    return n != null && n.isBoolean() ? Optional.of(n.asBoolean()) : Optional.empty();
  }

  public OptionalInt integer(String key) {
    JsonNode n = node.get(key);
    return n != null && n.canConvertToInt() && n.isIntegralNumber() ? OptionalInt.of(n.asInt()) : OptionalInt.empty();
  }

  public Optional<String> text(String key) {
    JsonNode n = node.get(key);
    return n != null && n.isTextual() ? Optional.of(n.asText()) : Optional.empty();
  }
}
