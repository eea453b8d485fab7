package io.instructblip.flink;

import java.util.List;

/**
 * The runtime side of a micro-batched stage, created by {@link BatchFunction#open}.
 *
 * <p>{@link #apply} runs on the stage thread (never the task thread), one batch at a time per
 * subtask. It returns exactly one result per element, in the order of the elements; a per-element
 * failure is an error {@link Result} for that element. An exception thrown by {@code apply} fails
 * every element of the batch with an error result (the code of an {@link
 * io.instructblip.engine.api.EngineException}, else {@code INTERNAL}); it does not fail the job.
 *
 * <p>Elements restored from a checkpoint have no heavy payload (see {@link InFlight}): {@code
 * apply} must re-derive it.
 *
 * @param <IN> the element type
 * @param <OUT> the value type of a successful result
 */
public interface BatchProcessor<IN, OUT> extends AutoCloseable {

  /** Runs one batch; returns one result per element, in order. */
  List<Result<OUT>> apply(List<IN> batch) throws Exception;

  /** Releases what {@link BatchFunction#open} acquired. Called once, after the last batch. */
  @Override
  default void close() {}
}
