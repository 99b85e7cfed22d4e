package dev.graft.spark;

import dev.graft.evolve.EvolveRun;
import dev.graft.evolve.EvolveSpec;
import dev.graft.tensor.Device;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.HexFormat;

/**
 * The product's source: the resolved run recipe ({@code run.yml}, every path absolute). An executor rebuilds the
 * run's search space from it exactly as the driver did ({@link EvolveRun#prepare}), so a candidate scores the same
 * bits wherever it runs.
 *
 * @param runRecipe the text of {@code run.yml}
 * @param device where the executor scores models ({@code cpu}, {@code cuda:N})
 */
public record RunRecipeSource(String runRecipe, String device) implements EvaluatorSource {
  @Override
  public String key() {
    try {
      MessageDigest md = MessageDigest.getInstance("SHA-256");
      md.update(runRecipe.getBytes(StandardCharsets.UTF_8));
      md.update((byte) 0);
      md.update(device.getBytes(StandardCharsets.UTF_8));
      return "run-" + HexFormat.of().formatHex(md.digest(), 0, 12);
    } catch (NoSuchAlgorithmException e) {
      throw new IllegalStateException(e);
    }
  }

  @Override
  public Opened open() {
    Path tmp = null;
    try {
      tmp = Files.createTempFile("graft-run-", ".yml");
      Files.writeString(tmp, runRecipe);
      EvolveRun.Prepared p = EvolveRun.prepare(EvolveSpec.read(tmp), Device.parse(device));
      return new Opened(p.space()::newEvaluator, p.breeder(), p.space()::heldOut, p);
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    } finally {
      if (tmp != null) {
        try {
          Files.deleteIfExists(tmp);
        } catch (IOException ignored) {
          // a temporary file left behind is harmless
        }
      }
    }
  }
}
