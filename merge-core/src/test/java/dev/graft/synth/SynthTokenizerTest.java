package dev.graft.synth;

import static org.assertj.core.api.Assertions.assertThat;

import ai.djl.huggingface.tokenizers.Encoding;
import ai.djl.huggingface.tokenizers.HuggingFaceTokenizer;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.nio.file.Path;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The synthetic tokenizer.json loads in Hugging Face's tokenizers (through DJL) and round-trips any text. */
class SynthTokenizerTest {
  @TempDir Path dir;

  @Test
  void loadsEncodesAndDecodesWithHuggingFaceTokenizers() throws IOException {
    SynthSpec spec = new SynthSpec(700, 32, 1, 4, 2, 48, true, dev.graft.tensor.DType.F32, Long.MAX_VALUE, 0, 1, 1);
    SyntheticCheckpoints.writeTokenizer(spec, dir);
    JsonNode vocab = new ObjectMapper().readTree(dir.resolve("tokenizer.json").toFile()).at("/model/vocab");
    assertThat(vocab.size()).isEqualTo(700);
    try (HuggingFaceTokenizer tok = HuggingFaceTokenizer.newInstance(dir.resolve("tokenizer.json"), Map.of("addSpecialTokens", "false"))) {
      String text = "the cat sat on the mat, naïve café — 42!";
      Encoding e = tok.encode(text);
      long[] ids = e.getIds();
      assertThat(ids).isNotEmpty();
      assertThat(java.util.Arrays.stream(ids).boxed().toList()).allMatch(id -> id >= 3 && id < 700);
      assertThat(ids.length).as("merges shorten the byte sequence").isLessThan(text.getBytes(java.nio.charset.StandardCharsets.UTF_8).length);
      assertThat(tok.decode(ids)).isEqualTo(text);
    }
  }
}
