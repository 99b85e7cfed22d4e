package dev.graft.cli;

import dev.graft.io.ByteSize;
import dev.graft.op.Operators;
import dev.graft.plan.MergePlan;
import dev.graft.plan.MergeRunner;
import dev.graft.plan.ModelResolver;
import dev.graft.recipe.Recipe;
import dev.graft.recipe.RecipeReader;
import java.io.PrintWriter;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.Callable;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Parameters;

/** {@code graft validate RECIPE}. */
@Command(
    name = "validate",
    mixinStandardHelpOptions = true,
    description = {
      "Check a recipe without merging: YAML schema, method and parameter names, types and ranges, models found,",
      "layer ranges, tensor names, shapes and vocabulary sizes (headers only; no weight is read).",
      "Every problem is reported with file:line:column and YAML path."
    },
    exitCodeListHeading = "%nExit codes:%n",
    exitCodeList = {"0:the recipe is valid", "1:failure at run time", "2:the recipe has problems"})
final class ValidateCommand implements Callable<Integer> {
  @CommandLine.Spec CommandLine.Model.CommandSpec spec;

  @Parameters(paramLabel = "RECIPE", description = "mergekit YAML recipe.")
  Path recipe;

  @Override
  public Integer call() {
    PrintWriter o = spec.commandLine().getOut();
    List<Recipe> stages = RecipeReader.read(recipe);
    List<MergePlan> plans = MergeRunner.prepare(stages, ModelResolver.forRecipe(recipe), Operators.builtIn());
    for (MergePlan p : plans) {
      o.printf("ok: %s%s: %d tensors from %d models, read %s, write %s%n", p.operator().spec().name(),
          p.recipe().name() == null ? "" : " (stage " + p.recipe().name() + ")", p.tasks().size(), p.models().size(),
          ByteSize.format(p.bytesToRead()), ByteSize.format(p.bytesToWrite()));
      p.warnings().forEach(w -> o.println("warning: " + w));
    }
    o.flush();
    return 0;
  }
}
