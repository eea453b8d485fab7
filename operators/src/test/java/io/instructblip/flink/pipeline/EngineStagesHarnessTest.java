package io.instructblip.flink.pipeline;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;

import io.instructblip.flink.BatchingConfig;
import io.instructblip.flink.ContinuousBatchingConfig;
import io.instructblip.flink.ContinuousBatchingOperatorFactory;
import io.instructblip.flink.MicroBatchOperatorFactory;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.apache.flink.runtime.checkpoint.OperatorSubtaskState;
import org.apache.flink.streaming.util.OneInputStreamOperatorTestHarness;
import org.junit.jupiter.api.Test;

/**
 * The three model stages on the real engine (tiny-vicuna fixture) in Flink's operator harness:
 * every stage is snapshotted with requests in flight and restored into a new harness, and every
 * request is still answered exactly once, with the reference's tokens.
 */
class EngineStagesHarnessTest {
  private static final EngineSpec ENGINE = GoldenStageItems.ENGINE;
  private static final BatchingConfig HOLD =
      BatchingConfig.builder()
          .maxBatchSize(8)
          .maxWait(Duration.ofSeconds(5))
          .maxInFlight(16)
          .build();

  @Test
  void everyStageRestoresItsInFlightRequestsAndAnswersEachOnce() throws Exception {
    Map<String, List<Integer>> expected = new HashMap<>();
    List<StageItem> input = GoldenStageItems.generateCases(expected);

    List<StageItem> embedded =
        snapshotRestoreDrain(
            () ->
                new OneInputStreamOperatorTestHarness<>(
                    new MicroBatchOperatorFactory<>(
                        new VisualStageFunction(ENGINE, VisualStageFunction.Stage.VISION_ENCODER),
                        new StageItemCodec(),
                        HOLD)),
            input);
    embedded.forEach(item -> assertNotNull(item.imageEmbeds(), item.id()));

    List<StageItem> queried =
        snapshotRestoreDrain(
            () ->
                new OneInputStreamOperatorTestHarness<>(
                    new MicroBatchOperatorFactory<>(
                        new VisualStageFunction(ENGINE, VisualStageFunction.Stage.QFORMER),
                        new StageItemCodec(),
                        HOLD)),
            embedded);
    queried.forEach(item -> assertNotNull(item.queryOutputs(), item.id()));

    List<StageAnswer> answers =
        snapshotRestoreDrain(
            () ->
                new OneInputStreamOperatorTestHarness<>(
                    new ContinuousBatchingOperatorFactory<>(
                        new LlmFunction(ENGINE, 3),
                        new StageItemCodec(),
                        ContinuousBatchingConfig.builder().maxRunning(3).maxInFlight(16).build())),
            queried);

    assertEquals(expected.keySet().size(), answers.size());
    for (StageAnswer answer : answers) {
      assertEquals(expected.get(answer.id()), answer.result().tokenIds(), answer.id());
      assertEquals("ctx-" + answer.id(), new String(answer.context()));
    }
  }

  @FunctionalInterface
  private interface HarnessFactory<O> {
    OneInputStreamOperatorTestHarness<StageItem, O> create() throws Exception;
  }

  /**
   * Feeds every item, snapshots before the stage has emitted anything, restores into a new harness
   * and drains it: the restored stage must answer every item once (the old harness's later output
   * is what a failed task would have lost, so it is not counted).
   */
  private static <O> List<O> snapshotRestoreDrain(HarnessFactory<O> factory, List<StageItem> items)
      throws Exception {
    OperatorSubtaskState snapshot;
    try (OneInputStreamOperatorTestHarness<StageItem, O> h = factory.create()) {
      h.open();
      for (StageItem item : items) {
        h.processElement(item, 0);
      }
      snapshot = h.snapshot(1L, 1L);
      assertEquals(List.of(), h.extractOutputValues(), "nothing emitted before the snapshot");
    }
    try (OneInputStreamOperatorTestHarness<StageItem, O> restored = factory.create()) {
      restored.initializeState(snapshot);
      restored.open();
      restored.endInput();
      List<O> out = new ArrayList<>(restored.extractOutputValues());
      assertEquals(items.size(), out.size(), "one output per item: " + out);
      return out;
    }
  }
}
