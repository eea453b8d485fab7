package io.instructblip.flink;

import java.util.List;

/**
 * The runtime side of a continuously batched stage: a set of running sequences advanced one decode
 * step at a time. All methods are called from one stage thread only (no synchronization needed).
 *
 * <p>Contract:
 *
 * <ul>
 *   <li>{@link #admit} hands over a sequence; the stepper decides when it joins the running batch
 *       (at a {@link #step}, when its limits leave room). An exception from {@code admit} fails
 *       only that element.
 *   <li>{@link #step} advances every running sequence by one token and returns the sequences that
 *       finished in this step (they leave the batch at once), keyed by request id. A sequence that
 *       fails alone is returned as an error result. An exception from {@code step} fails every
 *       running sequence (the operator then calls {@link #cancel} for each).
 *   <li>{@link #cancel} removes a sequence (deadline passed); cancelling an unknown or already
 *       finished id is a no-op.
 *   <li>{@link #waiting} is the number of sequences handed over that do not run yet (the stage's
 *       queue depth).
 * </ul>
 *
 * <p>Restored elements have no heavy payload (see {@link InFlight}): {@code admit} must re-derive
 * it; a restored sequence restarts from its compact input.
 *
 * @param <IN> the element type
 * @param <OUT> the value type of a finished sequence
 */
public interface Stepper<IN, OUT> extends AutoCloseable {

  /** Adds a sequence, which joins the batch at the next step. */
  void admit(IN element) throws Exception;

  /** Advances all running sequences one token; returns those that finished. */
  List<Result<OUT>> step() throws Exception;

  /** Removes a running sequence; unknown ids are ignored. */
  void cancel(String requestId);

  /** The number of sequences handed over that wait for room in a step. */
  int waiting();

  /**
   * The bytes the last {@link #step} copied between the Java heap and native memory (the llm
   * stage's KV traffic check); 0 where a stepper does not count them.
   */
  default long lastStepHostBytes() {
    return 0;
  }

  /** Releases what {@link StepFunction#open} acquired. Called once, on the stage thread. */
  @Override
  default void close() {}
}
