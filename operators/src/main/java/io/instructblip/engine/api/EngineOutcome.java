package io.instructblip.engine.api;

/**
 * What the engine gives back for one request: its answer ({@link EngineResult}) or its failure
 * ({@link EngineFailure}), never both. {@code InstructBlipEngine.infer} returns one per request, in
 * request order; the generation loop one per finished request.
 */
public sealed interface EngineOutcome permits EngineResult, EngineFailure {

  /** The request's id. */
  String id();

  /** Per-stage time spent on the request (up to its failure, for a failure). */
  StageTimings timings();

  /**
   * The answer.
   *
   * @throws EngineException the failure's code and message, when the request failed
   */
  default EngineResult answer() {
    if (this instanceof EngineFailure f) {
      throw new EngineException(f.code(), f.message());
    }
    return (EngineResult) this;
  }
}
