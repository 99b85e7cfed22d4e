package dev.graft.evolve;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.snakeyaml.engine.v2.api.Dump;
import org.snakeyaml.engine.v2.api.DumpSettings;
import org.snakeyaml.engine.v2.common.FlowStyle;

/**
 * The resolved form of an evolve recipe: every default written out and every path absolute, so the run directory
 * alone says what ran (and {@code --resume} reads it back with {@link EvolveSpec#read}).
 */
public final class RunRecipe {
  private RunRecipe() {}

  public static String write(EvolveSpec s) {
    return write(s, true);
  }

  /** The resolved recipe; without the budget (and threads, cluster) when comparing two runs. */
  static String write(EvolveSpec s, boolean budget) {
    Map<String, Object> m = new LinkedHashMap<>();
    m.put("name", s.name());
    m.put("seed", s.seed());
    m.put("space", s.space());
    if (s.space().equals("recipe")) {
      m.put("merge", s.merge().toString());
      Map<String, Object> g = new LinkedHashMap<>();
      g.put("parameters", s.genome().parameters());
      g.put("layer_granularity", s.genome().layerGranularity());
      if (!s.genome().filters().isEmpty()) {
        g.put("filters", s.genome().filters());
      }
      Map<String, Object> b = new LinkedHashMap<>();
      s.genome().bounds().forEach((k, v) -> b.put(k, List.of(v[0], v[1])));
      g.put("bounds", b);
      m.put("genome", g);
    } else {
      EvolveSpec.ModelSpec x = s.model();
      Map<String, Object> g = new LinkedHashMap<>();
      g.put("init", x.random() ? "random" : "models");
      if (!x.models().isEmpty()) {
        g.put("models", x.models().stream().map(Object::toString).toList());
      }
      if (x.base() != null) {
        g.put("base", x.base().toString());
      }
      if (x.mlp() != null) {
        g.put("mlp", java.util.Arrays.stream(x.mlp()).boxed().toList());
      }
      if (x.config() != null) {
        g.put("config", x.config().toString());
      }
      if (x.random()) {
        g.put("count", x.count());
      }
      g.put("std", x.std());
      g.put("layout", x.layout());
      if (x.outDtype() != null) {
        g.put("out_dtype", x.outDtype());
      }
      m.put("model", g);
    }
    List<Object> tasks = new ArrayList<>();
    for (EvolveSpec.TaskRef t : s.tasks()) {
      Map<String, Object> e = new LinkedHashMap<>();
      e.put("path", t.path().toString());
      e.put("weight", t.weight());
      tasks.add(e);
    }
    m.put("tasks", tasks);
    if (!s.heldOutTasks().isEmpty()) {
      m.put("held_out_tasks", s.heldOutTasks().stream().map(Object::toString).toList());
    }
    m.put("optimizer", optimizer(s.optimizer(), s.space()));
    if (budget) {
      Map<String, Object> b = new LinkedHashMap<>();
      b.put("evaluations", s.evaluations());
      b.put("seconds", s.seconds());
      m.put("budget", b);
      m.put("threads", s.threads());
      m.put("checkpoint_seconds", s.checkpointSeconds());
      if (s.cluster() != null) { // where candidates are evaluated does not change the run
        Map<String, Object> c = new LinkedHashMap<>();
        c.put("master", s.cluster().master());
        if (!s.cluster().conf().isEmpty()) {
          c.put("conf", new java.util.TreeMap<>(s.cluster().conf()));
        }
        m.put("cluster", c);
      }
    }
    m.put("save_best_model", s.saveBestModel());
    m.put("backend", s.backend());
    DumpSettings settings = DumpSettings.builder().setDefaultFlowStyle(FlowStyle.BLOCK).setIndent(2).setIndicatorIndent(0).setWidth(120).build();
    return "# resolved by graft evolve: every default written out, every path absolute\n" + new Dump(settings).dumpToString(m);
  }

  private static Map<String, Object> optimizer(EvolveSpec.OptimizerSpec o, String space) {
    Map<String, Object> m = new LinkedHashMap<>();
    m.put("method", o.method());
    switch (o.method()) {
      case "cmaes" -> {
        m.put("sigma", o.sigma());
        m.put("popsize", o.popsize());
        m.put("diagonal", o.diagonal());
        m.put("restarts", o.restarts());
      }
      case "m2n2" -> {
        m.put("archive_size", o.archiveSize());
        m.put("alpha", o.alpha());
        m.put("attraction", o.attraction());
        crossover(m, o);
        m.put("batch", o.batch());
      }
      case "ga" -> {
        m.put("population", o.population());
        m.put("tournament", o.tournament());
        m.put("crossover_rate", o.crossoverRate());
        m.put("elites", o.elites());
        crossover(m, o);
      }
      case "map_elites" -> {
        m.put("descriptors", o.descriptors());
        Map<String, Object> r = new LinkedHashMap<>();
        for (int a = 0; a < o.descriptors().size(); a++) {
          r.put(o.descriptors().get(a), List.of(o.ranges()[2 * a], o.ranges()[2 * a + 1]));
        }
        m.put("ranges", r);
        m.put("bins", o.bins());
        m.put("batch", o.batch());
        m.put("initial", o.initial());
        crossover(m, o);
      }
      default -> m.put("batch", o.batch());
    }
    return m;
  }

  private static void crossover(Map<String, Object> m, EvolveSpec.OptimizerSpec o) {
    m.put("crossover", o.crossover());
    if (!o.crossoverParameters().isEmpty()) {
      m.put("crossover_parameters", new LinkedHashMap<>(o.crossoverParameters()));
    }
    Map<String, Object> mu = new LinkedHashMap<>();
    mu.put("std", o.mutation().std());
    mu.put("rate", o.mutation().rate());
    m.put("mutation", mu);
  }
}
