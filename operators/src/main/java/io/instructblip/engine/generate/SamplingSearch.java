package io.instructblip.engine.generate;

import io.instructblip.engine.api.EngineException;
import io.instructblip.engine.api.ErrorCode;
import java.util.SplittableRandom;

/**
 * Sampling: a draw from the softmax of the processed logits (temperature, top-k, top-p included)
 * with the request's own {@link SplittableRandom} seeded with {@code seed}, so the same request
 * gives the same tokens whatever else shares its batch. One uniform draw per token; tokens are
 * walked in id order.
 */
public final class SamplingSearch extends SingleRowSearch {
  private final SplittableRandom random;

  public SamplingSearch(GenerationParams params, int... decoderPrefix) {
    super(params, decoderPrefix);
    this.random = new SplittableRandom(params.seed());
  }

  @Override
  int choose(float[] processed) {
    return draw(processed, random.nextDouble());
  }

  /** The token whose cumulative probability interval holds {@code uniform} in {@code [0, 1)}. */
  static int draw(float[] scores, double uniform) {
    double max = Double.NEGATIVE_INFINITY;
    for (float s : scores) {
      if (s > max) {
        max = s;
      }
    }
    if (max == Double.NEGATIVE_INFINITY || Double.isInfinite(max)) {
      throw new EngineException(
          ErrorCode.MODEL_ERROR,
          "cannot sample: no token has a finite score after the logits processors (max "
              + max
              + ")");
    }
    double[] weights = new double[scores.length];
    double total = 0;
    for (int i = 0; i < scores.length; i++) {
      double w = scores[i] > Float.NEGATIVE_INFINITY ? Math.exp(scores[i] - max) : 0;
      weights[i] = w;
      total += w;
    }
    double target = uniform * total;
    double cumulative = 0;
    int last = -1;
    for (int i = 0; i < scores.length; i++) {
      if (weights[i] > 0) {
        cumulative += weights[i];
        last = i;
        if (target < cumulative) {
          return i;
        }
      }
    }
    return last; // rounding left target at the very top: the last token with weight
  }
}
