package dev.graft.recipe;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.snakeyaml.engine.v2.api.Dump;
import org.snakeyaml.engine.v2.api.DumpSettings;
import org.snakeyaml.engine.v2.common.FlowStyle;

/** Writes recipes back as mergekit YAML (what {@link RecipeReader} reads: write then read gives an equal recipe). */
public final class RecipeWriter {
  private RecipeWriter() {}

  /** One or more documents, separated by {@code ---}. */
  public static String write(List<Recipe> recipes) {
    StringBuilder b = new StringBuilder();
    for (int i = 0; i < recipes.size(); i++) {
      if (i > 0) {
        b.append("---\n");
      }
      b.append(write(recipes.get(i)));
    }
    return b.toString();
  }

  public static String write(Recipe r) {
    DumpSettings settings = DumpSettings.builder().setDefaultFlowStyle(FlowStyle.BLOCK).setIndent(2).setIndicatorIndent(0).setWidth(120).build();
    return new Dump(settings).dumpToString(toMap(r));
  }

  /** A parameter value on one line, in YAML flow style: {@code 0.5}, {@code [0.0, 1.0]}, {@code [{filter: mlp, value: 0.3}]}. */
  public static String inline(ParamValue v) {
    DumpSettings settings = DumpSettings.builder().setDefaultFlowStyle(FlowStyle.FLOW).setWidth(Integer.MAX_VALUE).build();
    return new Dump(settings).dumpToString(value(v)).strip();
  }

  static Map<String, Object> toMap(Recipe r) {
    Map<String, Object> m = new LinkedHashMap<>();
    put(m, "name", r.name());
    m.put("merge_method", r.mergeMethod());
    put(m, "base_model", r.baseModel() == null ? null : r.baseModel().toString());
    if (!r.models().isEmpty()) {
      List<Object> ms = new ArrayList<>();
      for (Recipe.InputModel im : r.models()) {
        Map<String, Object> e = new LinkedHashMap<>();
        e.put("model", im.model().toString());
        if (!im.parameters().isEmpty()) {
          e.put("parameters", params(im.parameters()));
        }
        ms.add(e);
      }
      m.put("models", ms);
    } else {
      List<Object> ss = new ArrayList<>();
      for (Recipe.Slice s : r.slices()) {
        Map<String, Object> e = new LinkedHashMap<>();
        List<Object> srcs = new ArrayList<>();
        for (Recipe.SliceSource so : s.sources()) {
          Map<String, Object> x = new LinkedHashMap<>();
          x.put("model", so.model().toString());
          x.put("layer_range", List.of(so.start(), so.end()));
          if (!so.parameters().isEmpty()) {
            x.put("parameters", params(so.parameters()));
          }
          srcs.add(x);
        }
        e.put("sources", srcs);
        put(e, "base_model", s.baseModel() == null ? null : s.baseModel().toString());
        if (!s.parameters().isEmpty()) {
          e.put("parameters", params(s.parameters()));
        }
        ss.add(e);
      }
      m.put("slices", ss);
    }
    if (!r.parameters().isEmpty()) {
      m.put("parameters", params(r.parameters()));
    }
    put(m, "dtype", r.dtype());
    put(m, "out_dtype", r.outDtype());
    if (r.tokens().isEmpty() && r.padToMultipleOf() == 0) {
      put(m, "tokenizer_source", r.tokenizerSource());
    } else { // per-token sources and padding exist only in the tokenizer: block
      Map<String, Object> tk = new LinkedHashMap<>();
      put(tk, "source", r.tokenizerSource());
      Map<String, Object> ts = new LinkedHashMap<>();
      r.tokens().forEach((token, s) -> {
        Map<String, Object> e = new LinkedHashMap<>();
        if (s.kind().equals("model")) {
          e.put("source", s.model());
        } else {
          Map<String, Object> src = new LinkedHashMap<>();
          src.put("kind", s.kind());
          put(src, "model", s.model());
          put(src, "token", s.token());
          if (s.tokenId() >= 0) {
            src.put("token_id", s.tokenId());
          }
          e.put("source", src);
        }
        if (s.force()) {
          e.put("force", true);
        }
        ts.put(token, e);
      });
      if (!ts.isEmpty()) {
        tk.put("tokens", ts);
      }
      if (r.padToMultipleOf() > 0) {
        tk.put("pad_to_multiple_of", r.padToMultipleOf());
      }
      m.put("tokenizer", tk);
    }
    put(m, "chat_template", r.chatTemplate());
    if (r.align() != null) {
      Map<String, Object> a = new LinkedHashMap<>();
      a.put("method", r.align().method());
      a.put("reference", r.align().reference());
      a.put("spec", r.align().spec());
      a.put("max_sweeps", r.align().maxSweeps());
      m.put("align", a);
    }
    return m;
  }

  private static void put(Map<String, Object> m, String k, Object v) {
    if (v != null) {
      m.put(k, v);
    }
  }

  private static Map<String, Object> params(Map<String, ParamValue> ps) {
    Map<String, Object> out = new LinkedHashMap<>();
    ps.forEach((k, v) -> out.put(k, value(v)));
    return out;
  }

  static Object value(ParamValue v) {
    return switch (v) {
      case ParamValue.Scalar s -> s.value();
      case ParamValue.Gradient g -> g.points();
      case ParamValue.Filtered f -> {
        List<Object> cs = new ArrayList<>();
        for (ParamValue.Condition c : f.conditions()) {
          Map<String, Object> e = new LinkedHashMap<>();
          if (c.filter() != null) {
            e.put("filter", c.filter());
          }
          e.put("value", value(c.value()));
          cs.add(e);
        }
        yield cs;
      }
    };
  }
}
