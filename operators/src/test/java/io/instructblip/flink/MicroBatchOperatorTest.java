package io.instructblip.flink;

import static io.instructblip.flink.Mailboxes.runMailsUntil;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.time.Duration;
import java.util.List;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicReference;
import java.util.stream.Collectors;
import org.apache.flink.runtime.checkpoint.OperatorSubtaskState;
import org.apache.flink.streaming.runtime.streamrecord.StreamRecord;
import org.apache.flink.streaming.util.OneInputStreamOperatorTestHarness;
import org.apache.flink.util.FlinkRuntimeException;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

class MicroBatchOperatorTest {

  /** This test's fake; a restore test replaces it with a fresh one for the restored operator. */
  private FakeBatchFunction fake = new FakeBatchFunction();

  @AfterEach
  void releaseFake() {
    fake.release();
  }

  private OneInputStreamOperatorTestHarness<TestRequest, String> harness(BatchingConfig config)
      throws Exception {
    return new OneInputStreamOperatorTestHarness<>(
        new MicroBatchOperatorFactory<>(fake, new TestRequest.Codec(), config));
  }

  private static BatchingConfig config(int maxBatchSize, long maxWaitMillis, int maxInFlight) {
    return BatchingConfig.builder()
        .maxBatchSize(maxBatchSize)
        .maxWait(Duration.ofMillis(maxWaitMillis))
        .maxInFlight(maxInFlight)
        .build();
  }

  private static List<String> failures(OneInputStreamOperatorTestHarness<TestRequest, String> h) {
    return h.getSideOutput(StageOutputs.FAILURES) == null
        ? List.of()
        : h.getSideOutput(StageOutputs.FAILURES).stream()
            .map(StreamRecord::getValue)
            .map(f -> f.requestId() + "=" + f.code())
            .collect(Collectors.toList());
  }

  private static int answered(OneInputStreamOperatorTestHarness<TestRequest, String> h) {
    return h.extractOutputValues().size() + failures(h).size();
  }

  @Test
  void batchesFormBySizeWhileTheStageIsBusyAndTheRestByMaxWait() throws Exception {
    try (var h = harness(config(3, 100, 16))) {
      h.open();
      h.setProcessingTime(0);
      for (String id : List.of("a", "b", "c", "d", "e", "f", "g")) {
        h.processElement(TestRequest.of(id), 0);
      }
      runMailsUntil(h, () -> h.extractOutputValues().size() == 6);
      assertEquals(List.of(List.of("a", "b", "c"), List.of("d", "e", "f")), fake.batches());
      assertEquals(
          1,
          h.getProcessingTimeService().getNumActiveTimers(),
          "the lone 'g' waits on the max-wait timer");

      h.setProcessingTime(99);
      assertEquals(2, fake.batches().size(), "no batch before max-wait");
      h.setProcessingTime(100);
      runMailsUntil(h, () -> h.extractOutputValues().size() == 7);

      assertEquals(List.of("g"), fake.batches().get(2));
      assertEquals(
          List.of("out:a", "out:b", "out:c", "out:d", "out:e", "out:f", "out:g"),
          h.extractOutputValues());
      assertEquals(0, h.getProcessingTimeService().getNumActiveTimers());
      assertEquals(
          7, h.getOperator() instanceof MicroBatchOperator<?, ?> op ? op.metrics().okCount() : -1);
    }
  }

  @Test
  void maxWaitCountsFromTheOldestElement() throws Exception {
    try (var h = harness(config(4, 10, 16))) {
      h.open();
      h.setProcessingTime(0);
      h.processElement(TestRequest.of("a"), 0);
      h.setProcessingTime(6);
      h.processElement(TestRequest.of("b"), 0);
      h.setProcessingTime(9);
      assertTrue(fake.batches().isEmpty());
      h.setProcessingTime(10);
      runMailsUntil(h, () -> h.extractOutputValues().size() == 2);
      assertEquals(List.of(List.of("a", "b")), fake.batches());
      assertEquals(0, h.getProcessingTimeService().getNumActiveTimers());
    }
  }

  @Test
  void zeroMaxWaitDispatchesAtOnce() throws Exception {
    try (var h = harness(config(4, 0, 16))) {
      h.open();
      h.processElement(TestRequest.of("a"), 0);
      runMailsUntil(h, () -> h.extractOutputValues().size() == 1);
      assertEquals(List.of(List.of("a")), fake.batches());
    }
  }

  @Test
  void elementFailuresAndBatchFailuresBecomeErrorResults() throws Exception {
    try (var h = harness(config(2, 1000, 16))) {
      h.open();
      h.processElement(TestRequest.of("a"), 0);
      h.processElement(TestRequest.of("bad1"), 0);
      runMailsUntil(h, () -> answered(h) == 2);
      h.processElement(TestRequest.of("boom"), 0);
      h.processElement(TestRequest.of("b"), 0);
      runMailsUntil(h, () -> answered(h) == 4);

      assertEquals(List.of("out:a"), h.extractOutputValues());
      assertEquals(
          List.of("bad1=IMAGE_UNREADABLE", "boom=MODEL_ERROR", "b=MODEL_ERROR"), failures(h));
      StageFailure failure = h.getSideOutput(StageOutputs.FAILURES).peek().getValue();
      assertEquals("cannot decode bad1", failure.message());
    }
  }

  @Test
  void aBatchErrorFailsTheTaskWhenConfiguredTo() throws Exception {
    BatchingConfig config =
        BatchingConfig.builder().maxBatchSize(1).maxInFlight(4).failJobOnBatchError(true).build();
    try (var h = harness(config)) {
      h.open();
      h.processElement(TestRequest.of("boom"), 0);
      FlinkRuntimeException e =
          assertThrows(FlinkRuntimeException.class, () -> runMailsUntil(h, () -> false));
      assertEquals(
          "a batch of 1 elements failed in stage 'MicroBatchOperator' and failJobOnBatchError is"
              + " set: failing the task to restart from the last checkpoint",
          e.getMessage());
      assertEquals(List.of(), failures(h));
    }
  }

  @Test
  void snapshotWithElementsInFlightRestoresAndAnswersEachOnce() throws Exception {
    OperatorSubtaskState snapshot;
    try (var h = harness(config(2, 1000, 16))) {
      h.open();
      h.processElement(TestRequest.of("done"), 0);
      h.endInput(); // answered before the checkpoint: must not come back
      assertEquals(List.of("out:done"), h.extractOutputValues());

      fake.hold();
      h.processElement(TestRequest.of("a"), 0);
      h.processElement(TestRequest.of("b"), 0); // batch [a, b] is running, held
      h.processElement(TestRequest.of("c"), 0); // queued
      Mailboxes.await(() -> fake.batches().size() == 2);
      snapshot = h.snapshot(1L, 1L); // must not wait for the held batch
      assertEquals(List.of("out:done"), h.extractOutputValues());
    }
    fake = new FakeBatchFunction();
    try (var restored = harness(config(2, 1000, 16))) {
      restored.initializeState(snapshot);
      restored.open();
      restored.endInput();
      assertEquals(
          List.of("out:a:restored", "out:b:restored", "out:c:restored"),
          restored.extractOutputValues());
      assertEquals(List.of(List.of("~a", "~b"), List.of("~c")), fake.batches());
      assertEquals(0, restored.getProcessingTimeService().getNumActiveTimers());
    }
  }

  @Test
  void restoredElementsKeepTheirDeadlines() throws Exception {
    OperatorSubtaskState snapshot;
    try (var h = harness(config(2, 1000, 16))) {
      h.open();
      h.setProcessingTime(0);
      h.processElement(TestRequest.withDeadline("late", 50), 0);
      snapshot = h.snapshot(1L, 1L);
    }
    try (var restored = harness(config(2, 1000, 16))) {
      restored.initializeState(snapshot);
      restored.setProcessingTime(40);
      restored.open();
      assertEquals(
          1,
          restored.getProcessingTimeService().getNumActiveTimers() - 1,
          "deadline + max-wait timers");
      restored.setProcessingTime(50);
      assertEquals(List.of("late=TIMEOUT"), failures(restored));
      assertEquals(0, restored.getProcessingTimeService().getNumActiveTimers());
    }
  }

  @Test
  void deadlinesFireTimeoutsDiscardLateResultsAndLeaveNoTimers() throws Exception {
    try (var h = harness(config(2, 1000, 16))) {
      h.open();
      h.setProcessingTime(0);
      fake.hold();
      h.processElement(TestRequest.withDeadline("run1", 30), 0);
      h.processElement(TestRequest.of("run2"), 0); // batch [run1, run2] held
      h.processElement(TestRequest.withDeadline("queued", 20), 0);
      assertEquals(
          2,
          h.getProcessingTimeService().getNumActiveTimers(),
          "two deadlines; no max-wait timer while a batch runs");

      h.setProcessingTime(20);
      assertEquals(List.of("queued=TIMEOUT"), failures(h));
      h.setProcessingTime(30);
      assertEquals(List.of("queued=TIMEOUT", "run1=TIMEOUT"), failures(h));
      assertEquals(0, h.getProcessingTimeService().getNumActiveTimers());

      fake.release();
      runMailsUntil(h, () -> h.extractOutputValues().size() == 1);
      h.endInput();
      assertEquals(List.of("out:run2"), h.extractOutputValues(), "run1's late result discarded");
      assertEquals(List.of(List.of("run1", "run2")), fake.batches());
      StageMetrics metrics = ((MicroBatchOperator<?, ?>) h.getOperator()).metrics();
      assertEquals(2, metrics.timeoutCount());
      assertEquals(1, metrics.okCount());
      assertEquals(2, metrics.batchSizes().getStatistics().getMax());
      assertEquals(0, h.getProcessingTimeService().getNumActiveTimers());
    }
  }

  @Test
  void defaultTimeoutAppliesToElementsWithoutDeadlineAndPastDeadlinesFailAtOnce() throws Exception {
    BatchingConfig config =
        BatchingConfig.builder()
            .maxBatchSize(4)
            .maxWait(Duration.ofSeconds(1))
            .defaultTimeout(Duration.ofMillis(200))
            .build();
    try (var h = harness(config)) {
      h.open();
      h.setProcessingTime(1000);
      h.processElement(TestRequest.withDeadline("expired", 999), 0);
      assertEquals(List.of("expired=TIMEOUT"), failures(h));
      assertEquals(0, h.getProcessingTimeService().getNumActiveTimers());

      h.processElement(TestRequest.of("a"), 0);
      h.setProcessingTime(1199);
      assertEquals(1, failures(h).size());
      h.setProcessingTime(1200);
      assertEquals(List.of("expired=TIMEOUT", "a=TIMEOUT"), failures(h));
      assertEquals(0, h.getProcessingTimeService().getNumActiveTimers());
      assertTrue(fake.batches().isEmpty());
    }
  }

  @Test
  void endInputDrainsQueuedAndRunningElements() throws Exception {
    try (var h = harness(config(4, 3_600_000, 16))) {
      h.open();
      h.processElement(TestRequest.of("a"), 0);
      h.processElement(TestRequest.of("b"), 0);
      h.processElement(TestRequest.of("c"), 0);
      h.endInput();
      assertEquals(List.of("out:a", "out:b", "out:c"), h.extractOutputValues());
      assertEquals(List.of(List.of("a", "b", "c")), fake.batches());
      assertEquals(0, h.getProcessingTimeService().getNumActiveTimers());
    }
    assertEquals(1, fake.opened());
    assertEquals(1, fake.closed());
  }

  @Test
  void fullInFlightTableBlocksInputUntilABatchCompletes() throws Exception {
    try (var h = harness(config(2, 1000, 2))) {
      h.open();
      fake.hold();
      h.processElement(TestRequest.of("a"), 0);
      h.processElement(TestRequest.of("b"), 0);
      Mailboxes.await(() -> fake.batches().size() == 1);

      // The batch holding the table is released only once the task thread is parked inside
      // processElement("c"): if "c" got in without waiting, "released" would still be false.
      Thread task = Thread.currentThread();
      AtomicBoolean released = new AtomicBoolean();
      AtomicReference<Throwable> releaserFailure = new AtomicReference<>();
      Thread releaser =
          new Thread(
              () -> {
                try {
                  Mailboxes.await(
                      () ->
                          task.getState() == Thread.State.WAITING
                              || task.getState() == Thread.State.TIMED_WAITING);
                } catch (InterruptedException | AssertionError e) {
                  releaserFailure.set(e);
                }
                released.set(true);
                fake.release();
              });
      releaser.start();
      h.processElement(TestRequest.of("c"), 0); // blocks: the table is full
      assertTrue(released.get(), "'c' got into a full table before a batch completed");
      releaser.join();
      assertNull(releaserFailure.get(), "the task thread never waited for room in the table");

      assertEquals(
          List.of("out:a", "out:b"), h.extractOutputValues(), "answered before 'c' got in");
      h.endInput();
      assertEquals(List.of("out:a", "out:b", "out:c"), h.extractOutputValues());
    }
  }
}
