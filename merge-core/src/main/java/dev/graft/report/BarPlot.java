package dev.graft.report;

import java.awt.Color;
import java.awt.Font;
import java.awt.Graphics2D;
import java.awt.image.BufferedImage;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;

/** Horizontal bars with labels and values (e.g. held-out accuracy per merge method), rendered to PNG with Java2D. */
public final class BarPlot {
  /**
   * One bar.
   *
   * @param label text left of the bar
   * @param value its length
   * @param group colour group (0, 1, 2, ...)
   */
  public record Bar(String label, double value, int group) {}

  private static final Color[] GROUPS = {new Color(0x7f7f7f), new Color(0x1f77b4), new Color(0xd62728), new Color(0x2ca02c)};

  private final String title;
  private final String axis;
  private final List<Bar> bars = new ArrayList<>();

  public BarPlot(String title, String axis) {
    this.title = title;
    this.axis = axis;
  }

  public BarPlot add(Bar b) {
    bars.add(b);
    return this;
  }

  public byte[] png(int width) {
    int rowH = 26;
    int top = 44;
    int height = top + rowH * bars.size() + 50;
    BufferedImage img = Png.canvas(width, height);
    Graphics2D g = Png.graphics(img);
    try {
      int left = 10 + bars.stream().mapToInt(b -> g.getFontMetrics().stringWidth(b.label())).max().orElse(0) + 10;
      int right = width - 70;
      double max = Math.max(1e-12, bars.stream().mapToDouble(Bar::value).max().orElse(1));
      for (int i = 0; i < bars.size(); i++) {
        Bar b = bars.get(i);
        int y = top + i * rowH;
        int len = (int) Math.round(Math.max(0, b.value()) / max * (right - left));
        g.setColor(GROUPS[Math.floorMod(b.group(), GROUPS.length)]);
        g.fillRect(left, y + 4, len, rowH - 8);
        g.setColor(Color.BLACK);
        g.drawString(b.label(), left - 10 - g.getFontMetrics().stringWidth(b.label()), y + rowH / 2 + 4);
        g.drawString(String.format(Locale.ROOT, "%.4f", b.value()), left + len + 6, y + rowH / 2 + 4);
      }
      g.drawLine(left, top, left, top + rowH * bars.size());
      g.drawString(axis, (left + right) / 2 - g.getFontMetrics().stringWidth(axis) / 2, height - 16);
      g.setFont(new Font(Font.SANS_SERIF, Font.BOLD, 14));
      g.drawString(title, 10, 24);
    } finally {
      g.dispose();
    }
    return Png.encode(img);
  }
}
