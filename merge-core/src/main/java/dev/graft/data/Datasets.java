package dev.graft.data;

import dev.graft.InvalidInputException;
import java.io.BufferedInputStream;
import java.io.DataInputStream;
import java.io.EOFException;
import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.zip.GZIPInputStream;

/** Readers of the datasets Graft evaluates classifiers on. Files may be gzip-compressed (detected by content). */
public final class Datasets {
  private Datasets() {}

  /**
   * UCI optdigits ({@code optdigits.tra}, {@code .tes}, scikit-learn's {@code digits.csv.gz}): 64 integers 0..16
   * then the class, no header. Features are scaled to [0, 1]; each example is {@code [1, 8, 8]}.
   */
  public static Dataset optdigits(Path file) {
    Dataset d = csv(file, 64, 16f, 10, false);
    return new Dataset(d.name(), new int[] {1, 8, 8}, d.features(), d.labels(), 10);
  }

  /**
   * A numeric CSV: one example per line, the class label (an integer) in column {@code labelColumn} (negative
   * counts from the end), every other column a feature divided by {@code scale}. A first line that does not parse
   * as numbers is taken as a header when {@code header} is true.
   */
  public static Dataset csv(Path file, int labelColumn, float scale, int classes, boolean header) {
    List<float[]> rows = new ArrayList<>();
    List<Integer> labels = new ArrayList<>();
    int width = -1;
    try (var reader = new java.io.BufferedReader(new java.io.InputStreamReader(open(file), StandardCharsets.UTF_8))) {
      String line;
      int lineNo = 0;
      while ((line = reader.readLine()) != null) {
        lineNo++;
        if (line.isBlank() || (header && lineNo == 1)) {
          continue;
        }
        String[] parts = line.split(",", -1);
        if (width < 0) {
          width = parts.length;
        } else if (parts.length != width) {
          throw new InvalidInputException(file + ":" + lineNo + ": expected " + width + " comma-separated values (as on the first row), found " + parts.length);
        }
        int lc = labelColumn < 0 ? width + labelColumn : labelColumn;
        if (lc < 0 || lc >= width) {
          throw new InvalidInputException(file + ": label column " + labelColumn + " is outside the " + width + " columns");
        }
        float[] x = new float[width - 1];
        for (int c = 0, k = 0; c < width; c++) {
          String v = parts[c].trim();
          try {
            if (c == lc) {
              int label = Integer.parseInt(v);
              if (label < 0 || label >= classes) {
                throw new InvalidInputException(file + ":" + lineNo + ": label " + label + " is outside [0, " + classes + ")");
              }
              labels.add(label);
            } else {
              x[k++] = Float.parseFloat(v) / scale;
            }
          } catch (NumberFormatException e) {
            throw new InvalidInputException(file + ":" + lineNo + ": column " + (c + 1) + " is '" + v + "', not a number"
                + (lineNo == 1 ? " (a header line? set header: true)" : ""));
          }
        }
        rows.add(x);
      }
    } catch (IOException e) {
      throw new InvalidInputException("cannot read " + file + ": " + e.getMessage(), e);
    }
    if (rows.isEmpty()) {
      throw new InvalidInputException(file + ": no examples");
    }
    int f = rows.get(0).length;
    float[] all = new float[rows.size() * f];
    for (int i = 0; i < rows.size(); i++) {
      System.arraycopy(rows.get(i), 0, all, i * f, f);
    }
    return new Dataset(file.getFileName().toString(), new int[] {f}, all, labels.stream().mapToInt(Integer::intValue).toArray(), classes);
  }

  /** MNIST-style IDX image and label files (gzip or raw): pixels scaled to [0, 1], examples {@code [1, rows, cols]}. */
  public static Dataset idx(Path images, Path labels) {
    try (DataInputStream im = new DataInputStream(new BufferedInputStream(open(images)));
        DataInputStream lb = new DataInputStream(new BufferedInputStream(open(labels)))) {
      int magic = im.readInt();
      if (magic != 0x00000803) {
        throw new InvalidInputException(images + ": not an IDX image file (magic 0x" + Integer.toHexString(magic) + ", expected 0x803)");
      }
      int n = im.readInt();
      int rows = im.readInt();
      int cols = im.readInt();
      int lmagic = lb.readInt();
      if (lmagic != 0x00000801) {
        throw new InvalidInputException(labels + ": not an IDX label file (magic 0x" + Integer.toHexString(lmagic) + ", expected 0x801)");
      }
      int nl = lb.readInt();
      if (nl != n) {
        throw new InvalidInputException(images + " holds " + n + " images but " + labels + " holds " + nl + " labels");
      }
      byte[] px = new byte[Math.multiplyExact(Math.multiplyExact(n, rows), cols)];
      im.readFully(px);
      byte[] lab = new byte[n];
      lb.readFully(lab);
      float[] x = new float[px.length];
      for (int i = 0; i < px.length; i++) {
        x[i] = (px[i] & 0xff) / 255f;
      }
      int[] y = new int[n];
      for (int i = 0; i < n; i++) {
        y[i] = lab[i] & 0xff;
        if (y[i] > 9) {
          throw new InvalidInputException(labels + ": label " + y[i] + " at index " + i + " is not a digit");
        }
      }
      return new Dataset(images.getFileName().toString(), new int[] {1, rows, cols}, x, y, 10);
    } catch (EOFException e) {
      throw new InvalidInputException(images + " or " + labels + " is truncated (fewer bytes than the header announces)", e);
    } catch (IOException e) {
      throw new InvalidInputException("cannot read " + images + " / " + labels + ": " + e.getMessage(), e);
    }
  }

  /** Opens a file, transparently un-gzipping it when it starts with the gzip magic. */
  static InputStream open(Path file) throws IOException {
    if (!Files.isRegularFile(file)) {
      throw new InvalidInputException(file + ": no such file");
    }
    InputStream in = new BufferedInputStream(Files.newInputStream(file));
    in.mark(2);
    int b0 = in.read();
    int b1 = in.read();
    in.reset();
    return b0 == 0x1f && b1 == 0x8b ? new GZIPInputStream(in, 1 << 16) : in;
  }
}
