package io.instructblip.engine.generate;

import io.instructblip.engine.api.GenerationParameter;
import java.util.Arrays;

/**
 * Sampling only (nucleus): keeps the smallest set of best tokens whose probability sum reaches
 * {@code top_p}, always at least one, and sets the others to {@code -inf}. Tokens are ranked by
 * score, ties by the lower id; probabilities are the softmax of the scores, in double.
 */
public final class TopPProcessor implements LogitsProcessor {
  private final double topP;

  /**
   * @param topP within {@link GenerationParameter#TOP_P}'s rule, {@code (0, 1]}; 1.0 keeps
   *     everything
   */
  public TopPProcessor(double topP) {
    GenerationParameter.TOP_P.check(topP);
    this.topP = topP;
  }

  @Override
  public void process(float[] scores, TokenHistory history) {
    int finite = 0;
    float max = Float.NEGATIVE_INFINITY;
    for (float s : scores) {
      if (s > Float.NEGATIVE_INFINITY) {
        finite++;
        max = Math.max(max, s);
      }
    }
    if (finite == 0) {
      return;
    }
    // Sort keys: best score first, then the lower id; only tokens still in the running.
    long[] keys = new long[finite];
    double total = 0;
    int n = 0;
    for (int id = 0; id < scores.length; id++) {
      float s = scores[id];
      if (s > Float.NEGATIVE_INFINITY) {
        keys[n++] = descendingKey(s, id);
        total += Math.exp((double) s - max);
      }
    }
    Arrays.sort(keys);
    double cumulative = 0;
    int kept = 0;
    while (kept < finite && (kept == 0 || cumulative < topP)) {
      int id = (int) keys[kept];
      cumulative += Math.exp((double) scores[id] - max) / total;
      kept++;
    }
    for (int i = kept; i < finite; i++) {
      scores[(int) keys[i]] = Float.NEGATIVE_INFINITY;
    }
  }

  /** A long that sorts ascending as (score descending, id ascending). */
  static long descendingKey(float score, int id) {
    int bits = Float.floatToIntBits(score);
    int ordered = bits ^ ((bits >> 31) & 0x7fffffff); // signed-int order == float order
    return ((long) ~ordered << 32) | (id & 0xffffffffL);
  }

  @Override
  public String toString() {
    return "TopP(" + topP + ")";
  }
}
