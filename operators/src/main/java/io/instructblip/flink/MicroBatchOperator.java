package io.instructblip.flink;

import io.instructblip.engine.api.ErrorCode;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.List;
import java.util.Objects;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import org.apache.flink.streaming.api.operators.StreamOperatorParameters;
import org.apache.flink.util.FlinkRuntimeException;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * A stage that runs its elements in micro-batches on a dedicated stage thread.
 *
 * <p>Elements queue in arrival order. A batch of up to {@code maxBatchSize} is dispatched when the
 * queue holds {@code maxBatchSize} elements or when its oldest element has waited {@code maxWait}
 * (a processing-time timer), so an idle stage never holds a lone element longer than {@code
 * maxWait}. One batch runs at a time per subtask, on this subtask's stage thread; while it runs,
 * the queue keeps filling and the next batch is dispatched as soon as it completes and a dispatch
 * condition holds. At end of input every queued element is dispatched without waiting.
 *
 * <p>The batch's results hop onto the mailbox and are emitted by the task thread; a batch completes
 * at most once (an atomic flag refuses a second completion). Successful values go to the main
 * output, errors and timeouts to {@link StageOutputs#FAILURES}. Checkpointing, deadlines,
 * backpressure and draining: see {@link AbstractStageOperator}.
 *
 * <p>Note: an element that times out while its batch runs is answered at once and leaves the
 * in-flight table, so the stage may briefly hold {@code maxInFlight + maxBatchSize} elements.
 *
 * @param <IN> the element type
 * @param <OUT> the value type emitted for a successful element
 */
public final class MicroBatchOperator<IN, OUT> extends AbstractStageOperator<IN, OUT> {
  private static final long serialVersionUID = 1L;
  private static final Logger LOG = LoggerFactory.getLogger(MicroBatchOperator.class);
  private static final long STAGE_THREAD_STOP_MILLIS = 10_000;

  private final BatchFunction<IN, OUT> function;
  private final BatchingConfig config;

  private transient ArrayDeque<Pending<IN>> queue;
  private transient volatile int queueGauge;
  private transient boolean batchRunning;
  private transient boolean draining;
  private transient ScheduledFuture<?> waitTimer;
  private transient long waitTimerAt;
  private transient ExecutorService stageThread;
  private transient BatchProcessor<IN, OUT> processor;

  MicroBatchOperator(
      StreamOperatorParameters<OUT> parameters,
      BatchFunction<IN, OUT> function,
      InFlightCodec<IN> codec,
      BatchingConfig config) {
    super(parameters, codec, config.maxInFlight(), config.defaultTimeout());
    this.function = Objects.requireNonNull(function, "function");
    this.config = config;
    this.queue = new ArrayDeque<>();
  }

  @Override
  protected void openStage() throws Exception {
    StageContext context = stageContext();
    processor = function.open(context);
    String threadName = "stage-" + context.stageName() + "-" + context.subtaskIndex();
    stageThread =
        Executors.newSingleThreadExecutor(
            runnable -> {
              Thread thread = new Thread(runnable, threadName);
              thread.setDaemon(true);
              return thread;
            });
  }

  @Override
  protected void onAccepted(Pending<IN> pending) {
    queue.addLast(pending);
    queueGauge = queue.size();
    maybeDispatch();
  }

  @Override
  protected void onTimedOut(Pending<IN> pending) {
    if (queue.remove(pending)) {
      queueGauge = queue.size();
      maybeDispatch();
    }
  }

  @Override
  protected void flush() {
    draining = true;
    maybeDispatch();
  }

  @Override
  protected int queueDepth() {
    return queueGauge;
  }

  /**
   * Dispatches a batch if none runs and a dispatch condition holds; else arms the max-wait timer.
   */
  private void maybeDispatch() {
    if (queue.isEmpty()) {
      cancelWaitTimer();
      return;
    }
    if (batchRunning) {
      return;
    }
    long now = getProcessingTimeService().getCurrentProcessingTime();
    long dueAt = queue.peekFirst().arrivedAtMillis + config.maxWait().toMillis();
    if (draining || queue.size() >= config.maxBatchSize() || now >= dueAt) {
      cancelWaitTimer();
      dispatch();
    } else if (waitTimer == null || waitTimerAt != dueAt) {
      cancelWaitTimer();
      waitTimerAt = dueAt;
      waitTimer =
          getProcessingTimeService()
              .registerTimer(
                  dueAt,
                  time -> {
                    waitTimer = null;
                    maybeDispatch();
                  });
    }
  }

  private void cancelWaitTimer() {
    if (waitTimer != null) {
      waitTimer.cancel(false);
      waitTimer = null;
    }
  }

  private void dispatch() {
    int size = Math.min(queue.size(), config.maxBatchSize());
    List<Pending<IN>> batch = new ArrayList<>(size);
    List<IN> elements = new ArrayList<>(size);
    for (int i = 0; i < size; i++) {
      Pending<IN> pending = queue.pollFirst();
      batch.add(pending);
      elements.add(pending.element);
    }
    queueGauge = queue.size();
    batchRunning = true;
    metrics.recordBatch(size);
    AtomicBoolean completed = new AtomicBoolean();
    try {
      stageThread.execute(() -> runBatch(batch, elements, completed));
    } catch (RejectedExecutionException e) {
      batchDone(batch, null, e);
    }
  }

  /** Stage thread: runs the batch and hands the outcome to the task thread, once. */
  private void runBatch(List<Pending<IN>> batch, List<IN> elements, AtomicBoolean completed) {
    List<Result<OUT>> results = null;
    Throwable failure = null;
    try {
      results = processor.apply(elements);
      if (results == null || results.size() != elements.size()) {
        failure =
            new IllegalStateException(
                "the batch function returned "
                    + (results == null ? "null" : results.size() + " results")
                    + " for "
                    + elements.size()
                    + " elements; it must return one result per element, in order");
        results = null;
      }
    } catch (Throwable t) {
      failure = t;
    }
    if (!completed.compareAndSet(false, true)) {
      LOG.warn("Refused a second completion of a batch in stage '{}'", stageName());
      return;
    }
    List<Result<OUT>> finalResults = results;
    Throwable finalFailure = failure;
    try {
      mailbox.execute(() -> batchDone(batch, finalResults, finalFailure), "batch completed");
    } catch (RejectedExecutionException e) {
      LOG.debug("Stage '{}' closed before a batch completed; its results are dropped", stageName());
    }
  }

  /** Task thread: answers every element of a finished batch, then dispatches the next one. */
  private void batchDone(List<Pending<IN>> batch, List<Result<OUT>> results, Throwable failure) {
    batchRunning = false;
    if (failure instanceof Error) {
      // OutOfMemoryError and the like: the stage cannot be trusted to go on; Flink restarts it.
      throw new FlinkRuntimeException(
          "a batch of "
              + batch.size()
              + " elements in stage '"
              + stageName()
              + "' failed with an Error: failing the task to restart from the last checkpoint",
          failure);
    }
    if (failure != null && config.failJobOnBatchError()) {
      throw new FlinkRuntimeException(
          "a batch of "
              + batch.size()
              + " elements failed in stage '"
              + stageName()
              + "' and failJobOnBatchError is set: failing the task to restart from the last"
              + " checkpoint",
          failure);
    }
    for (int i = 0; i < batch.size(); i++) {
      Pending<IN> pending = batch.get(i);
      Result<OUT> result;
      if (failure != null) {
        result = failureResult(pending.requestId(), failure);
      } else {
        result = results.get(i);
        if (result == null) {
          result =
              Result.error(
                  pending.requestId(),
                  ErrorCode.INTERNAL,
                  "the batch function returned a null result at position " + i);
        }
      }
      complete(pending.seq, result);
    }
    maybeDispatch();
  }

  @Override
  protected void closeStage() throws Exception {
    cancelWaitTimer();
    if (stageThread != null) {
      stageThread.shutdownNow();
      if (!stageThread.awaitTermination(STAGE_THREAD_STOP_MILLIS, TimeUnit.MILLISECONDS)) {
        LOG.warn("The stage thread of '{}' did not stop within 10 s", stageName());
      }
    }
    if (processor != null) {
      processor.close();
    }
  }
}
