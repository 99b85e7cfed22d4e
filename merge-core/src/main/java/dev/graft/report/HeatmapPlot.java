package dev.graft.report;

import java.awt.Color;
import java.awt.Font;
import java.awt.Graphics2D;
import java.awt.RenderingHints;
import java.awt.image.BufferedImage;
import java.util.Locale;

/**
 * A grid of cells coloured by value (a MAP-Elites map: elite fitness per behaviour cell), empty cells white, with a
 * colour bar; rendered to PNG with Java2D (headless).
 */
public final class HeatmapPlot {
  private final String title;
  private final String xLabel;
  private final String yLabel;
  private final double[] xRange;
  private final double[] yRange;
  private final double[][] values;

  /**
   * @param values {@code values[i][j]}: cell {@code i} along x, {@code j} along y; NaN for an empty cell
   * @param xRange lower and upper end of the x axis
   * @param yRange lower and upper end of the y axis
   */
  public HeatmapPlot(String title, String xLabel, String yLabel, double[] xRange, double[] yRange, double[][] values) {
    this.title = title;
    this.xLabel = xLabel;
    this.yLabel = yLabel;
    this.xRange = xRange.clone();
    this.yRange = yRange.clone();
    this.values = values;
  }

  /** Viridis-like ramp from dark blue (0) to yellow (1). */
  static Color ramp(double t) {
    t = Math.max(0, Math.min(1, t));
    float[][] stops = {{0.267f, 0.005f, 0.329f}, {0.229f, 0.322f, 0.546f}, {0.128f, 0.567f, 0.551f}, {0.369f, 0.789f, 0.383f}, {0.993f, 0.906f, 0.144f}};
    double x = t * (stops.length - 1);
    int i = Math.min(stops.length - 2, (int) Math.floor(x));
    double f = x - i;
    float[] a = stops[i];
    float[] b = stops[i + 1];
    return new Color((float) (a[0] + f * (b[0] - a[0])), (float) (a[1] + f * (b[1] - a[1])), (float) (a[2] + f * (b[2] - a[2])));
  }

  public byte[] png(int width, int height) {
    BufferedImage img = Png.canvas(width, height);
    Graphics2D g = Png.graphics(img);
    g.setRenderingHint(RenderingHints.KEY_ANTIALIASING, RenderingHints.VALUE_ANTIALIAS_OFF); // crisp cells
    try {
      int nx = values.length;
      int ny = nx == 0 ? 0 : values[0].length;
      double lo = Double.POSITIVE_INFINITY;
      double hi = Double.NEGATIVE_INFINITY;
      for (double[] col : values) {
        for (double v : col) {
          if (Double.isFinite(v)) {
            lo = Math.min(lo, v);
            hi = Math.max(hi, v);
          }
        }
      }
      if (!(hi > lo)) {
        hi = lo + 1e-9;
      }
      int left = 70;
      int right = width - 110;
      int top = 40;
      int bottom = height - 50;
      g.setFont(new Font(Font.SANS_SERIF, Font.PLAIN, 12));
      for (int i = 0; i < nx; i++) {
        for (int j = 0; j < ny; j++) {
          int px0 = left + (right - left) * i / nx;
          int px1 = left + (right - left) * (i + 1) / nx;
          int py0 = bottom - (bottom - top) * (j + 1) / ny;
          int py1 = bottom - (bottom - top) * j / ny;
          double v = values[i][j];
          g.setColor(Double.isFinite(v) ? ramp((v - lo) / (hi - lo)) : Color.WHITE);
          g.fillRect(px0, py0, px1 - px0, py1 - py0);
          g.setColor(new Color(0xeeeeee));
          g.drawRect(px0, py0, px1 - px0, py1 - py0);
        }
      }
      g.setColor(Color.BLACK);
      g.drawRect(left, top, right - left, bottom - top);
      Png.axes(g, left, right, top, bottom, height, xRange[0], xRange[1], yRange[0], yRange[1], xLabel, yLabel);
      int barLeft = right + 30;
      for (int py = top; py <= bottom; py++) {
        g.setColor(ramp((bottom - py) / (double) (bottom - top)));
        g.drawLine(barLeft, py, barLeft + 16, py);
      }
      g.setColor(Color.BLACK);
      g.drawRect(barLeft, top, 16, bottom - top);
      g.drawString(String.format(Locale.ROOT, "%.3g", hi), barLeft + 20, top + 10);
      g.drawString(String.format(Locale.ROOT, "%.3g", lo), barLeft + 20, bottom);
      g.setFont(new Font(Font.SANS_SERIF, Font.BOLD, 14));
      g.drawString(title, left, 24);
    } finally {
      g.dispose();
    }
    return Png.encode(img);
  }
}
