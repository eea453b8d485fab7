package io.instructblip.flink;

import io.instructblip.engine.ErrorCode;
import java.util.ArrayDeque;
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
 * <p>Up to {@code maxRunning} sequences run together; each new element joins the running batch at
 * the next step boundary, each finished sequence leaves at once and frees its slot for the next
 * waiting element. The stage thread loops steps while sequences run and sleeps while none does.
 * Request ids must be unique among the elements in flight: a duplicate is answered with an {@code
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
  private final ContinuousBatchingConfig config;

  private transient ArrayDeque<Pending<IN>> waiting;
  private transient Set<Long> running;
  private transient Map<String, Long> byRequestId;
  private transient volatile int waitingGauge;
  private transient StepLoop<IN, OUT> loop;
  private transient Thread stageThread;

  ContinuousBatchingOperator(
      StreamOperatorParameters<OUT> parameters,
      StepFunction<IN, OUT> function,
      InFlightCodec<IN> codec,
      ContinuousBatchingConfig config) {
    super(parameters, codec, config.maxInFlight(), config.defaultTimeout());
    this.function = Objects.requireNonNull(function, "function");
    this.config = config;
    this.waiting = new ArrayDeque<>();
    this.running = new HashSet<>();
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
    waiting.addLast(pending);
    admitWaiting();
  }

  /** Moves waiting elements into free running slots, oldest first. */
  private void admitWaiting() {
    while (running.size() < config.maxRunning() && !waiting.isEmpty()) {
      Pending<IN> pending = waiting.pollFirst();
      running.add(pending.seq);
      loop.admit(pending.seq, pending.requestId(), pending.element);
    }
    waitingGauge = waiting.size();
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
      if (!running.remove(finished.seq())) {
        continue; // timed out (and cancelled) before it finished: already answered
      }
      byRequestId.remove(finished.result().requestId(), finished.seq());
      complete(finished.seq(), finished.result());
    }
    admitWaiting();
  }

  @Override
  protected void onTimedOut(Pending<IN> pending) {
    byRequestId.remove(pending.requestId(), pending.seq);
    if (waiting.remove(pending)) {
      waitingGauge = waiting.size();
    } else if (running.remove(pending.seq)) {
      loop.cancel(pending.seq, pending.requestId());
      admitWaiting();
    }
  }

  @Override
  protected void flush() {
    admitWaiting();
  }

  @Override
  protected int queueDepth() {
    return waitingGauge;
  }

  /** The number of sequences handed to the stepper and not yet answered (task-thread view). */
  int runningCount() {
    return running.size();
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
