package io.instructblip.engine.generate;

/**
 * One step of logits processing for one row (docs/model-format.md, "Generation semantics").
 * Implementations are stateless apart from their configuration: the same input gives the same
 * output, whatever row or request they serve.
 */
@FunctionalInterface
public interface LogitsProcessor {
  /**
   * Processes {@code scores} (one row, {@code [V]}) <strong>in place</strong>.
   *
   * @param scores the row's scores: logits for greedy and sampling, log-probabilities for beams
   * @param history the row's ids so far (the penalty set and the generated count)
   */
  void process(float[] scores, TokenHistory history);
}
