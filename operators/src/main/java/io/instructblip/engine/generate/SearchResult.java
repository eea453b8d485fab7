package io.instructblip.engine.generate;

import java.util.List;
import java.util.Objects;

/**
 * One finished sequence of a {@link Search}.
 *
 * @param tokenIds the generated ids, without the EOS that ended the sequence and without the
 *     decoder start token
 * @param finishReason {@link FinishReason#EOS} or {@link FinishReason#LENGTH}
 * @param score beam search: the normalized score {@code sum_logprob / n^length_penalty}; greedy and
 *     sampling: the sum of {@code log_softmax(logits)} (before the processors) of every chosen
 *     token, the EOS included
 */
public record SearchResult(List<Integer> tokenIds, FinishReason finishReason, double score) {
  public SearchResult {
    tokenIds = List.copyOf(tokenIds);
    Objects.requireNonNull(finishReason, "finishReason");
  }

  /** Builds a result from an int array of ids. */
  public static SearchResult of(int[] tokenIds, FinishReason finishReason, double score) {
    Integer[] boxed = new Integer[tokenIds.length];
    for (int i = 0; i < tokenIds.length; i++) {
      boxed[i] = tokenIds[i];
    }
    return new SearchResult(List.of(boxed), finishReason, score);
  }

  /** The ids as an int array. */
  public int[] tokenIdArray() {
    return tokenIds.stream().mapToInt(Integer::intValue).toArray();
  }
}
