package io.instructblip.flink;

import io.instructblip.engine.api.ErrorCode;

/**
 * A request that a stage answered with an error or a timeout. Stage operators emit it on the side
 * output {@link StageOutputs#FAILURES} (their main output carries only successful values), so the
 * job can turn it into an error response for the same request id.
 *
 * <p>A record of strings and an enum: Flink serializes it with its POJO serializer, not Kryo.
 *
 * @param requestId the request this failure answers
 * @param stage the name of the stage that failed it
 * @param code the stable error code ({@link ErrorCode#TIMEOUT} for a deadline)
 * @param message what went wrong, for a person
 * @param context the element's opaque pass-through context ({@link InFlightCodec#context}), so that
 *     the job can address the error response like an answer; empty when the stage has none
 */
public record StageFailure(
    String requestId, String stage, ErrorCode code, String message, byte[] context) {

  /** A failure without context. */
  public StageFailure(String requestId, String stage, ErrorCode code, String message) {
    this(requestId, stage, code, message, new byte[0]);
  }
}
