package dev.graft.evolve;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.graft.io.AtomicFiles;
import dev.graft.report.HeatmapPlot;
import dev.graft.report.LinePlot;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Deque;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/**
 * A run's report, written from its record: {@code report.md} (outcome, best candidate with fit and held-out scores per
 * task, a table of generations, the best's lineage, the best recipe), {@code fitness.png} (best fitness, population
 * mean and the best's held-out score per generation), {@code map.png} (MAP-Elites: elite fitness per cell),
 * {@code lineage.png} (the best's ancestors: fitness against candidate id, an edge from each parent) and
 * {@code summary.json}.
 */
public final class EvolveReport {
  /** Most ancestors the lineage shows. */
  static final int MAX_ANCESTORS = 300;

  private EvolveReport() {}

  static List<Path> write(Path dir, EvolveSpec spec, Evolution.Outcome outcome, Optimizer optimizer, SearchSpace space) {
    List<Path> files = new ArrayList<>();
    try (RunRecord rec = RunRecord.open(dir)) {
      List<JsonNode> gens = rec.readGenerations();
      List<JsonNode> evals = rec.readEvaluations();
      StringBuilder md = new StringBuilder();
      md.append("# Evolution run: ").append(spec.name()).append("\n\n");
      md.append("| | |\n|---|---|\n");
      md.append("| space | ").append(spec.space()).append(" |\n");
      md.append("| optimizer | ").append(optimizer.method()).append(" |\n");
      md.append("| seed | ").append(spec.seed()).append(" |\n");
      md.append("| evaluations | ").append(outcome.evaluations()).append(" (").append(outcome.candidates()).append(" candidates) |\n");
      md.append("| stopped | ").append(outcome.stopReason()).append(" |\n");
      if (!gens.isEmpty()) {
        md.append("| time | ").append(String.format(Locale.ROOT, "%.1f s", gens.get(gens.size() - 1).get("seconds").asDouble())).append(" |\n");
      }
      md.append("\n");
      Evaluated best = outcome.best();
      if (best != null) {
        md.append("## Best candidate\n\n");
        md.append("Candidate ").append(best.id()).append(String.format(Locale.ROOT, ", fitness %.4f", best.fitness()));
        if (outcome.heldOut() != null) {
          md.append(String.format(Locale.ROOT, ", held-out %.4f", outcome.heldOut().fitness()));
        }
        md.append(".\n\n| task | fit | held-out |\n|---|---|---|\n");
        Map<String, Double> ho = outcome.heldOut() == null ? Map.of() : outcome.heldOut().tasks();
        java.util.Set<String> names = new java.util.LinkedHashSet<>(best.result().tasks().keySet());
        names.addAll(ho.keySet());
        for (String t : names) {
          Double f = best.result().tasks().get(t);
          md.append("| ").append(t).append(" | ").append(f == null ? "(held-out task)" : fmt(f)).append(" | ")
              .append(ho.containsKey(t) ? fmt(ho.get(t)) : "").append(" |\n");
        }
        md.append("\nThe held-out scores were never seen by the optimizer: it ranks candidates on the fit splits only.\n\n");
      }
      if (!gens.isEmpty()) {
        Path png = dir.resolve("fitness.png");
        AtomicFiles.writeBytes(png, fitnessPlot(spec, gens).png(900, 520));
        files.add(png);
        md.append("## Fitness per generation\n\n![fitness](fitness.png)\n\n");
        md.append("| generation | evaluations | best fitness | population mean | held-out (best) | seconds |\n|---|---|---|---|---|---|\n");
        int step = Math.max(1, gens.size() / 20);
        for (int i = 0; i < gens.size(); i++) {
          if (i % step != 0 && i != gens.size() - 1) {
            continue;
          }
          JsonNode g = gens.get(i);
          md.append("| ").append(g.get("generation").asInt()).append(" | ").append(g.get("evaluations").asLong()).append(" | ")
              .append(g.has("best") ? fmt(g.get("best").get("fitness").asDouble()) : "").append(" | ")
              .append(g.has("population_mean") ? fmt(g.get("population_mean").asDouble()) : "").append(" | ")
              .append(g.has("held_out") ? fmt(g.get("held_out").get("fitness").asDouble()) : "").append(" | ")
              .append(String.format(Locale.ROOT, "%.1f", g.get("seconds").asDouble())).append(" |\n");
        }
        md.append("\n");
      }
      if (optimizer instanceof MapElites me && !me.cells().isEmpty()) {
        Path png = dir.resolve("map.png");
        AtomicFiles.writeBytes(png, mapPlot(me).png(760, 620));
        files.add(png);
        md.append("## MAP-Elites map\n\n").append(me.cells().size()).append(" of ").append(me.options().bins() * me.options().bins())
            .append(" cells filled; colour = the elite's fitness.\n\n![map](map.png)\n\n");
      }
      if (best != null) {
        List<JsonNode> ancestors = lineage(evals, best.id());
        if (ancestors.size() > 1) {
          Path png = dir.resolve("lineage.png");
          AtomicFiles.writeBytes(png, lineagePlot(ancestors, best.id()).png(900, 520));
          files.add(png);
          md.append("## Lineage of the best\n\n").append(ancestors.size()).append(ancestors.size() >= MAX_ANCESTORS ? "+" : "")
              .append(" ancestors; each grey edge joins a parent to its child.\n\n![lineage](lineage.png)\n\n");
          md.append("| id | made by | parents | fitness |\n|---|---|---|---|\n");
          int shown = 0;
          for (JsonNode a : ancestors) {
            if (shown++ >= 15) {
              md.append("| ... | | | |\n");
              break;
            }
            JsonNode o = a.get("origin");
            md.append("| ").append(a.get("id").asLong()).append(" | ").append(o.path("op").asText())
                .append(o.has("crossover") ? " (" + o.get("crossover").asText() + ")" : "").append(" | ")
                .append(o.has("parents") ? o.get("parents").toString() : "").append(" | ")
                .append(a.get("fitness").isNull() ? "failed" : fmt(a.get("fitness").asDouble())).append(" |\n");
          }
          md.append("\n");
        } else {
          md.append("## Lineage of the best\n\nCandidate ").append(best.id()).append(" was made by '")
              .append(best.candidate().origin().path("op").asText()).append("' from no recorded parent (")
              .append(optimizer.method().equals("cmaes") ? "CMA-ES samples from its search distribution" : "a first-generation genome")
              .append(").\n\n");
        }
        if (space instanceof RecipeSearch rs) {
          md.append("## Best recipe (`best.yml`)\n\n```yaml\n").append(dev.graft.recipe.RecipeWriter.write(rs.recipe(best.genome()))).append("```\n\n");
          md.append("Merge it with `graft merge best.yml -o DIR --seed ").append(spec.seed()).append("` (the seed of random operators).\n");
        }
        if (Files.isDirectory(dir.resolve("best-model"))) {
          md.append("\nThe best model is saved in `best-model/`.\n");
        }
      }
      Path report = dir.resolve("report.md");
      AtomicFiles.writeString(report, md.toString());
      files.add(report);
      Path summary = dir.resolve("summary.json");
      AtomicFiles.writeString(summary, States.JSON.writerWithDefaultPrettyPrinter().writeValueAsString(summary(spec, outcome, optimizer)) + "\n");
      files.add(summary);
    } catch (java.io.IOException e) {
      throw new java.io.UncheckedIOException(e);
    }
    return files;
  }

  private static String fmt(double v) {
    return String.format(Locale.ROOT, "%.4f", v);
  }

  static ObjectNode summary(EvolveSpec spec, Evolution.Outcome outcome, Optimizer optimizer) {
    ObjectNode n = States.JSON.createObjectNode();
    n.put("name", spec.name());
    n.put("space", spec.space());
    n.put("optimizer", optimizer.method());
    n.put("seed", spec.seed());
    n.put("evaluations", outcome.evaluations());
    n.put("candidates", outcome.candidates());
    n.put("stop_reason", outcome.stopReason());
    if (outcome.best() != null) {
      ObjectNode b = n.putObject("best");
      b.put("id", outcome.best().id());
      b.put("fitness", outcome.best().fitness());
      ObjectNode t = b.putObject("fit");
      outcome.best().result().tasks().forEach(t::put);
      if (outcome.heldOut() != null) {
        b.put("held_out_fitness", outcome.heldOut().fitness());
        ObjectNode h = b.putObject("held_out");
        outcome.heldOut().tasks().forEach(h::put);
      }
    }
    return n;
  }

  static LinePlot fitnessPlot(EvolveSpec spec, List<JsonNode> gens) {
    int n = gens.size();
    double[] x = new double[n];
    double[] best = new double[n];
    double[] mean = new double[n];
    double[] held = new double[n];
    for (int i = 0; i < n; i++) {
      JsonNode g = gens.get(i);
      x[i] = g.get("evaluations").asDouble();
      best[i] = g.has("best") ? g.get("best").get("fitness").asDouble() : Double.NaN;
      mean[i] = g.has("population_mean") ? g.get("population_mean").asDouble() : Double.NaN;
      held[i] = g.has("held_out") ? g.get("held_out").get("fitness").asDouble() : Double.NaN;
    }
    LinePlot p = new LinePlot(spec.name() + ": fitness per generation", "evaluations", "fitness (larger is better)");
    p.add(new LinePlot.Series("best (fit split)", x, best, false));
    p.add(new LinePlot.Series("population mean", x, mean, true));
    p.add(new LinePlot.Series("best on held-out split", x, held, false));
    return p;
  }

  static HeatmapPlot mapPlot(MapElites me) {
    MapElites.Options o = me.options();
    double[][] v = new double[o.bins()][o.bins()];
    for (double[] row : v) {
      java.util.Arrays.fill(row, Double.NaN);
    }
    me.cells().forEach((cell, e) -> v[cell / o.bins()][cell % o.bins()] = e.fitness());
    return new HeatmapPlot("MAP-Elites: elite fitness per cell", o.descriptors().get(0), o.descriptors().get(1),
        new double[] {o.lower()[0], o.upper()[0]}, new double[] {o.lower()[1], o.upper()[1]}, v);
  }

  /** The ancestors of {@code id} (itself included), breadth first, at most {@link #MAX_ANCESTORS}. */
  static List<JsonNode> lineage(List<JsonNode> evals, long id) {
    Map<Long, JsonNode> byId = new HashMap<>();
    for (JsonNode e : evals) {
      byId.put(e.get("id").asLong(), e);
    }
    Map<Long, JsonNode> seen = new LinkedHashMap<>();
    Deque<Long> queue = new ArrayDeque<>(List.of(id));
    while (!queue.isEmpty() && seen.size() < MAX_ANCESTORS) {
      long x = queue.poll();
      JsonNode e = byId.get(x);
      if (e == null || seen.containsKey(x)) {
        continue;
      }
      seen.put(x, e);
      long dup = e.get("duplicate_of").asLong();
      if (dup >= 0) {
        queue.add(dup);
      }
      for (JsonNode p : e.get("origin").path("parents")) {
        queue.add(p.asLong());
      }
    }
    return new ArrayList<>(seen.values());
  }

  static LinePlot lineagePlot(List<JsonNode> ancestors, long bestId) {
    Map<Long, Double> fit = new HashMap<>();
    for (JsonNode a : ancestors) {
      fit.put(a.get("id").asLong(), a.get("fitness").isNull() ? Double.NaN : a.get("fitness").asDouble());
    }
    LinePlot p = new LinePlot("Lineage of the best candidate (" + bestId + ")", "candidate id (order of creation)", "fitness");
    for (JsonNode a : ancestors) {
      long c = a.get("id").asLong();
      for (JsonNode par : a.get("origin").path("parents")) {
        Double pf = fit.get(par.asLong());
        if (pf != null) {
          p.add(new LinePlot.Series("", new double[] {par.asLong(), c}, new double[] {pf, fit.get(c)}, false, LinePlot.Style.EDGE));
        }
      }
    }
    double[] x = ancestors.stream().mapToDouble(a -> a.get("id").asDouble()).toArray();
    double[] y = ancestors.stream().mapToDouble(a -> fit.get(a.get("id").asLong())).toArray();
    p.add(new LinePlot.Series("ancestors", x, y, false, LinePlot.Style.POINTS));
    p.add(new LinePlot.Series("best", new double[] {bestId}, new double[] {fit.get(bestId)}, false, LinePlot.Style.POINTS));
    return p;
  }
}
