package dev.graft.recipe;

import java.util.Objects;

/**
 * A model as a recipe names it: a path, a Hugging Face id ({@code org/name}, optionally {@code @revision}), or the
 * name of an earlier stage of a multi-document recipe. {@code path+lora} (a LoRA applied before merging) is parsed
 * and kept in {@link #lora()}.
 */
public record ModelRef(String name, String lora) {
  public ModelRef {
    Objects.requireNonNull(name, "name");
    if (name.isBlank()) {
      throw new IllegalArgumentException("a model reference must not be empty");
    }
  }

  /** Parses mergekit's {@code model[+lora]} form. */
  public static ModelRef parse(String text) {
    int plus = text.indexOf('+');
    if (plus > 0 && plus < text.length() - 1) {
      return new ModelRef(text.substring(0, plus), text.substring(plus + 1));
    }
    return new ModelRef(text, null);
  }

  @Override
  public String toString() {
    return lora == null ? name : name + "+" + lora;
  }
}
