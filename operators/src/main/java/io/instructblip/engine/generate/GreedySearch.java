package io.instructblip.engine.generate;

/** Greedy search: the argmax of the processed logits, ties to the lowest id, NaN never chosen. */
public final class GreedySearch extends SingleRowSearch {

  public GreedySearch(GenerationParams params, int... decoderPrefix) {
    super(params, decoderPrefix);
  }

  @Override
  int choose(float[] processed) {
    return argmax(processed);
  }

  /** The index of the largest value, the lowest on ties; 0 when every value is -inf or NaN. */
  static int argmax(float[] scores) {
    int best = 0;
    float bestScore = Float.NEGATIVE_INFINITY;
    for (int i = 0; i < scores.length; i++) {
      if (scores[i] > bestScore) {
        bestScore = scores[i];
        best = i;
      }
    }
    return best;
  }
}
