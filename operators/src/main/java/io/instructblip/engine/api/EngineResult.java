package io.instructblip.engine.api;

import io.instructblip.engine.generate.FinishReason;
import io.instructblip.engine.generate.RankedCandidate;
import java.util.List;
import java.util.Objects;

/**
 * The engine's answer to one {@link EngineRequest}: the generated text (or the best candidate), why
 * it stopped, token counts and timings. Only answers: a request that failed is an {@link
 * EngineFailure} instead. Immutable.
 *
 * @param id the request's id
 * @param text the answer; the best candidate's text for ranking
 * @param tokenIds the answer's token ids (no EOS, no decoder start)
 * @param finishReason {@code EOS}, {@code LENGTH} or {@code RANK}
 * @param candidates ranking: every candidate, best first; empty otherwise
 * @param qformerInputIds the Q-Former text ids the request was run with
 * @param promptIds the LLM prompt ids the request was run with (without the query positions)
 * @param timings per-stage time
 */
public record EngineResult(
    String id,
    String text,
    List<Integer> tokenIds,
    FinishReason finishReason,
    List<RankedCandidate> candidates,
    List<Integer> qformerInputIds,
    List<Integer> promptIds,
    StageTimings timings)
    implements EngineOutcome {

  public EngineResult {
    Objects.requireNonNull(id, "id");
    tokenIds = tokenIds == null ? List.of() : List.copyOf(tokenIds);
    candidates = candidates == null ? List.of() : List.copyOf(candidates);
    qformerInputIds = qformerInputIds == null ? List.of() : List.copyOf(qformerInputIds);
    promptIds = promptIds == null ? List.of() : List.copyOf(promptIds);
    Objects.requireNonNull(finishReason, "finishReason");
    timings = timings == null ? StageTimings.ZERO : timings;
  }

  /** The number of LLM prompt tokens (without the query positions). */
  public int promptTokens() {
    return promptIds.size();
  }

  /** The number of generated tokens (0 for ranking; the final EOS is not counted). */
  public int generatedTokens() {
    return finishReason == FinishReason.RANK ? 0 : tokenIds.size();
  }
}
