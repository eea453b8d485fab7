package io.instructblip.flink;

import java.io.Serializable;

/**
 * The factory side of a micro-batched stage: serializable, shipped with the job graph, opened once
 * per operator subtask on the task thread. {@link #open} typically acquires a shared engine from
 * {@link SharedEngineRegistry} and returns the runtime side.
 *
 * @param <IN> the element type
 * @param <OUT> the value type of a successful result
 */
@FunctionalInterface
public interface BatchFunction<IN, OUT> extends Serializable {

  /** Creates the runtime side for one subtask; failures here fail the job at start. */
  BatchProcessor<IN, OUT> open(StageContext context) throws Exception;
}
