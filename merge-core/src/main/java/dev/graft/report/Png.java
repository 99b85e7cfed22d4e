package dev.graft.report;

import java.awt.image.BufferedImage;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.UncheckedIOException;
import javax.imageio.ImageIO;

/** What the plots share: a blank canvas, axis ticks and labels, PNG encoding. */
final class Png {
  private Png() {}

  /** A white, antialiased {@code width} × {@code height} image (headless). */
  static BufferedImage canvas(int width, int height) {
    System.setProperty("java.awt.headless", "true");
    BufferedImage img = new BufferedImage(width, height, BufferedImage.TYPE_INT_RGB);
    java.awt.Graphics2D g = img.createGraphics();
    g.setColor(java.awt.Color.WHITE);
    g.fillRect(0, 0, width, height);
    g.dispose();
    return img;
  }

  /** A drawing context on {@code img}, antialiased, 12-point sans-serif. */
  static java.awt.Graphics2D graphics(BufferedImage img) {
    java.awt.Graphics2D g = img.createGraphics();
    g.setRenderingHint(java.awt.RenderingHints.KEY_ANTIALIASING, java.awt.RenderingHints.VALUE_ANTIALIAS_ON);
    g.setRenderingHint(java.awt.RenderingHints.KEY_TEXT_ANTIALIASING, java.awt.RenderingHints.VALUE_TEXT_ANTIALIAS_ON);
    g.setFont(new java.awt.Font(java.awt.Font.SANS_SERIF, java.awt.Font.PLAIN, 12));
    return g;
  }

  /**
   * Five-step ticks on the frame [left, right] × [top, bottom] for the value ranges [x0, x1] and [y0, y1], and the
   * axis labels (the y label turned a quarter).
   */
  static void axes(java.awt.Graphics2D g, int left, int right, int top, int bottom, int height, double x0, double x1, double y0, double y1,
      String xLabel, String yLabel) {
    for (int k = 0; k <= 5; k++) {
      int py = bottom - (bottom - top) * k / 5;
      int px = left + (right - left) * k / 5;
      String ty = String.format(java.util.Locale.ROOT, "%.3g", y0 + (y1 - y0) * k / 5);
      String tx = String.format(java.util.Locale.ROOT, "%.3g", x0 + (x1 - x0) * k / 5);
      g.drawString(ty, left - 6 - g.getFontMetrics().stringWidth(ty), py + 4);
      g.drawString(tx, px - g.getFontMetrics().stringWidth(tx) / 2, bottom + 16);
    }
    g.drawString(xLabel, (left + right) / 2 - g.getFontMetrics().stringWidth(xLabel) / 2, height - 12);
    java.awt.Graphics2D gy = (java.awt.Graphics2D) g.create();
    gy.rotate(-Math.PI / 2);
    gy.drawString(yLabel, -(top + bottom) / 2 - g.getFontMetrics().stringWidth(yLabel) / 2, 16);
    gy.dispose();
  }

  static byte[] encode(BufferedImage img) {
    try {
      ByteArrayOutputStream out = new ByteArrayOutputStream();
      ImageIO.write(img, "png", out);
      return out.toByteArray();
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }
}
