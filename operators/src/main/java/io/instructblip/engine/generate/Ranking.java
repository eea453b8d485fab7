package io.instructblip.engine.generate;

import io.instructblip.engine.api.EngineException;
import io.instructblip.engine.api.ErrorCode;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;

/**
 * "Vocabulary ranking" (docs/model-format.md, "Ranking"): scores a candidate answer by its
 * log-likelihood under teacher forcing, no processors, and sorts candidates best first by {@code
 * sum_logprob} (ties keep the input order). Log-softmax is computed in double around the maximum.
 */
public final class Ranking {
  private Ranking() {}

  /** Best first: higher {@code sumLogprob}, then the lower input index. */
  public static final Comparator<RankedCandidate> BEST_FIRST =
      Comparator.comparingDouble(RankedCandidate::sumLogprob)
          .reversed()
          .thenComparingInt(RankedCandidate::index);

  /**
   * Scores one candidate.
   *
   * @param logits {@code [len][V]}: row {@code i} holds the logits that predict {@code
   *     targetIds[i]}
   * @param targetIds the candidate's ids (EOS included when appended)
   */
  public static RankedCandidate score(
      int index, String text, List<Integer> targetIds, float[][] logits) {
    checkTargets(targetIds, text);
    if (logits == null || logits.length != targetIds.size()) {
      throw new EngineException(
          ErrorCode.INTERNAL,
          "ranking needs one logits row per target id: "
              + targetIds.size()
              + " ids, "
              + (logits == null ? "no" : String.valueOf(logits.length))
              + " rows");
    }
    double sum = 0;
    for (int i = 0; i < logits.length; i++) {
      sum += logProb(logits[i], 0, logits[i].length, targetIds.get(i));
    }
    return new RankedCandidate(index, text, targetIds, sum, sum / targetIds.size());
  }

  /**
   * Scores one candidate whose logits sit in a flat row-major buffer (as ONNX Runtime returns
   * {@code [B,T,V]}).
   *
   * @param flat the buffer
   * @param offset where the row predicting {@code targetIds[0]} starts
   * @param vocab {@code V}; row {@code i} starts at {@code offset + i * V}
   */
  public static RankedCandidate score(
      int index, String text, List<Integer> targetIds, float[] flat, int offset, int vocab) {
    checkTargets(targetIds, text);
    long end = offset + (long) targetIds.size() * vocab;
    if (vocab <= 0 || offset < 0 || end > flat.length) {
      throw new EngineException(
          ErrorCode.INTERNAL,
          "ranking logits buffer of "
              + flat.length
              + " floats cannot hold "
              + targetIds.size()
              + " rows of "
              + vocab
              + " from offset "
              + offset);
    }
    double sum = 0;
    for (int i = 0; i < targetIds.size(); i++) {
      sum += logProb(flat, offset + i * vocab, vocab, targetIds.get(i));
    }
    return new RankedCandidate(index, text, targetIds, sum, sum / targetIds.size());
  }

  /** The candidates sorted best first (a new list). */
  public static List<RankedCandidate> sortBestFirst(List<RankedCandidate> candidates) {
    List<RankedCandidate> sorted = new ArrayList<>(candidates);
    sorted.sort(BEST_FIRST);
    return sorted;
  }

  private static double logProb(float[] row, int offset, int vocab, int id) {
    if (id < 0 || id >= vocab) {
      throw new EngineException(
          ErrorCode.INVALID_PARAMETER,
          "candidate token id " + id + " is outside the vocabulary [0, " + vocab + ")");
    }
    return LogProbs.logProbOf(row, offset, vocab, id);
  }

  private static void checkTargets(List<Integer> targetIds, String text) {
    if (targetIds == null || targetIds.isEmpty()) {
      throw new EngineException(
          ErrorCode.INVALID_PARAMETER,
          "candidate \""
              + text
              + "\" has no tokens to score: give a non-empty candidate (or a model whose"
              + " manifest sets ranking.append_eos)");
    }
  }
}
