package io.instructblip.engine.generate;

import io.instructblip.engine.api.GenerationParameter;

/**
 * HF's repetition penalty: for every distinct id of the row's penalty set, a score {@code s}
 * becomes {@code s * r} when {@code s < 0}, else {@code s / r} (in float32, as PyTorch does). An id
 * that occurs several times is penalized once.
 */
public final class RepetitionPenaltyProcessor implements LogitsProcessor {
  private final float penalty;

  /**
   * @param penalty within {@link GenerationParameter#REPETITION_PENALTY}'s rule; 1.0 changes
   *     nothing
   */
  public RepetitionPenaltyProcessor(double penalty) {
    GenerationParameter.REPETITION_PENALTY.check(penalty);
    this.penalty = (float) penalty;
  }

  @Override
  public void process(float[] scores, TokenHistory history) {
    int n = history.size();
    if (n == 0) {
      return;
    }
    // Gather every original score first, then scatter: duplicates write the same value (as HF).
    float[] original = new float[n];
    for (int i = 0; i < n; i++) {
      original[i] = scores[history.idAt(i)];
    }
    for (int i = 0; i < n; i++) {
      float s = original[i];
      scores[history.idAt(i)] = s < 0 ? s * penalty : s / penalty;
    }
  }

  @Override
  public String toString() {
    return "RepetitionPenalty(" + penalty + ")";
  }
}
