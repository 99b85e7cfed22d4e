package dev.graft.op;

import static org.assertj.core.api.Assertions.assertThat;

import org.junit.jupiter.api.Test;

/** Per-thread scratch arrays: a window of long rows grows a slot, and the block's end gives the memory back. */
class ScratchTest {
  @Test
  void oversizedSlotsAreReleased() {
    int big = 3 * FusedKernels.STREAM_CHUNK;
    assertThat(FusedKernels.scratch(5, big)).hasSize(big);
    assertThat(FusedKernels.scratch(5)).hasSize(big); // kept while the block runs
    float[] standard = FusedKernels.scratch(4);
    FusedKernels.releaseOversized();
    assertThat(FusedKernels.scratch(5)).hasSize(FusedKernels.STREAM_CHUNK);
    assertThat(FusedKernels.scratch(4)).isSameAs(standard); // standard slots stay
  }
}
