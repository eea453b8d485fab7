package io.instructblip.engine.generate;

/**
 * The best {@code capacity} of a stream of (score, index) candidates offered in increasing index
 * order, sorted best first: higher score, ties to the lower index (the one offered first). NaN
 * counts as {@code -inf}.
 */
final class TopCandidates {
  private final float[] scores;
  private final int[] indices;
  private int size;

  TopCandidates(int capacity) {
    this.scores = new float[capacity];
    this.indices = new int[capacity];
  }

  void offer(float rawScore, int index) {
    float score = Float.isNaN(rawScore) ? Float.NEGATIVE_INFINITY : rawScore;
    int capacity = scores.length;
    if (size == capacity) {
      if (!(score > scores[capacity - 1])) {
        return; // not better than the worst held, which came first
      }
      size--;
    }
    int at = size;
    while (at > 0 && scores[at - 1] < score) {
      scores[at] = scores[at - 1];
      indices[at] = indices[at - 1];
      at--;
    }
    scores[at] = score;
    indices[at] = index;
    size++;
  }

  int size() {
    return size;
  }

  float score(int rank) {
    return scores[rank];
  }

  int index(int rank) {
    return indices[rank];
  }
}
