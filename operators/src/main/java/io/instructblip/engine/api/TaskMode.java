package io.instructblip.engine.api;

/** What a request asks for: generated text, or the best of its candidate answers. */
public enum TaskMode {
  /** Open-ended: generate the answer. */
  GENERATE,
  /** Multiple choice: rank the candidates by log-likelihood ("vocabulary ranking"). */
  RANK
}
