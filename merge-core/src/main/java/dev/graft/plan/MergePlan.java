package dev.graft.plan;

import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.graft.op.MergeOperator;
import dev.graft.recipe.Recipe;
import java.nio.file.Path;
import java.util.List;

/**
 * A validated merge, ready to run: one task per output tensor.
 *
 * @param recipe the recipe as written (stage of a multi-document recipe)
 * @param operator the merge operator
 * @param models distinct input models, indexed by {@link TensorTask.Input#model()}
 * @param fisherFiles Fisher files (operator {@code fisher}), indexed by the Fisher inputs' model index
 * @param tasks output tensors in write order
 * @param config the output config.json, or null when the reference model has none
 * @param tokenizerFrom the model whose tokenizer files are copied, or null
 * @param output what the output will hold (for later stages and dry runs)
 * @param warnings things worth knowing that do not stop the merge
 * @param union the output vocabulary under {@code tokenizer_source: union}, or null
 */
public record MergePlan(
    Recipe recipe, MergeOperator operator, List<ModelView> models, List<Path> fisherFiles, List<TensorTask> tasks,
    ObjectNode config, ModelView tokenizerFrom, ModelView output, List<String> warnings, UnionVocab union) {
  public MergePlan {
    models = List.copyOf(models);
    fisherFiles = List.copyOf(fisherFiles);
    tasks = List.copyOf(tasks);
    warnings = List.copyOf(warnings);
  }

  /** The same plan reading its inputs from {@code newModels} (same order, same tensors). */
  public MergePlan withModels(List<ModelView> newModels) {
    return new MergePlan(recipe, operator, newModels, fisherFiles, tasks, config, tokenizerFrom, output, warnings, union);
  }

  /** Bytes of input tensors read (each input once per task). */
  public long bytesToRead() {
    long b = 0;
    for (TensorTask t : tasks) {
      for (TensorTask.Input in : t.reads()) {
        b += in.shape().numel() * models.get(in.model()).tensors().get(in.tensor()).dtype().byteSize();
      }
    }
    return b;
  }

  public long bytesToWrite() {
    return tasks.stream().mapToLong(t -> t.shape().numel() * t.outDtype().byteSize()).sum();
  }
}
