package io.instructblip.engine.generate;

import java.util.ArrayList;
import java.util.List;

/**
 * The finished hypotheses of one beam search: at most {@code num_beams}, the best by normalized
 * score {@code sum_logprob / n^length_penalty}. A hypothesis enters a full set only when strictly
 * better than the worst, which it then evicts (of equal worst ones, the one added first, as HF and
 * the Python reference do). Order, best first: higher score, then earlier added.
 */
public final class BeamHypotheses {
  /**
   * One finished hypothesis.
   *
   * @param tokenIds generated ids without EOS (do not modify)
   * @param length {@code n} of the normalization: generated tokens, EOS included
   */
  public record Hypothesis(
      int[] tokenIds, double sumLogprob, int length, double score, FinishReason finishReason) {}

  private final int capacity;
  private final double lengthPenalty;
  private final List<Hypothesis> hypotheses = new ArrayList<>();

  /**
   * @param capacity {@code num_beams}
   * @param lengthPenalty the exponent of the length normalization
   */
  public BeamHypotheses(int capacity, double lengthPenalty) {
    if (capacity < 1) {
      throw ParameterRules.invalid("num_beams must be at least 1, got " + capacity);
    }
    this.capacity = capacity;
    this.lengthPenalty = lengthPenalty;
  }

  /** {@code sumLogprob / length^length_penalty}. */
  public double normalize(double sumLogprob, int length) {
    return sumLogprob / Math.pow(length, lengthPenalty);
  }

  /**
   * Offers a finished hypothesis.
   *
   * @param tokenIds its ids (without EOS; kept as given, not copied)
   * @param sumLogprob its summed (processed) log-probability, EOS included when it ended with one
   * @param length {@code n}: the generated tokens, the EOS included when it ended with one
   * @return whether it was kept
   */
  public boolean add(int[] tokenIds, double sumLogprob, int length, FinishReason reason) {
    double score = normalize(sumLogprob, length);
    if (hypotheses.size() >= capacity && !(score > worstScore())) {
      return false;
    }
    Hypothesis hypothesis = new Hypothesis(tokenIds, sumLogprob, length, score, reason);
    int at = hypotheses.size();
    while (at > 0 && hypotheses.get(at - 1).score() < score) {
      at--;
    }
    hypotheses.add(at, hypothesis);
    if (hypotheses.size() > capacity) {
      // Evict the lowest score; of equal lowest ones, the one added first (as HF's sort of
      // (score, index) pairs does).
      double lowest = hypotheses.get(hypotheses.size() - 1).score();
      int victim = hypotheses.size() - 1;
      while (victim > 0 && hypotheses.get(victim - 1).score() == lowest) {
        victim--;
      }
      hypotheses.remove(victim);
    }
    return true;
  }

  /** The number of finished hypotheses held. */
  public int size() {
    return hypotheses.size();
  }

  /** The lowest score held; {@code +inf} while the set is empty. */
  public double worstScore() {
    return hypotheses.isEmpty()
        ? Double.POSITIVE_INFINITY
        : hypotheses.get(hypotheses.size() - 1).score();
  }

  /**
   * HF {@code early_stopping=False}: done when the set is full and the best running beam,
   * normalized at the current length, cannot beat the worst held: {@code bestRunningSum / n^lp <=
   * worst}.
   *
   * @param bestRunningSum the summed log-probability of the best running beam
   * @param generatedCount {@code n}: the tokens each running beam has generated
   */
  public boolean isDone(double bestRunningSum, int generatedCount) {
    if (hypotheses.size() < capacity) {
      return false;
    }
    return !(normalize(bestRunningSum, generatedCount) > worstScore());
  }

  /** The held hypotheses, best first. */
  public List<Hypothesis> bestFirst() {
    return List.copyOf(hypotheses);
  }
}
