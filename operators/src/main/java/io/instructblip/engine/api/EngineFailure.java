package io.instructblip.engine.api;

import java.util.Objects;

/**
 * A request the engine could not answer: its error code and a human message saying what to do.
 * Immutable.
 *
 * @param id the request's id
 * @param code what went wrong
 * @param message the human message
 * @param timings per-stage time spent before the failure
 */
public record EngineFailure(String id, ErrorCode code, String message, StageTimings timings)
    implements EngineOutcome {

  public EngineFailure {
    Objects.requireNonNull(id, "id");
    Objects.requireNonNull(code, "code");
    Objects.requireNonNull(message, "message");
    timings = timings == null ? StageTimings.ZERO : timings;
  }

  /** The failure of request {@code id} with {@code error}'s code and message. */
  public static EngineFailure of(String id, EngineException error, StageTimings timings) {
    return new EngineFailure(id, error.code(), error.getMessage(), timings);
  }
}
