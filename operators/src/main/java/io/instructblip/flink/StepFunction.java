package io.instructblip.flink;

import java.io.Serializable;

/**
 * The factory side of a continuously batched stage (the llm stage): serializable, opened once per
 * operator subtask. The returned {@link Stepper} is used only from the stage thread.
 *
 * @param <IN> the element type (one sequence to generate or rank)
 * @param <OUT> the value type of a finished sequence
 */
@FunctionalInterface
public interface StepFunction<IN, OUT> extends Serializable {

  /** Creates the runtime side for one subtask; failures here fail the job at start. */
  Stepper<IN, OUT> open(StageContext context) throws Exception;
}
