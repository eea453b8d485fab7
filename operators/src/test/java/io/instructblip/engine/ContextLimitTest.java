package io.instructblip.engine;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.instructblip.engine.api.EngineFailure;
import io.instructblip.engine.api.EngineRequest;
import io.instructblip.engine.api.EngineResult;
import io.instructblip.engine.api.ErrorCode;
import io.instructblip.engine.api.GenerationOverrides;
import io.instructblip.engine.api.TaskMode;
import io.instructblip.engine.generate.FinishReason;
import io.instructblip.engine.model.ModelFixtures;
import java.nio.file.Files;
import java.util.List;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * A decoder-only model holds {@code llm.max_positions} positions (256 for tiny-vicuna): an answer
 * stops with finish reason {@code length} when the context is full, and a request that cannot fit
 * is refused with a code. An encoder-decoder model's answer has the decoder's {@code
 * llm.max_positions} to itself (128 for demo-flant5): it stops there with {@code length} too.
 */
class ContextLimitTest {
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

  @Test
  void anAnswerStopsWhenTheContextIsFull() {
    GenerationOverrides all =
        GenerationOverrides.builder().numBeams(1).maxNewTokens(1000).minNewTokens(1000).build();
    EngineResult r =
        engine
            .infer(
                List.of(
                    new EngineRequest(
                        "full", List.of(image), "What?", TaskMode.GENERATE, List.of(), all)))
            .get(0)
            .answer();
    assertEquals(FinishReason.LENGTH, r.finishReason());
    // 4 query positions + the prompt + the answer fill the 256 positions exactly.
    assertEquals(256 - 4 - r.promptTokens(), r.generatedTokens());
  }

  /**
   * Reproduces what {@code local --demo flant5} showed: a default request (max_new_tokens 256)
   * whose answer never ended failed with an internal error at the decoder's 128th position.
   */
  @Test
  void anEncoderDecoderAnswerStopsWhenTheDecoderIsFull() {
    try (InstructBlipEngine e =
        InstructBlipEngine.open(
            EngineConfig.builder(ModelFixtures.modelDir("demo-flant5")).build())) {
      GenerationOverrides all =
          GenerationOverrides.builder().numBeams(1).maxNewTokens(1000).minNewTokens(1000).build();
      EngineResult r =
          assertInstanceOf(
              EngineResult.class,
              e.infer(
                      List.of(
                          new EngineRequest(
                              "long", List.of(image), "What?", TaskMode.GENERATE, List.of(), all)))
                  .get(0));
      assertEquals(FinishReason.LENGTH, r.finishReason());
      assertEquals(128, r.generatedTokens());
    }
  }

  @Test
  void framesThatFillTheContextAreRefused() {
    EngineConfig manyFrames =
        EngineConfig.builder(ModelFixtures.modelDir("tiny-vicuna")).maxImagesPerRequest(70).build();
    try (InstructBlipEngine e = InstructBlipEngine.open(manyFrames)) {
      List<byte[]> frames = java.util.Collections.nCopies(64, image);
      EngineFailure r =
          assertInstanceOf(
              EngineFailure.class,
              e.infer(List.of(EngineRequest.generate("video", frames, "What?"))).get(0));
      assertEquals(ErrorCode.INSTRUCTION_TOO_LONG, r.code());
      assertTrue(
          r.message().startsWith("the images and instruction take 259 of the model's 256"),
          r.message());
    }
  }
}
