package dev.graft.model;

import ai.djl.huggingface.tokenizers.HuggingFaceTokenizer;
import dev.graft.InvalidInputException;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;

/**
 * A model's {@code tokenizer.json}, run by Hugging Face's tokenizers library (through DJL, offline). Special tokens
 * are added exactly as the file's post-processor says (what {@code tokenizers} and transformers' fast tokenizers
 * do), never guessed.
 */
public final class TextTokenizer implements AutoCloseable {
  private final HuggingFaceTokenizer withSpecials;
  private final HuggingFaceTokenizer plain;

  private TextTokenizer(HuggingFaceTokenizer withSpecials, HuggingFaceTokenizer plain) {
    this.withSpecials = withSpecials;
    this.plain = plain;
  }

  /** Loads {@code dir/tokenizer.json}. */
  public static TextTokenizer load(Path dir) {
    Path file = Files.isDirectory(dir) ? dir.resolve("tokenizer.json") : dir;
    if (!Files.isRegularFile(file)) {
      throw new InvalidInputException(file + " not found: text needs the model's tokenizer.json (copy it from the model "
          + "the weights came from), or give token ids instead of text");
    }
    HuggingFaceTokenizer a = null;
    try {
      a = HuggingFaceTokenizer.newInstance(file, Map.of("addSpecialTokens", "true"));
      HuggingFaceTokenizer b = HuggingFaceTokenizer.newInstance(file, Map.of("addSpecialTokens", "false"));
      return new TextTokenizer(a, b);
    } catch (IOException | RuntimeException e) {
      if (a != null) {
        a.close();
      }
      throw new InvalidInputException(file + ": not a tokenizer Hugging Face's tokenizers can load: " + e.getMessage(), e);
    }
  }

  /** Token ids of {@code text}, with the special tokens the post-processor adds when {@code specials}. */
  public int[] encode(String text, boolean specials) {
    long[] ids = (specials ? withSpecials : plain).encode(text).getIds();
    int[] out = new int[ids.length];
    for (int i = 0; i < ids.length; i++) {
      out[i] = Math.toIntExact(ids[i]);
    }
    return out;
  }

  /** Text of {@code ids}, special tokens skipped. */
  public String decode(int[] ids) {
    long[] l = new long[ids.length];
    for (int i = 0; i < ids.length; i++) {
      l[i] = ids[i];
    }
    return plain.decode(l, true);
  }

  @Override
  public void close() {
    withSpecials.close();
    plain.close();
  }
}
