package io.instructblip.flink;

import java.io.Serializable;

/**
 * Converts a stage's elements to and from their checkpointed compact form.
 *
 * <p>Contract: {@code toInFlight} reads the element's request id and deadline (epoch millis, or
 * {@link InFlight#NO_DEADLINE}) and encodes only the compact request, never the heavy transient
 * payload. {@code fromInFlight} rebuilds an element without payload; the stage's function must
 * accept such an element and re-derive the payload. Both run on the task thread and must be cheap.
 *
 * @param <IN> the stage's element type
 */
public interface InFlightCodec<IN> extends Serializable {

  /** The compact form of an element, with its request id and deadline. */
  InFlight toInFlight(IN element);

  /** An element rebuilt from its compact form (without the heavy payload). */
  IN fromInFlight(InFlight inFlight);

  /**
   * The element's opaque pass-through context, copied into a {@link StageFailure} when the stage
   * fails the element; none by default.
   */
  default byte[] context(IN element) {
    return new byte[0];
  }
}
