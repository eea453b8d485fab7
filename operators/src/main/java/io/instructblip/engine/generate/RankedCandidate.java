package io.instructblip.engine.generate;

import java.util.List;
import java.util.Objects;

/**
 * One candidate answer of a ranking request with its teacher-forced log-likelihood.
 *
 * @param index the candidate's position in the request (ties keep this order)
 * @param text the candidate as the request gave it
 * @param tokenIds the scored ids ({@code encode_llm(text)}, then EOS when the manifest says {@code
 *     ranking.append_eos})
 * @param sumLogprob the sum over {@code tokenIds} of {@code log_softmax(logits)[id]}
 * @param meanLogprob {@code sumLogprob / tokenIds.size()}
 */
public record RankedCandidate(
    int index, String text, List<Integer> tokenIds, double sumLogprob, double meanLogprob) {
  public RankedCandidate {
    Objects.requireNonNull(text, "text");
    tokenIds = List.copyOf(tokenIds);
  }
}
