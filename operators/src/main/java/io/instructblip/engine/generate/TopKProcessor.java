package io.instructblip.engine.generate;

/**
 * Sampling only: keeps the {@code k} best scores and sets the others to {@code -inf}. As in HF, a
 * score equal to the {@code k}-th best is kept too, so ties at the boundary may keep more than
 * {@code k} tokens. {@code k >= V} changes nothing.
 */
public final class TopKProcessor implements LogitsProcessor {
  private final int k;

  /**
   * @param k {@code >= 1} (callers leave the processor out for "off")
   */
  public TopKProcessor(int k) {
    if (k < 1) {
      throw ParameterRules.invalid(
          "top_k must be at least 1 here (0 means: no TopK step), got " + k);
    }
    this.k = k;
  }

  @Override
  public void process(float[] scores, TokenHistory history) {
    if (k >= scores.length) {
      return;
    }
    float threshold = kthLargest(scores, k);
    for (int i = 0; i < scores.length; i++) {
      if (!(scores[i] >= threshold)) {
        scores[i] = Float.NEGATIVE_INFINITY;
      }
    }
  }

  /** The k-th largest value (NaN counted as -inf), with a min-heap of the k best seen. */
  static float kthLargest(float[] scores, int k) {
    float[] heap = new float[k];
    int size = 0;
    for (float raw : scores) {
      float s = Float.isNaN(raw) ? Float.NEGATIVE_INFINITY : raw;
      if (size < k) {
        int i = size++;
        heap[i] = s;
        while (i > 0) {
          int parent = (i - 1) >>> 1;
          if (heap[parent] <= heap[i]) {
            break;
          }
          float tmp = heap[parent];
          heap[parent] = heap[i];
          heap[i] = tmp;
          i = parent;
        }
      } else if (s > heap[0]) {
        heap[0] = s;
        int i = 0;
        while (true) {
          int left = 2 * i + 1;
          if (left >= k) {
            break;
          }
          int smallest = left;
          if (left + 1 < k && heap[left + 1] < heap[left]) {
            smallest = left + 1;
          }
          if (heap[i] <= heap[smallest]) {
            break;
          }
          float tmp = heap[smallest];
          heap[smallest] = heap[i];
          heap[i] = tmp;
          i = smallest;
        }
      }
    }
    return heap[0];
  }

  @Override
  public String toString() {
    return "TopK(" + k + ")";
  }
}
