package io.instructblip.flink;

import static io.instructblip.flink.Mailboxes.runMailsUntil;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.List;
import java.util.stream.Collectors;
import org.apache.flink.runtime.checkpoint.OperatorSubtaskState;
import org.apache.flink.streaming.runtime.streamrecord.StreamRecord;
import org.apache.flink.streaming.util.OneInputStreamOperatorTestHarness;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

class ContinuousBatchingOperatorTest {

  /** This test's fake; a restore test replaces it with a fresh one for the restored operator. */
  private FakeStepFunction fake = new FakeStepFunction();

  @AfterEach
  void ungate() {
    fake.ungate();
  }

  /** The operator over {@link #fake}, which runs at most {@code config.maxRunning()} at once. */
  private OneInputStreamOperatorTestHarness<TestRequest, String> harness(
      ContinuousBatchingConfig config) throws Exception {
    fake.maxRunning(config.maxRunning());
    return new OneInputStreamOperatorTestHarness<>(
        new ContinuousBatchingOperatorFactory<>(fake, new TestRequest.Codec(), config));
  }

  private static ContinuousBatchingConfig config(int maxRunning, int maxInFlight) {
    return ContinuousBatchingConfig.builder()
        .maxRunning(maxRunning)
        .maxInFlight(maxInFlight)
        .build();
  }

  private static List<String> failures(OneInputStreamOperatorTestHarness<TestRequest, String> h) {
    var side = h.getSideOutput(StageOutputs.FAILURES);
    return side == null
        ? List.of()
        : side.stream()
            .map(StreamRecord::getValue)
            .map(f -> f.requestId() + "=" + f.code())
            .collect(Collectors.toList());
  }

  private static ContinuousBatchingOperator<?, ?> operator(
      OneInputStreamOperatorTestHarness<TestRequest, String> h) {
    return (ContinuousBatchingOperator<?, ?>) h.getOperator();
  }

  @Test
  void sequencesJoinAtStepBoundariesAndLeaveAsSoonAsTheyFinish() throws Exception {
    fake.gated();
    try (var h = harness(config(2, 8))) {
      h.open();
      h.processElement(TestRequest.withSteps("a", 2), 0);
      fake.awaitBlockedInStep(1); // step 1 runs [a]
      h.processElement(TestRequest.withSteps("b", 3), 0); // handed over at the next boundary
      h.processElement(TestRequest.withSteps("c", 1), 0); // too: the stepper makes it wait
      assertEquals(3, operator(h).inStepperCount(), "the operator holds nothing back");

      fake.allowSteps(1);
      fake.awaitBlockedInStep(2); // step 2 runs [a, b] (at most 2): a finishes, c waits
      fake.allowSteps(1);
      fake.awaitBlockedInStep(3); // step 3 runs [b, c]: c joined as soon as a left
      fake.allowSteps(1);
      fake.awaitBlockedInStep(4); // step 4 runs [b]
      fake.allowSteps(1);
      runMailsUntil(h, () -> h.extractOutputValues().size() == 3);

      assertEquals(
          List.of(List.of("a"), List.of("a", "b"), List.of("b", "c"), List.of("b")), fake.steps());
      assertEquals(List.of("gen:a", "gen:c", "gen:b"), h.extractOutputValues());
      assertEquals(0, operator(h).inStepperCount());
      assertEquals(6, operator(h).metrics().generatedTokenCount());
      assertEquals(3, operator(h).metrics().okCount());
    }
    assertEquals(1, fake.closed(), "the stepper is closed with the operator");
  }

  @Test
  void theStepperDecidesWhoRunsAndEverySequenceRunsItsSteps() throws Exception {
    fake.gated();
    try (var h = harness(config(3, 16))) {
      h.open();
      for (int i = 0; i < 10; i++) {
        h.processElement(TestRequest.withSteps("s" + i, 1 + i % 4), 0);
      }
      fake.awaitBlockedInStep(1);
      fake.ungate();
      h.endInput();
      assertEquals(10, h.extractOutputValues().size());
      int largest = fake.steps().stream().mapToInt(List::size).max().orElse(0);
      assertTrue(largest <= 3, "a step ran " + largest + " sequences");
      int slots = fake.steps().stream().mapToInt(List::size).sum();
      assertEquals(23, slots, "each sequence ran exactly its number of steps");
    }
  }

  @Test
  void refusedAdmissionsAndDuplicateIdsFailOnlyThatElement() throws Exception {
    fake.gated();
    try (var h = harness(config(2, 8))) {
      h.open();
      h.processElement(TestRequest.withSteps("a", 1), 0);
      fake.awaitBlockedInStep(1);
      h.processElement(TestRequest.withSteps("a", 1), 0);
      h.processElement(TestRequest.withSteps("bad", 1), 0);
      assertEquals(List.of("a=INVALID_PARAMETER"), failures(h));
      fake.ungate();
      h.endInput();
      assertEquals(List.of("gen:a"), h.extractOutputValues());
      assertEquals(List.of("a=INVALID_PARAMETER", "bad=INVALID_PARAMETER"), failures(h));
    }
  }

  @Test
  void aStageThreadThatDiesOfAnErrorFailsTheTask() throws Exception {
    // Before: the thread died silently and every later element waited forever.
    try (var h = harness(config(2, 8))) {
      h.open();
      h.processElement(TestRequest.withSteps("oom-1", 3), 0);
      org.apache.flink.util.FlinkRuntimeException e =
          org.junit.jupiter.api.Assertions.assertThrows(
              org.apache.flink.util.FlinkRuntimeException.class,
              () -> runMailsUntil(h, () -> false));
      assertEquals(
          "the stage thread of '"
              + operator(h).stageName()
              + "' died; failing the task so that Flink restarts it from the last checkpoint",
          e.getMessage());
      assertTrue(e.getCause() instanceof OutOfMemoryError, String.valueOf(e.getCause()));
    }
  }

  @Test
  void timedOutSequencesAreCancelledAndFreeTheirSlot() throws Exception {
    fake.gated();
    try (var h = harness(config(1, 8))) {
      h.open();
      h.setProcessingTime(0);
      h.processElement(new TestRequest("slow", 100, 1000, "p"), 0);
      fake.awaitBlockedInStep(1);
      h.processElement(TestRequest.withSteps("next", 1), 0); // waits for the only slot
      assertEquals(1, h.getProcessingTimeService().getNumActiveTimers());

      h.setProcessingTime(100);
      assertEquals(List.of("slow=TIMEOUT"), failures(h));
      assertEquals(0, h.getProcessingTimeService().getNumActiveTimers());
      fake.ungate();
      h.endInput();

      assertEquals(List.of("gen:next"), h.extractOutputValues());
      assertEquals(List.of("slow"), fake.cancelled());
      assertEquals(List.of("slow"), fake.steps().get(0));
      assertEquals(List.of("next"), fake.steps().get(fake.steps().size() - 1));
    }
  }

  @Test
  void aStaleResultNeverAnswersALaterElementWithTheSameRequestId() throws Exception {
    fake.gated();
    try (var h = harness(config(2, 8))) {
      h.open();
      h.setProcessingTime(0);
      h.processElement(new TestRequest("x", 100, 1, "p"), 0);
      fake.awaitBlockedInStep(1); // this step will finish the first "x"
      h.setProcessingTime(100); // ... but it times out first
      h.processElement(TestRequest.withSteps("x", 2), 0); // same id, admitted again
      fake.ungate();
      h.endInput();

      assertEquals(List.of("x=TIMEOUT"), failures(h));
      assertEquals(List.of("gen:x"), h.extractOutputValues());
      assertEquals(
          2,
          operator(h).metrics().generatedTokenCount(),
          "the answer is the second x's (2 tokens), not the first's stale one (1 token)");
    }
  }

  @Test
  void checkpointDoesNotWaitAndRestoredSequencesRestartOnce() throws Exception {
    OperatorSubtaskState snapshot;
    fake.gated();
    try (var h = harness(config(2, 8))) {
      h.open();
      h.processElement(TestRequest.withSteps("a", 5), 0);
      h.processElement(TestRequest.withSteps("b", 5), 0);
      h.processElement(TestRequest.withSteps("c", 2), 0);
      fake.allowSteps(2);
      fake.awaitBlockedInStep(3); // a and b are mid-generation, c waits
      snapshot = h.snapshot(1L, 1L);
      assertEquals(List.of(), h.extractOutputValues());
      fake.ungate(); // lets the old stage thread stop at its next step boundary
    }
    fake = new FakeStepFunction();
    try (var restored = harness(config(2, 8))) {
      restored.initializeState(snapshot);
      restored.open();
      restored.endInput();
      assertEquals(
          List.of("gen:a:restored", "gen:b:restored", "gen:c:restored"),
          restored.extractOutputValues().stream().sorted().toList());
      for (List<String> step : fake.steps()) {
        assertTrue(step.stream().allMatch(id -> id.startsWith("~")), "restored: " + step);
      }
    }
  }
}
