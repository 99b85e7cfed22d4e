package dev.graft.synth;

import dev.graft.tensor.DType;

/**
 * Shape and content of a synthetic Llama-shaped checkpoint family.
 *
 * @param vocab vocabulary size (at least 260: 256 byte tokens, 3 specials and one merge)
 * @param hidden hidden size
 * @param layers decoder layers
 * @param heads attention heads
 * @param kvHeads key/value heads (grouped-query attention when fewer than heads)
 * @param intermediate MLP intermediate size
 * @param tieEmbeddings whether lm_head shares embed_tokens (no lm_head.weight written)
 * @param dtype storage dtype
 * @param maxShardBytes maximum bytes per shard
 * @param fineTunes number of fine-tunes to derive from the base
 * @param rank rank of each fine-tune's low-rank delta
 * @param seed seed of every draw
 * @param arch architecture family (tensors and config fields)
 * @param headDim size of one attention head; {@code hidden / heads} unless the architecture allows another
 */
public record SynthSpec(
    int vocab, int hidden, int layers, int heads, int kvHeads, int intermediate, boolean tieEmbeddings, DType dtype,
    long maxShardBytes, int fineTunes, int rank, long seed, SynthArch arch, int headDim) {

  /** A Llama family with head size {@code hidden / heads}. */
  public SynthSpec(
      int vocab, int hidden, int layers, int heads, int kvHeads, int intermediate, boolean tieEmbeddings, DType dtype,
      long maxShardBytes, int fineTunes, int rank, long seed) {
    require(heads <= 0 || hidden % heads == 0, "hidden (" + hidden + ") must be a multiple of heads (" + heads + ")");
    this(vocab, hidden, layers, heads, kvHeads, intermediate, tieEmbeddings, dtype, maxShardBytes, fineTunes, rank, seed,
        SynthArch.LLAMA, heads > 0 ? hidden / heads : 0);
  }

  /** A tiny default: 512 vocab, hidden 64, 2 layers, 4 heads (2 kv), intermediate 128, bf16, 2 fine-tunes. */
  public static SynthSpec tiny() {
    return new SynthSpec(512, 64, 2, 4, 2, 128, false, DType.BF16, Long.MAX_VALUE, 2, 4, 42);
  }

  /** This family as another architecture; {@code headDim <= 0} keeps {@code hidden / heads}. */
  public SynthSpec withArch(SynthArch a, int headDim) {
    return new SynthSpec(vocab, hidden, layers, heads, kvHeads, intermediate, tieEmbeddings, dtype, maxShardBytes,
        fineTunes, rank, seed, a, headDim > 0 ? headDim : hidden / heads);
  }

  public SynthSpec {
    require(vocab >= 260, "vocab must be >= 260 (256 byte tokens + specials), found " + vocab);
    require(hidden > 0 && layers > 0 && heads > 0 && kvHeads > 0 && intermediate > 0, "sizes must be positive");
    require(arch != null, "arch must be given");
    require(headDim * heads == hidden || arch != SynthArch.QWEN2,
        "qwen2 has no head_dim field: hidden (" + hidden + ") must equal heads x head dim (" + heads + " x " + headDim + ")");
    require(headDim > 0 && headDim % 2 == 0, "head dim (" + headDim + ") must be positive and even for RoPE");
    require(heads % kvHeads == 0, "heads (" + heads + ") must be a multiple of kv-heads (" + kvHeads + ")");
    require(dtype.isFloating(), "dtype must be floating, found " + dtype);
    require(fineTunes >= 0 && rank >= 1 && maxShardBytes > 0, "fine-tunes >= 0, rank >= 1, shard size > 0");
  }

  private static void require(boolean ok, String message) {
    if (!ok) {
      throw new IllegalArgumentException(message);
    }
  }

  /** Total parameters of one model. */
  public long parameterCount() {
    long q = (long) heads * headDim;
    long kv = (long) kvHeads * headDim;
    long perLayer = 2L * hidden + 2 * q * hidden + 2 * kv * hidden + 3L * hidden * intermediate
        + (arch.qkvBias() ? q + 2 * kv : 0) + (arch.qkNorm() ? 2L * headDim : 0);
    return (long) vocab * hidden * (tieEmbeddings ? 1 : 2) + hidden + perLayer * layers;
  }
}
