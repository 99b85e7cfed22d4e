package dev.graft.report;

import java.awt.BasicStroke;
import java.awt.Color;
import java.awt.Font;
import java.awt.Graphics2D;
import java.awt.image.BufferedImage;
import java.util.ArrayList;
import java.util.List;

/** A plain line chart rendered to PNG with Java2D (headless): curves people would rather look at than read. */
public final class LinePlot {
  private static final Color[] PALETTE = {
    new Color(0x1f77b4), new Color(0xd62728), new Color(0x2ca02c), new Color(0xff7f0e), new Color(0x9467bd), new Color(0x8c564b),
    new Color(0xe377c2), new Color(0x7f7f7f), new Color(0xbcbd22), new Color(0x17becf)
  };

  /**
   * One curve.
   *
   * @param label legend text
   * @param x abscissae
   * @param y ordinates, as many as x
   * @param dashed drawn dashed
   * @param style how points are drawn
   */
  public record Series(String label, double[] x, double[] y, boolean dashed, Style style) {
    public Series {
      if (x.length != y.length) {
        throw new IllegalArgumentException("series " + label + ": " + x.length + " x values, " + y.length + " y values");
      }
    }

    /** A line through the points, with markers, in the legend. */
    public Series(String label, double[] x, double[] y, boolean dashed) {
      this(label, x, y, dashed, Style.LINE);
    }
  }

  /** How a series is drawn. */
  public enum Style {
    /** A line through the points with small markers, listed in the legend. */
    LINE,
    /** Markers only (larger), listed in the legend. */
    POINTS,
    /** A thin grey line without markers, not in the legend (e.g. edges of a lineage). */
    EDGE
  }

  private final String title;
  private final String xLabel;
  private final String yLabel;
  private final List<Series> series = new ArrayList<>();

  public LinePlot(String title, String xLabel, String yLabel) {
    this.title = title;
    this.xLabel = xLabel;
    this.yLabel = yLabel;
  }

  public LinePlot add(Series s) {
    series.add(s);
    return this;
  }

  /** The chart as PNG bytes, {@code width} × {@code height} pixels. */
  public byte[] png(int width, int height) {
    BufferedImage img = Png.canvas(width, height);
    Graphics2D g = Png.graphics(img);
    try {
      double x0 = Double.POSITIVE_INFINITY;
      double x1 = Double.NEGATIVE_INFINITY;
      double y0 = Double.POSITIVE_INFINITY;
      double y1 = Double.NEGATIVE_INFINITY;
      for (Series s : series) {
        for (int i = 0; i < s.x().length; i++) {
          if (Double.isFinite(s.y()[i])) {
            x0 = Math.min(x0, s.x()[i]);
            x1 = Math.max(x1, s.x()[i]);
            y0 = Math.min(y0, s.y()[i]);
            y1 = Math.max(y1, s.y()[i]);
          }
        }
      }
      if (!(x1 > x0)) {
        x1 = x0 + 1;
      }
      if (!(y1 > y0)) {
        y1 = y0 + 1;
      }
      double pad = (y1 - y0) * 0.05;
      y0 -= pad;
      y1 += pad;
      int left = 70;
      int right = width - 20;
      int top = 40;
      int bottom = height - 50;
      g.setFont(new Font(Font.SANS_SERIF, Font.PLAIN, 12));
      g.setColor(new Color(0xdddddd));
      for (int k = 0; k <= 5; k++) {
        int py = bottom - (bottom - top) * k / 5;
        int px = left + (right - left) * k / 5;
        g.drawLine(left, py, right, py);
        g.drawLine(px, top, px, bottom);
      }
      g.setColor(Color.BLACK);
      g.drawRect(left, top, right - left, bottom - top);
      Png.axes(g, left, right, top, bottom, height, x0, x1, y0, y1, xLabel, yLabel);
      g.setFont(new Font(Font.SANS_SERIF, Font.BOLD, 14));
      g.drawString(title, left, 24);
      g.setFont(new Font(Font.SANS_SERIF, Font.PLAIN, 12));
      int legend = 0;
      for (Series s : series) {
        boolean edge = s.style() == Style.EDGE;
        Color color = edge ? new Color(0xb0b0b0) : PALETTE[legend % PALETTE.length];
        g.setColor(color);
        g.setStroke(s.dashed() ? new BasicStroke(2f, BasicStroke.CAP_BUTT, BasicStroke.JOIN_ROUND, 1f, new float[] {6f, 4f}, 0f)
            : new BasicStroke(edge ? 1f : 2f));
        int prevX = -1;
        int prevY = -1;
        for (int i = 0; i < s.x().length; i++) {
          if (!Double.isFinite(s.y()[i])) {
            prevX = -1;
            continue;
          }
          int px = (int) Math.round(left + (s.x()[i] - x0) / (x1 - x0) * (right - left));
          int py = (int) Math.round(bottom - (s.y()[i] - y0) / (y1 - y0) * (bottom - top));
          if (prevX >= 0 && s.style() != Style.POINTS) {
            g.drawLine(prevX, prevY, px, py);
          }
          if (s.style() == Style.LINE) {
            g.fillOval(px - 2, py - 2, 5, 5);
          } else if (s.style() == Style.POINTS) {
            g.fillOval(px - 4, py - 4, 9, 9);
          }
          prevX = px;
          prevY = py;
        }
        if (!edge) {
          int ly = top + 16 + 16 * legend;
          if (s.style() == Style.POINTS) {
            g.fillOval(right - 142, ly - 8, 9, 9);
          } else {
            g.drawLine(right - 150, ly - 4, right - 125, ly - 4);
          }
          g.setColor(Color.BLACK);
          g.drawString(s.label(), right - 120, ly);
          legend++;
        }
      }
    } finally {
      g.dispose();
    }
    return Png.encode(img);
  }
}
