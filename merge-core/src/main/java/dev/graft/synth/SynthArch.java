package dev.graft.synth;

import java.util.Locale;

/**
 * Architecture family of a synthetic checkpoint: decides the tensors written and the {@code config.json} fields,
 * so that every variant the model runtime supports can be generated and checked offline.
 */
public enum SynthArch {
  /** Llama 2 style: no biases, default RoPE (theta 10,000). */
  LLAMA("llama", "LlamaForCausalLM"),
  /**
   * Llama 3 style RoPE scaling ({@code rope_type: llama3}, theta 500,000). The original context is set to 64 so that
   * the scaled band of frequencies changes positions a short test reaches.
   */
  LLAMA3("llama", "LlamaForCausalLM"),
  /** Mistral: Llama layout under {@code model_type: mistral}, with a sliding-window field. */
  MISTRAL("mistral", "MistralForCausalLM"),
  /** Qwen2/Qwen2.5: biases on q, k and v projections, theta 1,000,000. */
  QWEN2("qwen2", "Qwen2ForCausalLM"),
  /** Qwen3: RMS norms on queries and keys per head ({@code q_norm}, {@code k_norm}), explicit {@code head_dim}. */
  QWEN3("qwen3", "Qwen3ForCausalLM");

  private final String modelType;
  private final String architecture;

  SynthArch(String modelType, String architecture) {
    this.modelType = modelType;
    this.architecture = architecture;
  }

  public String modelType() {
    return modelType;
  }

  public String architecture() {
    return architecture;
  }

  public boolean qkvBias() {
    return this == QWEN2;
  }

  public boolean qkNorm() {
    return this == QWEN3;
  }

  /** The lower-case name used on the command line. */
  public String cliName() {
    return name().toLowerCase(Locale.ROOT);
  }
}
