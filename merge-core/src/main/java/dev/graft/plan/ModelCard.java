package dev.graft.plan;

import dev.graft.op.OperatorSpec;
import dev.graft.op.ParamSpec;
import dev.graft.recipe.ModelRef;
import dev.graft.recipe.Recipe;
import dev.graft.recipe.RecipeWriter;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.snakeyaml.engine.v2.api.Dump;
import org.snakeyaml.engine.v2.api.DumpSettings;
import org.snakeyaml.engine.v2.common.FlowStyle;

/** The {@code README.md} model card of a merge: Hugging Face YAML front matter, what was merged and how, the recipe. */
public final class ModelCard {
  private ModelCard() {}

  public static String render(MergePlan p, List<Recipe> recipe, long seed) {
    Recipe r = p.recipe();
    OperatorSpec spec = p.operator().spec();
    Map<String, Object> front = new LinkedHashMap<>();
    List<String> inputs = r.referencedModels().stream().map(ModelRef::toString).toList();
    front.put("base_model", r.baseModel() != null ? List.of(r.baseModel().toString()) : inputs);
    front.put("library_name", "transformers");
    front.put("tags", List.of("merge", "graft", "mergekit", spec.name()));
    String yaml = new Dump(DumpSettings.builder().setDefaultFlowStyle(FlowStyle.BLOCK).setIndicatorIndent(0).build()).dumpToString(front);
    StringBuilder b = new StringBuilder();
    b.append("---\n").append(yaml).append("---\n\n");
    b.append("# ").append(r.name() != null ? r.name() : "Merged model").append("\n\n");
    b.append("This model was merged with [Graft](https://github.com/graft-dev/graft) using the **").append(spec.title())
        .append("** method ([reference](").append(spec.paper()).append(")): ").append(spec.summary()).append(".\n\n");
    b.append("## Models merged\n\n");
    if (r.baseModel() != null) {
      b.append("- base: `").append(r.baseModel()).append("`\n");
    }
    for (String m : inputs) {
      if (r.baseModel() == null || !m.equals(r.baseModel().toString())) {
        b.append("- `").append(m).append("`\n");
      }
    }
    b.append("\n## Parameters of `").append(spec.name()).append("`\n\n| parameter | scope | value in this recipe | declared |\n|---|---|---|---|\n");
    for (ParamSpec ps : spec.params()) {
      String given = r.parameters().containsKey(ps.name()) ? "`" + RecipeWriter.inline(r.parameters().get(ps.name())) + "`"
          : ps.scope() == ParamSpec.Scope.PER_MODEL ? "per model (see recipe)" : "default";
      b.append("| ").append(ps.name()).append(" | ").append(ps.scope() == ParamSpec.Scope.PER_MODEL ? "per model" : "global").append(" | ")
          .append(given).append(" | ").append(ps.summary().replace("|", "\\|")).append(" |\n");
    }
    b.append("\nOutput: ").append(p.tasks().size()).append(" tensors; run seed ").append(seed).append(".\n\n");
    b.append("## Recipe\n\n```yaml\n").append(RecipeWriter.write(recipe)).append("```\n");
    return b.toString();
  }
}
