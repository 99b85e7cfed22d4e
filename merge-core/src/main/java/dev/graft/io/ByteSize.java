package dev.graft.io;

import java.util.Locale;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/** Byte sizes as people write them: {@code 2GB} (powers of 1000, as Hugging Face), {@code 2GiB} (powers of 1024), {@code 123}. */
public final class ByteSize {
  private static final Pattern P = Pattern.compile("(\\d+(?:\\.\\d+)?)\\s*([kmgt]?)(i?)b?", Pattern.CASE_INSENSITIVE);

  private ByteSize() {}

  /**
   * Parses a size.
   *
   * @throws IllegalArgumentException with the accepted forms
   */
  public static long parse(String s) {
    Matcher m = P.matcher(s.trim());
    if (!m.matches()) {
      throw new IllegalArgumentException("invalid size '" + s + "' (expected e.g. 2GB, 500MB, 4GiB or a number of bytes)");
    }
    double v = Double.parseDouble(m.group(1));
    int power = "kmgt".indexOf(m.group(2).toLowerCase(Locale.ROOT)) + 1;
    double base = m.group(3).isEmpty() ? 1000 : 1024;
    double bytes = v * Math.pow(base, power);
    if (bytes < 1 || bytes > Long.MAX_VALUE / 2) {
      throw new IllegalArgumentException("size '" + s + "' out of range");
    }
    return (long) bytes;
  }

  /** Human-readable, powers of 1000 ({@code 1.23 GB}). */
  public static String format(long bytes) {
    if (bytes < 1000) {
      return bytes + " B";
    }
    String[] u = {"kB", "MB", "GB", "TB", "PB"};
    double v = bytes;
    int i = -1;
    while (v >= 1000 && i < u.length - 1) {
      v /= 1000;
      i++;
    }
    return String.format(Locale.ROOT, "%.2f %s", v, u[i]);
  }
}
