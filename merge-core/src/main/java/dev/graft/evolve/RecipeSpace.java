package dev.graft.evolve;

import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.graft.op.OperatorSpec;
import dev.graft.op.ParamSpec;
import dev.graft.recipe.ModelRef;
import dev.graft.recipe.ParamValue;
import dev.graft.recipe.Recipe;
import dev.graft.recipe.RecipeWriter;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Recipe space (Sakana's parameter space, mergekit-evolve's genome): the genes are the evolvable parameters of a
 * recipe's merge operator, one set per layer group and per tensor filter (plus a catch-all set), per model for
 * per-model parameters. Bounds come from the operator's parameter declarations (one source of truth), narrowed to a
 * search range ({@code weight} [0, 1], {@code lambda} [0, 2], others their declared range) unless the evolve recipe
 * gives its own. A genome decodes into an ordinary mergekit recipe: the {@code models:} form with
 * {@code {filter, value}} lists for one layer group, the {@code slices:} form with one slice per group otherwise.
 *
 * @param recipe the recipe evolved (its non-evolved parameters are kept)
 * @param operator the recipe's operator
 * @param genes every gene, in genome order
 * @param groups layer groups
 * @param layersPerGroup layers in each group (0 with one group over a model without layers)
 * @param filters tensor-name filters with their own genes (the catch-all set comes after them)
 */
public record RecipeSpace(Recipe recipe, OperatorSpec operator, List<Gene> genes, int groups, int layersPerGroup, List<String> filters) {

  /**
   * One gene.
   *
   * @param param parameter name
   * @param group layer group
   * @param set filter index ({@code filters.size()} for the catch-all)
   * @param model the model (as the recipe names it) for a per-model parameter, null for a global one
   * @param lower search range
   * @param upper search range
   * @param start the starting value (the recipe's own value where it gives a number, else the default)
   */
  public record Gene(String param, int group, int set, String model, double lower, double upper, double start) {}

  /** The default search range of a parameter declared as {@code p}. */
  public static double[] defaultRange(ParamSpec p) {
    return switch (p.name()) {
      case "weight" -> new double[] {Math.max(p.min(), 0), Math.min(p.max(), 1)};
      case "lambda" -> new double[] {Math.max(p.min(), 0), Math.min(p.max(), 2)};
      default -> new double[] {p.min(), p.max()};
    };
  }

  /**
   * Builds the space.
   *
   * @param params names of the parameters to evolve (evolvable parameters of the operator)
   * @param groups layer groups (1 for none)
   * @param layersPerGroup layers per group
   * @param ranges search range per parameter name
   */
  public static RecipeSpace of(Recipe recipe, OperatorSpec op, List<String> params, int groups, int layersPerGroup, List<String> filters,
      Map<String, double[]> ranges) {
    List<String> models = evolvedModels(recipe, op);
    List<Gene> genes = new ArrayList<>();
    for (int g = 0; g < groups; g++) {
      for (int s = 0; s <= filters.size(); s++) {
        for (ParamSpec p : op.params()) {
          if (!params.contains(p.name())) {
            continue;
          }
          double[] r = ranges.get(p.name());
          if (p.scope() == ParamSpec.Scope.PER_MODEL) {
            for (String m : models) {
              genes.add(new Gene(p.name(), g, s, m, r[0], r[1], start(recipe, p, m, models.size(), r)));
            }
          } else {
            genes.add(new Gene(p.name(), g, s, null, r[0], r[1], start(recipe, p, null, models.size(), r)));
          }
        }
      }
    }
    return new RecipeSpace(recipe, op, List.copyOf(genes), groups, layersPerGroup, List.copyOf(filters));
  }

  /** The models that get per-model genes: all of them but the base, for operators that merge task vectors. */
  static List<String> evolvedModels(Recipe r, OperatorSpec op) {
    String base = r.baseModel() == null ? null : r.baseModel().toString();
    List<String> out = new ArrayList<>();
    for (Recipe.InputModel m : r.models()) {
      String ref = m.model().toString();
      boolean isBase = ref.equals(base) && (op.base() == OperatorSpec.BaseUse.REQUIRED || op.base() == OperatorSpec.BaseUse.OPTIONAL);
      if (!isBase && !out.contains(ref)) {
        out.add(ref);
      }
    }
    return out;
  }

  private static double start(Recipe r, ParamSpec p, String model, int models, double[] range) {
    Double v = null;
    if (model != null) {
      for (Recipe.InputModel m : r.models()) {
        if (m.model().toString().equals(model) && m.parameters().get(p.name()) instanceof ParamValue.Scalar s && s.value() instanceof Double d) {
          v = d;
        }
      }
    }
    if (v == null && r.parameters().get(p.name()) instanceof ParamValue.Scalar s && s.value() instanceof Double d) {
      v = d;
    }
    if (v == null && p.defaultValue() instanceof Double d) {
      v = d;
    }
    if (v == null) {
      v = p.name().equals("weight") ? 1.0 / Math.max(1, models) : (range[0] + range[1]) / 2;
    }
    return Math.max(range[0], Math.min(range[1], v));
  }

  public int size() {
    return genes.size();
  }

  public Bounds bounds() {
    double[] lo = new double[genes.size()];
    double[] hi = new double[genes.size()];
    for (int i = 0; i < lo.length; i++) {
      lo[i] = genes.get(i).lower();
      hi[i] = genes.get(i).upper();
    }
    return new Bounds(lo, hi);
  }

  /** The starting genome: the recipe's own values where it gives numbers. */
  public Genome.Genes start() {
    return new Genome.Genes(genes.stream().mapToDouble(Gene::start).toArray());
  }

  /** A readable name of gene {@code i}, e.g. {@code weight[layers 0-3][mlp](ft-1)}. */
  public String geneName(int i) {
    Gene g = genes.get(i);
    StringBuilder b = new StringBuilder(g.param());
    if (groups > 1) {
      b.append("[layers ").append(g.group() * layersPerGroup).append('-').append((g.group() + 1) * layersPerGroup - 1).append(']');
    }
    if (!filters.isEmpty()) {
      b.append('[').append(g.set() < filters.size() ? filters.get(g.set()) : "*").append(']');
    }
    if (g.model() != null) {
      b.append('(').append(g.model()).append(')');
    }
    return b.toString();
  }

  /** The recipe a genome stands for. */
  public Recipe decode(Genome.Genes genome) {
    double[] x = genome.values();
    if (x.length != genes.size()) {
      throw new IllegalArgumentException("genome of " + x.length + " genes, space of " + genes.size());
    }
    // values[group][param][model or ""][set]
    Map<Integer, Map<String, Map<String, double[]>>> v = new LinkedHashMap<>();
    for (int i = 0; i < x.length; i++) {
      Gene g = genes.get(i);
      v.computeIfAbsent(g.group(), k -> new LinkedHashMap<>()).computeIfAbsent(g.param(), k -> new LinkedHashMap<>())
          .computeIfAbsent(g.model() == null ? "" : g.model(), k -> new double[filters.size() + 1])[g.set()] = x[i];
    }
    if (groups == 1) {
      Map<String, Map<String, double[]>> gv = v.getOrDefault(0, Map.of());
      List<Recipe.InputModel> ms = new ArrayList<>();
      for (Recipe.InputModel m : recipe.models()) {
        ms.add(new Recipe.InputModel(m.model(), withGenes(m.parameters(), gv, m.model().toString())));
      }
      return recipe.withModels(ms).withParameters(withGenes(recipe.parameters(), gv, ""));
    }
    List<Recipe.Slice> slices = new ArrayList<>();
    List<ModelRef> refs = new ArrayList<>();
    recipe.models().forEach(m -> refs.add(m.model()));
    if (recipe.baseModel() != null && refs.stream().noneMatch(m -> m.toString().equals(recipe.baseModel().toString()))) {
      refs.add(0, recipe.baseModel());
    }
    for (int g = 0; g < groups; g++) {
      Map<String, Map<String, double[]>> gv = v.getOrDefault(g, Map.of());
      List<Recipe.SliceSource> srcs = new ArrayList<>();
      for (ModelRef ref : refs) {
        Map<String, ParamValue> own = recipe.models().stream().filter(m -> m.model().toString().equals(ref.toString()))
            .findFirst().map(Recipe.InputModel::parameters).orElse(Map.of());
        srcs.add(new Recipe.SliceSource(ref, g * layersPerGroup, (g + 1) * layersPerGroup, withGenes(own, gv, ref.toString())));
      }
      slices.add(new Recipe.Slice(srcs, recipe.baseModel(), withGenes(Map.of(), gv, "")));
    }
    return recipe.withSlices(slices).withParameters(without(recipe.parameters(), v.getOrDefault(0, Map.of()).keySet()));
  }

  private Map<String, ParamValue> withGenes(Map<String, ParamValue> own, Map<String, Map<String, double[]>> gv, String model) {
    Map<String, ParamValue> out = new LinkedHashMap<>(own);
    gv.forEach((param, byModel) -> {
      double[] sets = byModel.get(model);
      if (sets != null) {
        out.put(param, value(sets));
      }
    });
    return out;
  }

  private static Map<String, ParamValue> without(Map<String, ParamValue> p, java.util.Set<String> keys) {
    Map<String, ParamValue> out = new LinkedHashMap<>(p);
    keys.forEach(out::remove);
    return out;
  }

  private ParamValue value(double[] sets) {
    if (filters.isEmpty()) {
      return new ParamValue.Scalar(sets[0]);
    }
    List<ParamValue.Condition> cs = new ArrayList<>();
    for (int s = 0; s < filters.size(); s++) {
      cs.add(new ParamValue.Condition(filters.get(s), new ParamValue.Scalar(sets[s])));
    }
    cs.add(new ParamValue.Condition(null, new ParamValue.Scalar(sets[filters.size()])));
    return new ParamValue.Filtered(cs);
  }

  /** What the run's record keeps of a genome: the genes and the recipe they decode to. */
  public ObjectNode describe(Genome g) {
    ObjectNode n = States.JSON.createObjectNode();
    ArrayNode a = n.putArray("genes");
    for (double v : ((Genome.Genes) g).values()) {
      a.add(v);
    }
    n.put("recipe", RecipeWriter.write(decode((Genome.Genes) g)));
    return n;
  }
}
