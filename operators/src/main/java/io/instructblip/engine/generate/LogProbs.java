package io.instructblip.engine.generate;

/** Numerically stable log-softmax helpers (max subtracted, sums in double). */
public final class LogProbs {
  private LogProbs() {}

  /**
   * {@code log(sum(exp(row[offset .. offset+length))))}, computed in double around the maximum.
   * {@code -inf} when every value is {@code -inf}.
   */
  public static double logSumExp(float[] row, int offset, int length) {
    double max = Double.NEGATIVE_INFINITY;
    for (int i = offset; i < offset + length; i++) {
      if (row[i] > max) {
        max = row[i];
      }
    }
    if (max == Double.NEGATIVE_INFINITY) {
      return max;
    }
    if (max == Double.POSITIVE_INFINITY) {
      return max;
    }
    double sum = 0;
    for (int i = offset; i < offset + length; i++) {
      sum += Math.exp(row[i] - max);
    }
    return max + Math.log(sum);
  }

  /** {@code log_softmax(logits)} as float32 into a new array. */
  public static float[] logSoftmax(float[] logits) {
    double lse = logSumExp(logits, 0, logits.length);
    float[] out = new float[logits.length];
    for (int i = 0; i < logits.length; i++) {
      out[i] = (float) (logits[i] - lse);
    }
    return out;
  }

  /** {@code log_softmax(row)[id]} in double. */
  public static double logProbOf(float[] row, int offset, int length, int id) {
    return row[offset + id] - logSumExp(row, offset, length);
  }
}
