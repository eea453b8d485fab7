package io.instructblip.engine.api;

import io.instructblip.engine.generate.FinishReason;
import io.instructblip.engine.generate.RankedCandidate;
import java.util.List;
import java.util.Objects;

/**
 * The engine's answer to one {@link EngineRequest}: the generated text (or the best candidate), why
 * it stopped, token counts and timings; or, when the request failed, the error's code and message.
 * Immutable.
 *
 * @param id the request's id
 * @param text the answer; the best candidate's text for ranking; {@code null} on error
 * @param tokenIds the answer's token ids (no EOS, no decoder start)
 * @param finishReason {@code EOS}, {@code LENGTH}, {@code RANK} or {@code ERROR}
 * @param candidates ranking: every candidate, best first; empty otherwise
 * @param qformerInputIds the Q-Former text ids the request was run with
 * @param promptIds the LLM prompt ids the request was run with (without the query positions)
 * @param timings per-stage time
 * @param errorCode the failure's code, {@code null} when the request succeeded
 * @param errorMessage the failure's message, {@code null} when the request succeeded
 */
public record EngineResult(
    String id,
    String text,
    List<Integer> tokenIds,
    FinishReason finishReason,
    List<RankedCandidate> candidates,
    List<Integer> qformerInputIds,
    List<Integer> promptIds,
    StageTimings timings,
    ErrorCode errorCode,
    String errorMessage) {

  public EngineResult {
    Objects.requireNonNull(id, "id");
    tokenIds = tokenIds == null ? List.of() : List.copyOf(tokenIds);
    candidates = candidates == null ? List.of() : List.copyOf(candidates);
    qformerInputIds = qformerInputIds == null ? List.of() : List.copyOf(qformerInputIds);
    promptIds = promptIds == null ? List.of() : List.copyOf(promptIds);
    Objects.requireNonNull(finishReason, "finishReason");
    timings = timings == null ? StageTimings.ZERO : timings;
  }

  /** The result of a request that failed with {@code error}. */
  public static EngineResult failed(String id, EngineException error, StageTimings timings) {
    return new EngineResult(
        id,
        null,
        List.of(),
        FinishReason.ERROR,
        List.of(),
        List.of(),
        List.of(),
        timings,
        error.code(),
        error.getMessage());
  }

  /** The number of LLM prompt tokens (without the query positions). */
  public int promptTokens() {
    return promptIds.size();
  }

  /** The number of generated tokens (0 for ranking and errors; the final EOS is not counted). */
  public int generatedTokens() {
    return finishReason == FinishReason.EOS || finishReason == FinishReason.LENGTH
        ? tokenIds.size()
        : 0;
  }

  /** Whether the request succeeded. */
  public boolean ok() {
    return errorCode == null;
  }
}
