package dev.graft.plan;

import dev.graft.tensor.Shape;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

/**
 * Brings embedding-like tensors of different vocabulary sizes to the output's row count (chosen by
 * {@code tokenizer_source}). Token ids are assumed to agree on the rows models share (fine-tunes that add tokens add
 * them at the end). A row a model lacks is taken from the base model when it has the row, else it is the mean of
 * that row over the models that have it (mergekit's fill rule). Rows beyond the output's count are dropped.
 */
final class Vocab {
  private Vocab() {}

  /**
   * Rows matched by token ({@code tokenizer_source: union}): each input's row for every output row where it has the
   * token; where it lacks it, the fill model's row (the base) when that has the token, else the mean of the inputs
   * that have it (the only one's row when one has it), else zeros.
   */
  static List<float[]> byToken(List<float[]> data, List<int[]> rows, float[] fill, int[] fillRows, Shape out) {
    return byToken(data, rows, fill, fillRows, out, null, null, Map.of());
  }

  /**
   * {@link #byToken(List, List, float[], int[], Shape)} with {@code tokenizer.tokens} sources: an overridden row is
   * the source model's row (or zeros) for the inputs that lack the token, and for all of them when forced.
   *
   * @param labels the model label of each input in {@code data}
   * @param fillLabel the fill model's label, or null
   */
  static List<float[]> byToken(List<float[]> data, List<int[]> rows, float[] fill, int[] fillRows, Shape out, List<String> labels,
      String fillLabel, Map<Integer, UnionVocab.Override> overrides) {
    int cols = (int) out.dim(1);
    int n = (int) out.dim(0);
    Map<Integer, float[]> sourced = new java.util.HashMap<>();
    overrides.forEach((u, o) -> {
      float[] row = new float[cols];
      if (o.model() != null) {
        float[] src = null;
        for (int m = 0; m < data.size() && src == null; m++) {
          src = o.model().equals(labels.get(m)) ? data.get(m) : null;
        }
        if (src == null && o.model().equals(fillLabel)) {
          src = fill;
        }
        if (src == null) {
          throw new IllegalStateException("tokenizer.tokens source '" + o.model() + "' is not an input of this tensor");
        }
        System.arraycopy(src, o.row() * cols, row, 0, cols);
      }
      sourced.put(u, row);
    });
    List<float[]> res = new ArrayList<>();
    for (int m = 0; m < data.size(); m++) {
      float[] x = new float[n * cols];
      int[] mine = rows.get(m);
      for (int u = 0; u < n; u++) {
        UnionVocab.Override src = overrides.get(u);
        if (src != null && (src.force() || mine[u] < 0)) {
          System.arraycopy(sourced.get(u), 0, x, u * cols, cols);
        } else if (mine[u] >= 0) {
          System.arraycopy(data.get(m), mine[u] * cols, x, u * cols, cols);
        } else if (fill != null && fillRows[u] >= 0) {
          System.arraycopy(fill, fillRows[u] * cols, x, u * cols, cols);
        } else {
          int count = 0;
          for (int o = 0; o < data.size(); o++) {
            int r = rows.get(o)[u];
            if (r >= 0) {
              count++;
              for (int c = 0; c < cols; c++) {
                x[u * cols + c] += data.get(o)[r * cols + c];
              }
            }
          }
          for (int c = 0; c < cols && count > 1; c++) {
            x[u * cols + c] /= count;
          }
        }
      }
      res.add(x);
    }
    return res;
  }

  /** Rows matched by id: row r of every input is token r ({@link #byToken} with identity maps up to each row count). */
  static List<float[]> rectify(List<float[]> data, List<Shape> shapes, float[] fill, Shape fillShape, Shape out) {
    int rows = (int) out.dim(0);
    List<int[]> maps = new ArrayList<>();
    for (Shape s : shapes) {
      maps.add(identity((int) s.dim(0), rows));
    }
    List<float[]> res = byToken(data, maps, fill, fill == null ? null : identity((int) fillShape.dim(0), rows), out);
    for (int m = 0; m < data.size(); m++) {
      if (shapes.get(m).dim(0) == rows) {
        res.set(m, data.get(m)); // already the output's rows: the same values, without the copy
      }
    }
    return res;
  }

  private static int[] identity(int have, int rows) {
    int[] map = new int[rows];
    for (int u = 0; u < rows; u++) {
      map[u] = u < have ? u : -1;
    }
    return map;
  }
}
