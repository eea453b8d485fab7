package io.instructblip.flink.pipeline;

import io.instructblip.engine.api.EngineResult;
import java.util.Objects;

/**
 * What the {@code llm} stage emits for a request it answered: the engine's result and the request's
 * pass-through context.
 *
 * @param result the answer (a request that failed is a {@code Result} error, never an answer)
 * @param context the request's opaque context, unchanged
 */
public record StageAnswer(EngineResult result, byte[] context) {
  public StageAnswer {
    Objects.requireNonNull(result, "result");
    context = context == null ? new byte[0] : context;
  }

  /** The request id. */
  public String id() {
    return result.id();
  }
}
