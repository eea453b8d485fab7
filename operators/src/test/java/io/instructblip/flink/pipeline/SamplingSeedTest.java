package io.instructblip.flink.pipeline;

import static org.junit.jupiter.api.Assertions.assertEquals;

import io.instructblip.engine.EngineConfig;
import io.instructblip.engine.InstructBlipEngine;
import io.instructblip.engine.api.EngineOutcome;
import io.instructblip.engine.api.EngineRequest;
import io.instructblip.engine.api.EngineResult;
import io.instructblip.engine.api.GenerationOverrides;
import io.instructblip.engine.api.TaskMode;
import io.instructblip.engine.model.ModelFixtures;
import io.instructblip.flink.BatchingConfig;
import io.instructblip.flink.ContinuousBatchingConfig;
import io.instructblip.flink.ContinuousBatchingOperatorFactory;
import io.instructblip.flink.InFlight;
import io.instructblip.flink.MicroBatchOperatorFactory;
import java.nio.file.Files;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import org.apache.flink.streaming.util.OneInputStreamOperatorTestHarness;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * A sampling request without a seed draws from the seed of its id: {@code infer} gives it the same
 * tokens wherever it stands in a list (a line of a JSONL file), and the Flink stages give it those
 * tokens too. {@code infer} used to replace each id with the request's position, so the sample
 * depended on the line.
 */
class SamplingSeedTest {
  private static final String ID = "sample-me";
  private static InstructBlipEngine engine;
  private static byte[] image;

  @BeforeAll
  static void open() throws Exception {
    engine =
        InstructBlipEngine.open(
            EngineConfig.builder(ModelFixtures.modelDir("tiny-vicuna")).build());
    image = Files.readAllBytes(ModelFixtures.root().resolve("images/rgb.png"));
  }

  @AfterAll
  static void close() {
    engine.close();
  }

  private static EngineRequest sampling(String id, Long seed) {
    return new EngineRequest(
        id,
        List.of(image),
        "What is in the picture?",
        TaskMode.GENERATE,
        List.of(),
        GenerationOverrides.builder()
            .doSample(true)
            .temperature(1.5)
            .maxNewTokens(12)
            .minNewTokens(12)
            .seed(seed)
            .build());
  }

  private static List<Integer> tokens(EngineOutcome outcome) {
    EngineResult r = outcome.answer();
    assertEquals(ID, r.id());
    return r.tokenIds();
  }

  @Test
  void inferGivesTheSameSampleAtAnyPositionAndTheSeedComesFromTheId() {
    List<Integer> alone = tokens(engine.infer(List.of(sampling(ID, null))).get(0));
    assertEquals(12, alone.size());

    List<EngineRequest> third =
        List.of(sampling("line-1", null), sampling("line-2", null), sampling(ID, null));
    assertEquals(alone, tokens(engine.infer(third).get(2)));
    assertEquals(alone, tokens(engine.infer(third, 1, 1).get(2)));

    long idSeed = ID.hashCode();
    assertEquals(alone, tokens(engine.infer(List.of(sampling(ID, idSeed))).get(0)));
  }

  @Test
  void requestsSharingAnIdAreEachAnsweredWithTheirOwnSample() {
    List<Integer> alone = tokens(engine.infer(List.of(sampling(ID, null))).get(0));
    List<EngineOutcome> results =
        engine.infer(List.of(sampling(ID, null), sampling("other", null), sampling(ID, null)));
    assertEquals(alone, tokens(results.get(0)));
    assertEquals("other", results.get(1).id());
    assertEquals(alone, tokens(results.get(2)));
  }

  @Test
  void theFlinkStagesGiveTheSampleThatInferGives() throws Exception {
    List<EngineRequest> requests =
        List.of(sampling("line-1", null), sampling("line-2", null), sampling(ID, null));
    List<EngineOutcome> inferred = engine.infer(requests);

    List<StageItem> items = new ArrayList<>();
    for (EngineRequest r : List.of(requests.get(2), requests.get(0), requests.get(1))) {
      items.add(StageItem.of(r, InFlight.NO_DEADLINE, new byte[0]));
    }
    EngineSpec spec = new EngineSpec(ModelFixtures.modelDir("tiny-vicuna").toString(), "cpu", 1);
    BatchingConfig batching =
        BatchingConfig.builder().maxBatchSize(4).maxWait(Duration.ofSeconds(5)).build();
    List<StageItem> queried =
        drain(
            new OneInputStreamOperatorTestHarness<>(
                new MicroBatchOperatorFactory<>(
                    new VisualStageFunction(spec, VisualStageFunction.Stage.QFORMER),
                    new StageItemCodec(),
                    batching)),
            drain(
                new OneInputStreamOperatorTestHarness<>(
                    new MicroBatchOperatorFactory<>(
                        new VisualStageFunction(spec, VisualStageFunction.Stage.VISION_ENCODER),
                        new StageItemCodec(),
                        batching)),
                items));
    List<StageAnswer> answers =
        drain(
            new OneInputStreamOperatorTestHarness<>(
                new ContinuousBatchingOperatorFactory<>(
                    new LlmFunction(spec, 3),
                    new StageItemCodec(),
                    ContinuousBatchingConfig.builder().maxRunning(3).build())),
            queried);

    assertEquals(3, answers.size());
    for (StageAnswer answer : answers) {
      EngineResult expected =
          inferred.stream()
              .filter(r -> r.id().equals(answer.id()))
              .findFirst()
              .orElseThrow()
              .answer();
      assertEquals(expected.tokenIds(), answer.result().tokenIds(), answer.id());
    }
  }

  private static <O> List<O> drain(
      OneInputStreamOperatorTestHarness<StageItem, O> h, List<StageItem> in) throws Exception {
    try (h) {
      h.open();
      for (StageItem item : in) {
        h.processElement(item, 0);
      }
      h.endInput();
      return new ArrayList<>(h.extractOutputValues());
    }
  }
}
