package io.instructblip.flink;

import io.instructblip.engine.api.ErrorCode;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Set;
import java.util.concurrent.RejectedExecutionException;
import org.apache.flink.streaming.api.operators.StreamOperatorParameters;
import org.apache.flink.util.FlinkRuntimeException;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The llm stage: continuous batching driven by a {@link Stepper} on a dedicated stage thread.
 *
 * <p>The operator bounds only the elements in flight ({@code maxInFlight}, backpressure beyond it)
 * and hands each accepted element to the stepper at the next step boundary; the stepper alone
 * decides which of its sequences run in a step (the llm stage: {@code ContinuousBatchScheduler}, by
 * rows and tokens), and its waiting sequences are the operator's queue-depth gauge. The stage
 * thread loops steps while the stepper holds sequences and sleeps while it holds none. Request ids
 * must be unique among the elements in flight: a duplicate is answered with an {@code
 * INVALID_PARAMETER} error at once.
 *
 * <p>A sequence whose deadline passes is answered with a timeout and cancelled in the stepper. A
 * checkpoint stores the compact form of every waiting and running element without waiting for a
 * generation to end; after a restore, those sequences restart from their compact input. Emission,
 * backpressure and draining: see {@link AbstractStageOperator}.
 *
 * @param <IN> the element type
 * @param <OUT> the value type emitted for a finished sequence
 */
public final class ContinuousBatchingOperator<IN, OUT> extends AbstractStageOperator<IN, OUT> {
  private static final long serialVersionUID = 1L;
  private static final Logger LOG = LoggerFactory.getLogger(ContinuousBatchingOperator.class);
  private static final long STAGE_THREAD_STOP_MILLIS = 10_000;

  private final StepFunction<IN, OUT> function;

  private transient Set<Long> inStepper;
  private transient Map<String, Long> byRequestId;
  private transient StepLoop<IN, OUT> loop;
  private transient Thread stageThread;

  ContinuousBatchingOperator(
      StreamOperatorParameters<OUT> parameters,
      StepFunction<IN, OUT> function,
      InFlightCodec<IN> codec,
      ContinuousBatchingConfig config) {
    super(parameters, codec, config.maxInFlight(), config.defaultTimeout());
    this.function = Objects.requireNonNull(function, "function");
    this.inStepper = new HashSet<>();
    this.byRequestId = new HashMap<>();
  }

  @Override
  protected void openStage() throws Exception {
    StageContext context = stageContext();
    Stepper<IN, OUT> stepper = function.open(context);
    loop =
        new StepLoop<>(
            stepper,
            this::stepFinished,
            this::failureResult,
            metrics::recordBatch,
            this::stageThreadDied);
    StepLoop<IN, OUT> started = loop;
    getMetricGroup().gauge("hostBytesPerStep", started::lastStepHostBytes);
    stageThread = new Thread(loop, "stage-" + context.stageName() + "-" + context.subtaskIndex());
    stageThread.setDaemon(true);
    stageThread.start();
  }

  @Override
  protected void onAccepted(Pending<IN> pending) {
    if (byRequestId.putIfAbsent(pending.requestId(), pending.seq) != null) {
      complete(
          pending.seq,
          Result.error(
              pending.requestId(),
              ErrorCode.INVALID_PARAMETER,
              "request id '"
                  + pending.requestId()
                  + "' is already in flight in this stage; request ids must be unique"));
      return;
    }
    inStepper.add(pending.seq);
    loop.admit(pending.seq, pending.requestId(), pending.element);
  }

  /** Stage thread: hands the sequences that finished in a step to the task thread. */
  private void stepFinished(List<StepLoop.Finished<OUT>> results) {
    try {
      mailbox.execute(() -> answer(results), "sequences finished");
    } catch (RejectedExecutionException e) {
      LOG.debug("Stage '{}' closed; {} finished sequences dropped", stageName(), results);
    }
  }

  /** Stage thread: its loop died; the task fails (on the task thread) so that Flink restarts it. */
  private void stageThreadDied(Throwable cause) {
    try {
      mailbox.execute(
          () -> {
            throw new FlinkRuntimeException(
                "the stage thread of '"
                    + stageName()
                    + "' died; failing the task so that Flink restarts it from the last"
                    + " checkpoint",
                cause);
          },
          "stage thread died");
    } catch (RejectedExecutionException e) {
      LOG.debug("Stage '{}' closed; its stage thread's death is not reported", stageName());
    }
  }

  private void answer(List<StepLoop.Finished<OUT>> results) {
    for (StepLoop.Finished<OUT> finished : results) {
      if (!inStepper.remove(finished.seq())) {
        continue; // timed out (and cancelled) before it finished: already answered
      }
      byRequestId.remove(finished.result().requestId(), finished.seq());
      complete(finished.seq(), finished.result());
    }
  }

  @Override
  protected void onTimedOut(Pending<IN> pending) {
    byRequestId.remove(pending.requestId(), pending.seq);
    if (inStepper.remove(pending.seq)) {
      loop.cancel(pending.seq, pending.requestId());
    }
  }

  @Override
  protected void flush() {
    // Nothing held back here: every accepted element is already with the stepper.
  }

  /** The sequences waiting in the stepper for room in a step (its scheduler's queue). */
  @Override
  protected int queueDepth() {
    return loop == null ? 0 : loop.waiting();
  }

  /** The number of sequences handed to the stepper and not yet answered (task-thread view). */
  int inStepperCount() {
    return inStepper.size();
  }

  @Override
  protected void closeStage() throws Exception {
    if (stageThread != null) {
      loop.stop();
      stageThread.join(STAGE_THREAD_STOP_MILLIS);
      if (stageThread.isAlive()) {
        stageThread.interrupt();
        LOG.warn("The stage thread of '{}' did not stop within 10 s", stageName());
      }
    }
  }
}
