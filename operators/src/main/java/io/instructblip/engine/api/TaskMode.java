package io.instructblip.engine.api;

import java.util.List;

/** What a request asks for: generated text, or the best of its candidate answers. */
public enum TaskMode {
  /** Open-ended: generate the answer. */
  GENERATE,
  /** Multiple choice: rank the candidates by log-likelihood ("vocabulary ranking"). */
  RANK;

  /** The mode of a request with these candidate answers: ranking when there are any. */
  public static TaskMode forCandidates(List<String> candidates) {
    return candidates.isEmpty() ? GENERATE : RANK;
  }
}
