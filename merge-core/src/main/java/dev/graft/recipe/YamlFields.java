package dev.graft.recipe;

import dev.graft.InvalidInputException;
import dev.graft.internal.Names;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.function.BiConsumer;
import org.snakeyaml.engine.v2.api.LoadSettings;
import org.snakeyaml.engine.v2.api.lowlevel.Compose;
import org.snakeyaml.engine.v2.exceptions.Mark;
import org.snakeyaml.engine.v2.exceptions.MarkedYamlEngineException;
import org.snakeyaml.engine.v2.exceptions.YamlEngineException;
import org.snakeyaml.engine.v2.nodes.MappingNode;
import org.snakeyaml.engine.v2.nodes.Node;
import org.snakeyaml.engine.v2.nodes.NodeTuple;
import org.snakeyaml.engine.v2.nodes.ScalarNode;
import org.snakeyaml.engine.v2.nodes.SequenceNode;

/**
 * Typed, located reads of a small YAML file (task definitions and the like): every problem is collected with
 * file:line:column, the key path and a did-you-mean, and {@link #done()} reports them all at once as a
 * {@link RecipeException}.
 */
public final class YamlFields {
  private final String file;
  private final String what;
  private final List<Problem> problems = new ArrayList<>();

  private YamlFields(String file, String what) {
    this.file = file;
    this.what = what;
  }

  /** Reads {@code file}, whose top level must be a mapping with keys from {@code allowed}. */
  public static Obj read(Path file, String what, Set<String> allowed) {
    try {
      return parse(Files.readString(file, StandardCharsets.UTF_8), file.toString(), what, allowed);
    } catch (NoSuchFileException e) {
      throw new InvalidInputException(file + " does not exist");
    } catch (IOException e) {
      throw new InvalidInputException("cannot read " + file + ": " + e.getMessage());
    }
  }

  /** Parses YAML text; {@code label} names it in messages, {@code what} says what it is ("task"). */
  public static Obj parse(String text, String label, String what, Set<String> allowed) {
    YamlFields y = new YamlFields(label, what);
    Node root;
    try {
      LoadSettings settings = LoadSettings.builder().setLabel(label).setUseMarks(true).build();
      root = new Compose(settings).composeString(text).orElse(null);
    } catch (YamlEngineException e) {
      throw new RecipeException(List.of(syntaxProblem(e, label)), what);
    }
    if (root == null) {
      throw new RecipeException(List.of(new Problem(label, 0, 0, "", "the file is empty", "")), what);
    }
    Obj o = y.new Obj(root, "", allowed);
    if (o.entries == null) {
      y.done();
    }
    return o;
  }

  /** Throws every collected problem; returns normally when there were none. */
  public void done() {
    if (!problems.isEmpty()) {
      throw new RecipeException(problems, what);
    }
  }

  /** The file's label. */
  public String file() {
    return file;
  }

  private void add(Node n, String path, String message, String hint) {
    Location l = n == null ? Location.UNKNOWN
        : n.getStartMark().map(m -> new Location(m.getLine() + 1, m.getColumn() + 1)).orElse(Location.UNKNOWN);
    problems.add(new Problem(file, l.line(), l.column(), path, message, hint));
  }

  /** Receives a problem found at a node. */
  @FunctionalInterface
  interface Sink {
    void problem(Node n, String path, String message, String hint);
  }

  /** A YAML syntax error as a located problem. */
  public static Problem syntaxProblem(YamlEngineException e, String label) {
    if (e instanceof MarkedYamlEngineException me) {
      Mark m = me.getProblemMark().or(me::getContextMark).orElse(null);
      String msg = me.getProblem() == null ? "invalid YAML" : "invalid YAML: " + me.getProblem();
      return new Problem(label, m == null ? 0 : m.getLine() + 1, m == null ? 0 : m.getColumn() + 1, "", msg,
          me.getContext() == null ? "" : "(" + me.getContext() + ")");
    }
    return new Problem(label, 0, 0, "", "invalid YAML: " + e.getMessage(), "");
  }

  /**
   * The entries of a mapping node by key, or null (with a problem) when {@code n} is not a mapping. Keys that are not
   * plain strings, repeated, or (when {@code allowed} is given) unknown are reported, with a did-you-mean, and left
   * out; {@code onKey} sees the path and node of every key.
   */
  static Map<String, Node> entries(Node n, String path, Set<String> allowed, Sink sink, BiConsumer<String, Node> onKey) {
    if (!(n instanceof MappingNode m)) {
      sink.problem(n, path, "expected a mapping (key: value), found " + RecipeReader.describe(n), "");
      return null;
    }
    Map<String, Node> out = new LinkedHashMap<>();
    for (NodeTuple t : m.getValue()) {
      if (!(t.getKeyNode() instanceof ScalarNode ks)) {
        sink.problem(t.getKeyNode(), path, "keys must be plain strings", "");
        continue;
      }
      String k = ks.getValue();
      String kp = path.isEmpty() ? k : path + "." + k;
      onKey.accept(kp, t.getKeyNode());
      if (out.containsKey(k)) {
        sink.problem(t.getKeyNode(), kp, "duplicate key '" + k + "'", "Remove one of them");
      } else if (allowed != null && !allowed.contains(k)) {
        sink.problem(t.getKeyNode(), kp, "unknown key '" + k + "' (expected one of: " + String.join(", ", allowed.stream().sorted().toList()) + ")",
            Names.didYouMean(k, allowed));
      } else {
        out.put(k, t.getValueNode());
      }
    }
    return out;
  }

  /** A mapping of the file. Absent keys give the default; wrong ones record a problem and give the default. */
  public final class Obj {
    private final Node node;
    private final String path;
    private final Map<String, Node> entries;

    private Obj(Node node, String path, Set<String> allowed) {
      this.node = node;
      this.path = path;
      this.entries = entries(node, path, allowed, YamlFields.this::add, (p, k) -> { });
    }

    /** The enclosing reader, for {@link YamlFields#done()}. */
    public YamlFields fields() {
      return YamlFields.this;
    }

    private String key(String k) {
      return path.isEmpty() ? String.valueOf(k) : path + "." + k;
    }

    private Node get(String k) {
      Node n = entries == null ? null : entries.get(k);
      return n instanceof ScalarNode s && RecipeReader.scalar(s) == null ? null : n;
    }

    public boolean has(String k) {
      return get(k) != null;
    }

    /** Whether {@code k} holds a mapping (rather than a scalar or a list). */
    public boolean isMapping(String k) {
      return get(k) instanceof org.snakeyaml.engine.v2.nodes.MappingNode;
    }

    /** Records a problem at key {@code k} (or at this mapping when absent). */
    public void problem(String k, String message, String hint) {
      Node n = entries == null ? null : entries.get(k);
      add(n == null ? node : n, key(k), message, hint);
    }

    private Object scalar(String k, String expected) {
      Node n = get(k);
      if (n == null) {
        return null;
      }
      if (!(n instanceof ScalarNode s)) {
        add(n, key(k), "expected " + expected + ", found " + RecipeReader.describe(n), "");
        return null;
      }
      return RecipeReader.scalar(s);
    }

    /** A string; {@code required} records a problem when absent. */
    public String string(String k, String fallback, boolean required) {
      Object v = scalar(k, "a string");
      if (v == null) {
        if (required && !has(k)) {
          add(node, key(k), "missing required key '" + k + "'", "");
        }
        return fallback;
      }
      return v.toString();
    }

    /** A scalar as written in the file (e.g. {@code 2} stays "2", not 2.0), for settings passed on to other programs. */
    public String text(String k) {
      Node n = get(k);
      if (n == null) {
        return null;
      }
      if (!(n instanceof ScalarNode s)) {
        add(n, key(k), "expected a value, found " + RecipeReader.describe(n), "");
        return null;
      }
      return s.getValue();
    }

    /** One of {@code choices}. */
    public String choice(String k, String fallback, Set<String> choices, boolean required) {
      String v = string(k, null, required);
      if (v == null) {
        return fallback;
      }
      if (!choices.contains(v)) {
        add(get(k), key(k), "'" + v + "' is not one of " + choices.stream().sorted().toList(), Names.didYouMean(v, choices));
        return fallback;
      }
      return v;
    }

    /** A number in [min, max]. */
    public double number(String k, double fallback, double min, double max) {
      Object v = scalar(k, "a number");
      if (v == null) {
        return fallback;
      }
      if (!(v instanceof Double d) || d < min || d > max) {
        add(get(k), key(k), "expected a number in [" + min + ", " + max + "], found " + v, "");
        return fallback;
      }
      return d;
    }

    /** An integer in [min, max]. */
    public long integer(String k, long fallback, long min, long max) {
      Object v = scalar(k, "an integer");
      if (v == null) {
        return fallback;
      }
      if (!(v instanceof Double d) || d != Math.rint(d) || d < min || d > max) {
        add(get(k), key(k), "expected an integer in [" + min + ", " + max + "], found " + RecipeReader.describe(get(k)), "");
        return fallback;
      }
      return d.longValue();
    }

    /** true or false. */
    public boolean bool(String k, boolean fallback) {
      Object v = scalar(k, "true or false");
      if (v == null) {
        return fallback;
      }
      if (!(v instanceof Boolean b)) {
        add(get(k), key(k), "expected true or false, found " + v, "");
        return fallback;
      }
      return b;
    }

    /** A list of integers (a single integer is a list of one). */
    public int[] ints(String k) {
      Node n = get(k);
      if (n == null) {
        return null;
      }
      List<Node> items = n instanceof SequenceNode s ? s.getValue() : List.of(n);
      int[] out = new int[items.size()];
      for (int i = 0; i < out.length; i++) {
        Object v = items.get(i) instanceof ScalarNode s ? RecipeReader.scalar(s) : null;
        if (!(v instanceof Double d) || d != Math.rint(d)) {
          add(items.get(i), key(k) + "[" + i + "]", "expected an integer, found " + RecipeReader.describe(items.get(i)), "");
          return null;
        }
        out[i] = d.intValue();
      }
      return out;
    }

    /** The keys present, in file order. */
    public java.util.Set<String> keys() {
      return entries == null ? Set.of() : java.util.Collections.unmodifiableSet(entries.keySet());
    }

    /** A list of strings (a single string is a list of one), or null when absent. */
    public List<String> strings(String k) {
      Node n = get(k);
      if (n == null) {
        return null;
      }
      List<Node> items = n instanceof SequenceNode s ? s.getValue() : List.of(n);
      List<String> out = new ArrayList<>();
      for (int i = 0; i < items.size(); i++) {
        Object v = items.get(i) instanceof ScalarNode s ? RecipeReader.scalar(s) : null;
        if (!(v instanceof String str)) {
          add(items.get(i), key(k) + "[" + i + "]", "expected a string, found " + RecipeReader.describe(items.get(i)), "");
          return null;
        }
        out.add(str);
      }
      return out;
    }

    /** A list of {@code count} numbers, or null when absent. */
    public double[] numbers(String k, int count) {
      Node n = get(k);
      if (n == null) {
        return null;
      }
      if (!(n instanceof SequenceNode s) || s.getValue().size() != count) {
        add(n, key(k), "expected a list of " + count + " numbers, found " + RecipeReader.describe(n), "");
        return null;
      }
      double[] out = new double[count];
      for (int i = 0; i < count; i++) {
        Object v = s.getValue().get(i) instanceof ScalarNode sc ? RecipeReader.scalar(sc) : null;
        if (!(v instanceof Double d)) {
          add(s.getValue().get(i), key(k) + "[" + i + "]", "expected a number, found " + RecipeReader.describe(s.getValue().get(i)), "");
          return null;
        }
        out[i] = d;
      }
      return out;
    }

    /**
     * A list whose items are strings or mappings (with keys from {@code allowed}); a single item is a list of one.
     * Each element of the result is a {@link String} or an {@link Obj}; null when absent.
     */
    public List<Object> items(String k, Set<String> allowed) {
      Node n = get(k);
      if (n == null) {
        return null;
      }
      List<Node> items = n instanceof SequenceNode s ? s.getValue() : List.of(n);
      List<Object> out = new ArrayList<>();
      for (int i = 0; i < items.size(); i++) {
        Node it = items.get(i);
        Object v = it instanceof ScalarNode s ? RecipeReader.scalar(s) : null;
        if (v instanceof String str) {
          out.add(str);
        } else if (it instanceof MappingNode) {
          Obj o = new Obj(it, key(k) + "[" + i + "]", allowed);
          if (o.entries != null) {
            out.add(o);
          }
        } else {
          add(it, key(k) + "[" + i + "]", "expected a string or a mapping, found " + RecipeReader.describe(it), "");
        }
      }
      return out;
    }

    /** The line of key {@code k} (or of this mapping), 0 when unknown. */
    public int line(String k) {
      Node n = entries == null ? null : entries.get(k);
      Node at = n == null ? node : n;
      return at.getStartMark().map(m -> m.getLine() + 1).orElse(0);
    }

    /** A nested mapping, or null when absent. */
    public Obj object(String k, Set<String> allowed) {
      Node n = get(k);
      if (n == null) {
        return null;
      }
      Obj o = new Obj(n, key(k), allowed);
      return o.entries == null ? null : o;
    }
  }
}
