package io.instructblip.flink;

import java.util.Arrays;
import java.util.Objects;

/**
 * The compact, checkpointed form of an element that a stage holds (queued or running).
 *
 * <p>Stage elements carry a compact request plus a heavy transient payload (decoded pixels,
 * embeddings). Only the compact part goes into checkpoints: after a restore, the element rebuilt by
 * {@link InFlightCodec#fromInFlight} has no payload, and the stage function must re-derive it from
 * the compact request (e.g. decode the image again or recompute the embeddings). {@code payload} is
 * whatever bytes the codec needs for that.
 *
 * @param requestId the request id, unique among the elements in flight
 * @param deadlineMillis the absolute deadline in epoch milliseconds, or {@link #NO_DEADLINE}
 * @param payload the codec's compact encoding of the element
 */
public record InFlight(String requestId, long deadlineMillis, byte[] payload) {

  /** The deadline of an element that never times out. */
  public static final long NO_DEADLINE = Long.MAX_VALUE;

  public InFlight {
    Objects.requireNonNull(requestId, "requestId");
    Objects.requireNonNull(payload, "payload");
  }

  /** True when the element has a deadline. */
  public boolean hasDeadline() {
    return deadlineMillis != NO_DEADLINE;
  }

  /** The same element with another deadline. */
  public InFlight withDeadline(long newDeadlineMillis) {
    return new InFlight(requestId, newDeadlineMillis, payload);
  }

  @Override
  public boolean equals(Object o) {
    return o instanceof InFlight other
        && requestId.equals(other.requestId)
        && deadlineMillis == other.deadlineMillis
        && Arrays.equals(payload, other.payload);
  }

  @Override
  public int hashCode() {
    return Objects.hash(requestId, deadlineMillis, Arrays.hashCode(payload));
  }

  @Override
  public String toString() {
    return "InFlight[" + requestId + ", deadline=" + deadlineMillis + ", " + payload.length + " B]";
  }
}
