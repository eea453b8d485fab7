package io.instructblip.flink.pipeline;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.instructblip.engine.EngineRequest;
import io.instructblip.engine.GenerationOverrides;
import io.instructblip.engine.TaskMode;
import io.instructblip.engine.model.ModelFixtures;
import io.instructblip.flink.BatchingConfig;
import io.instructblip.flink.ContinuousBatchingConfig;
import io.instructblip.flink.ContinuousBatchingOperatorFactory;
import io.instructblip.flink.InFlight;
import io.instructblip.flink.MicroBatchOperatorFactory;
import java.nio.file.Files;
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
  private static final ObjectMapper JSON = new ObjectMapper();
  private static final EngineSpec ENGINE =
      new EngineSpec(ModelFixtures.modelDir("tiny-vicuna").toString(), "cpu", 1);
  private static final BatchingConfig HOLD =
      BatchingConfig.builder()
          .maxBatchSize(8)
          .maxWait(Duration.ofSeconds(5))
          .maxInFlight(16)
          .build();

  @Test
  void everyStageRestoresItsInFlightRequestsAndAnswersEachOnce() throws Exception {
    Map<String, List<Integer>> expected = new HashMap<>();
    List<StageItem> input = goldenItems(expected);

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
                        new LlmFunction(ENGINE),
                        new StageItemCodec(),
                        ContinuousBatchingConfig.builder().maxRunning(3).maxInFlight(16).build())),
            queried);

    assertEquals(expected.keySet().size(), answers.size());
    for (StageAnswer answer : answers) {
      assertTrue(answer.result().ok(), answer.result().errorMessage());
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

  /** The greedy and beam cases of the tiny-vicuna reference, as fresh stage items. */
  private static List<StageItem> goldenItems(Map<String, List<Integer>> expected) throws Exception {
    JsonNode golden =
        JSON.readTree(ModelFixtures.root().resolve("golden/tiny-vicuna/reference.json").toFile());
    List<StageItem> items = new ArrayList<>();
    for (JsonNode c : golden.get("cases")) {
      if (c.hasNonNull("candidates")) {
        continue;
      }
      String id = c.get("name").asText();
      List<byte[]> images = new ArrayList<>();
      for (JsonNode path : c.get("images")) {
        images.add(Files.readAllBytes(ModelFixtures.root().resolve(path.asText())));
      }
      JsonNode p = c.get("params");
      GenerationOverrides overrides =
          GenerationOverrides.builder()
              .maxNewTokens(p.get("max_new_tokens").asInt())
              .minNewTokens(p.get("min_new_tokens").asInt())
              .numBeams(p.get("num_beams").asInt())
              .lengthPenalty(p.get("length_penalty").asDouble())
              .repetitionPenalty(p.get("repetition_penalty").asDouble())
              .build();
      EngineRequest request =
          new EngineRequest(
              id, images, c.get("instruction").asText(), TaskMode.GENERATE, List.of(), overrides);
      List<Integer> tokens = new ArrayList<>();
      c.get("expected").get("token_ids").forEach(t -> tokens.add(t.asInt()));
      expected.put(id, tokens);
      items.add(StageItem.of(request, InFlight.NO_DEADLINE, ("ctx-" + id).getBytes()));
    }
    return items;
  }
}
