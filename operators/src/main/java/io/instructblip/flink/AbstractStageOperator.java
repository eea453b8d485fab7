package io.instructblip.flink;

import io.instructblip.engine.api.EngineException;
import io.instructblip.engine.api.ErrorCode;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import org.apache.flink.api.common.operators.MailboxExecutor;
import org.apache.flink.api.common.state.ListState;
import org.apache.flink.api.common.state.ListStateDescriptor;
import org.apache.flink.api.common.typeinfo.TypeInformation;
import org.apache.flink.runtime.state.StateInitializationContext;
import org.apache.flink.runtime.state.StateSnapshotContext;
import org.apache.flink.streaming.api.operators.AbstractStreamOperator;
import org.apache.flink.streaming.api.operators.BoundedOneInput;
import org.apache.flink.streaming.api.operators.OneInputStreamOperator;
import org.apache.flink.streaming.api.operators.StreamOperatorParameters;
import org.apache.flink.streaming.runtime.streamrecord.StreamRecord;

/**
 * What every stage operator shares: the table of elements in flight, their deadlines, checkpointing
 * them in compact form, answering each exactly once from the task thread, backpressure, draining at
 * end of input, and metrics. Subclasses decide when and how elements run.
 *
 * <p>Threading: every method of this class runs on the task thread (mailbox). Stage threads hand
 * results back through {@link #mailbox}.
 *
 * <p>Exactly once: an element leaves the table when it is answered (value, error or timeout); a
 * result for an element no longer in the table is discarded. A checkpoint stores every element in
 * the table, so after a restore each element not answered before the checkpoint is answered once.
 */
abstract class AbstractStageOperator<IN, OUT> extends AbstractStreamOperator<OUT>
    implements OneInputStreamOperator<IN, OUT>, BoundedOneInput {

  private static final long serialVersionUID = 1L;

  protected final InFlightCodec<IN> codec;
  private final int maxInFlight;
  private final long defaultTimeoutMillis;
  protected final transient MailboxExecutor mailbox;

  private transient Map<Long, Pending<IN>> inFlight;
  private transient long nextSeq;
  private transient ListState<InFlight> state;
  private transient List<InFlight> restored;
  private transient volatile int inFlightGauge;
  protected transient StageMetrics metrics;

  AbstractStageOperator(
      StreamOperatorParameters<OUT> parameters,
      InFlightCodec<IN> codec,
      int maxInFlight,
      Duration defaultTimeout) {
    super(parameters);
    this.codec = Objects.requireNonNull(codec, "codec");
    this.maxInFlight = maxInFlight;
    this.defaultTimeoutMillis = defaultTimeout.toMillis();
    this.mailbox = parameters.getMailboxExecutor();
    this.inFlight = new LinkedHashMap<>();
  }

  /** Called once in {@link #open()} before restored elements are re-admitted. */
  protected abstract void openStage() throws Exception;

  /** A new element is in the table; queue or start it. */
  protected abstract void onAccepted(Pending<IN> pending) throws Exception;

  /** An element's deadline passed; it has already left the table and been answered. */
  protected abstract void onTimedOut(Pending<IN> pending) throws Exception;

  /** End of input: start whatever waits for a fuller batch. */
  protected abstract void flush() throws Exception;

  /** Stops the stage thread and closes the stage function. */
  protected abstract void closeStage() throws Exception;

  /** The number of elements waiting for a batch or a running slot. */
  protected abstract int queueDepth();

  @Override
  public void initializeState(StateInitializationContext context) throws Exception {
    super.initializeState(context);
    state =
        context
            .getOperatorStateStore()
            .getListState(
                new ListStateDescriptor<>("stage-in-flight", TypeInformation.of(InFlight.class)));
    restored = new ArrayList<>();
    if (context.isRestored()) {
      for (InFlight element : state.get()) {
        restored.add(element);
      }
    }
  }

  @Override
  public void open() throws Exception {
    super.open();
    metrics = new StageMetrics(getMetricGroup(), this::queueDepth, () -> inFlightGauge);
    openStage();
    List<InFlight> toReplay = restored == null ? List.of() : restored;
    restored = null;
    for (InFlight compact : toReplay) {
      waitForCapacity();
      accept(codec.fromInFlight(compact), compact);
    }
  }

  @Override
  public void processElement(StreamRecord<IN> record) throws Exception {
    waitForCapacity();
    IN element = record.getValue();
    accept(element, codec.toInFlight(element));
  }

  /** Backpressure: while the table is full, run mails (completions, timers) instead of input. */
  private void waitForCapacity() throws InterruptedException {
    while (inFlight.size() >= maxInFlight) {
      mailbox.yield();
    }
  }

  private void accept(IN element, InFlight compact) throws Exception {
    long now = getProcessingTimeService().getCurrentProcessingTime();
    if (!compact.hasDeadline() && defaultTimeoutMillis > 0) {
      compact = compact.withDeadline(now + defaultTimeoutMillis);
    }
    Pending<IN> pending = new Pending<>(nextSeq++, element, compact, now);
    if (compact.deadlineMillis() <= now) {
      answer(pending, timeoutResult(pending));
      return;
    }
    inFlight.put(pending.seq, pending);
    inFlightGauge = inFlight.size();
    if (compact.hasDeadline()) {
      long seq = pending.seq;
      pending.deadlineTimer =
          getProcessingTimeService()
              .registerTimer(compact.deadlineMillis(), time -> deadlinePassed(seq));
    }
    onAccepted(pending);
  }

  private void deadlinePassed(long seq) throws Exception {
    Pending<IN> pending = inFlight.remove(seq);
    if (pending == null) {
      return;
    }
    pending.deadlineTimer = null;
    inFlightGauge = inFlight.size();
    answer(pending, timeoutResult(pending));
    onTimedOut(pending);
  }

  private Result<OUT> timeoutResult(Pending<IN> pending) {
    return Result.timeout(
        pending.requestId(),
        "stage '"
            + stageName()
            + "' did not answer before the request's deadline ("
            + pending.compact.deadlineMillis()
            + " epoch ms)");
  }

  /**
   * Answers the element with sequence number {@code seq} unless it was answered already (timed out,
   * failed before); the answer is discarded then. Task thread only.
   *
   * @return whether the result was emitted
   */
  protected final boolean complete(long seq, Result<OUT> result) {
    Pending<IN> pending = inFlight.remove(seq);
    if (pending == null) {
      return false;
    }
    pending.cancelDeadlineTimer();
    inFlightGauge = inFlight.size();
    answer(pending, result);
    return true;
  }

  private void answer(Pending<IN> pending, Result<OUT> result) {
    long latency = getProcessingTimeService().getCurrentProcessingTime() - pending.arrivedAtMillis;
    metrics.recordAnswer(result.status(), Math.max(0, latency), result.generatedTokens());
    if (result.isOk()) {
      output.collect(new StreamRecord<>(result.value()));
    } else {
      output.collect(
          StageOutputs.FAILURES,
          new StreamRecord<>(
              new StageFailure(
                  pending.requestId(),
                  stageName(),
                  result.errorCode(),
                  result.message(),
                  codec.context(pending.element))));
    }
  }

  /** The error result for an element of a batch or step that threw {@code failure}. */
  protected final Result<OUT> failureResult(String requestId, Throwable failure) {
    if (failure instanceof EngineException engine) {
      return Result.error(requestId, engine.code(), engine.getMessage());
    }
    return Result.error(
        requestId,
        ErrorCode.INTERNAL,
        "stage '"
            + stageName()
            + "' failed: "
            + failure.getClass().getName()
            + ": "
            + failure.getMessage());
  }

  @Override
  public void snapshotState(StateSnapshotContext context) throws Exception {
    super.snapshotState(context);
    List<InFlight> snapshot = new ArrayList<>(inFlight.size());
    for (Pending<IN> pending : inFlight.values()) {
      snapshot.add(pending.compact);
    }
    state.update(snapshot);
  }

  @Override
  public void endInput() throws Exception {
    flush();
    while (!inFlight.isEmpty()) {
      mailbox.yield();
    }
  }

  @Override
  public void close() throws Exception {
    try {
      for (Pending<IN> pending : inFlight.values()) {
        pending.cancelDeadlineTimer();
      }
      closeStage();
    } finally {
      super.close();
    }
  }

  /** The metrics of this subtask (for tests and the job's diagnostics). */
  public final StageMetrics metrics() {
    return metrics;
  }

  /** The stage's name: the operator name given in the job (e.g. "vision-encoder"). */
  protected final String stageName() {
    String name = getOperatorConfig().getOperatorName();
    return name == null || name.isBlank() ? getClass().getSimpleName() : name;
  }

  /** The stage context handed to the stage function. */
  protected final StageContext stageContext() {
    return new StageContext(
        stageName(),
        getRuntimeContext().getTaskInfo().getIndexOfThisSubtask(),
        getRuntimeContext().getTaskInfo().getNumberOfParallelSubtasks());
  }
}
