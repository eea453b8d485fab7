package io.instructblip.engine.generate;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import io.instructblip.engine.api.EngineException;
import io.instructblip.engine.api.ErrorCode;
import io.instructblip.engine.api.GenerationDefaults;
import io.instructblip.engine.api.GenerationOverrides;
import io.instructblip.engine.api.GenerationParameter;
import java.util.Arrays;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.function.Executable;

/**
 * {@link GenerationParameter} is the one specification: the carriers hold every parameter by it,
 * the rules read as they did, and no part of the engine accepts a value that a request is refused
 * for.
 */
class ParameterSpecificationTest {

  /** Every value is held by its parameter, so a carrier cannot miss or misplace one. */
  @Test
  void theCarriersHoldEveryParameter() {
    GenerationParams params = GenerationParams.builder().eosTokenIds(2).build();
    GenerationOverrides overrides = GenerationOverrides.of(params::get);
    for (GenerationParameter p : GenerationParameter.values()) {
      assertEquals(params.get(p), overrides.get(p), p.key());
      assertEquals(p.type().javaType(), params.get(p).getClass(), p.key());
    }
    assertEquals(
        params,
        GenerationParams.builder().eosTokenIds(2).set(GenerationParameter.SEED, 0L).build());
    assertEquals(params, params.toBuilder().build());
  }

  @Test
  void theReferenceDefaultsAreInstructBlips() {
    assertEquals(
        GenerationParamsTest.defaults(256, 1, 5, 1.0, 1.5, false, 1.0, 0, 0.9),
        GenerationDefaults.REFERENCE);
    for (GenerationParameter p : GenerationParameter.values()) {
      if (p.modelDefault()) {
        assertEquals(p.referenceDefault(), GenerationDefaults.REFERENCE.get(p), p.key());
      }
    }
    assertEquals(
        List.of(
            "max_new_tokens",
            "min_new_tokens",
            "num_beams",
            "length_penalty",
            "repetition_penalty",
            "do_sample",
            "temperature",
            "top_k",
            "top_p"),
        Arrays.stream(GenerationParameter.values())
            .filter(GenerationParameter::modelDefault)
            .map(GenerationParameter::key)
            .toList());
  }

  @Test
  void everyRuleNamesTheParameterTheBoundsAndTheValue() {
    assertBroken(
        "max_new_tokens must be between 1 and 16384, got 16385", b -> b.maxNewTokens(16_385));
    assertBroken(
        "min_new_tokens must be between 0 and max_new_tokens (8), got 9",
        b -> b.maxNewTokens(8).minNewTokens(9));
    assertBroken(
        "num_beams must be between 1 (no beam search) and 64, got 65", b -> b.numBeams(65));
    assertBroken(
        "length_penalty must be a number between -100.0 and 100.0, got NaN",
        b -> b.lengthPenalty(Double.NaN));
    assertBroken(
        "repetition_penalty must be a number between 0.01 and 100.0 (1.0 means no penalty), got"
            + " 0.001",
        b -> b.repetitionPenalty(0.001));
    assertBroken(
        "temperature must be a number between 0.01 and 100.0 (lower values overflow; 0.01 is all"
            + " but greedy, or set do_sample false), got Infinity",
        b -> b.temperature(Double.POSITIVE_INFINITY));
    assertBroken("top_k must be between 0 (off) and 1000000, got -1", b -> b.topK(-1));
    assertBroken(
        "top_p must be greater than 0 and at most 1 (1.0 turns it off), got 0.0", b -> b.topP(0));
    assertBroken(
        "num_return_sequences must be between 1 and num_beams (5), got 6",
        b -> b.numReturnSequences(6));
    assertBroken(
        "do_sample cannot be combined with num_beams > 1 (got num_beams 5): set num_beams to 1 to"
            + " sample, or do_sample to false for beam search",
        b -> b.doSample(true));
  }

  /**
   * The drift this specification removes: the logits processors had their own, looser copies of the
   * rules, so an infinite temperature (every token alike) or a repetition penalty of 0.001 was
   * accepted there and refused for a request.
   */
  @Test
  void theProcessorsRefuseWhatARequestIsRefused() {
    assertSameRefusal(
        () -> new TemperatureProcessor(Double.POSITIVE_INFINITY),
        () -> sampling().temperature(Double.POSITIVE_INFINITY).build());
    assertSameRefusal(
        () -> new RepetitionPenaltyProcessor(0.001),
        () -> GenerationParams.builder().eosTokenIds(2).repetitionPenalty(0.001).build());
    assertSameRefusal(() -> new TopPProcessor(1.5), () -> sampling().topP(1.5).build());
  }

  @Test
  void theManifestRefusesWhatARequestIsRefused() {
    EngineException e =
        assertThrows(
            EngineException.class,
            () ->
                GenerationParamsTest.defaults(
                    256, 1, 5, 1.0, 1.5, false, Double.POSITIVE_INFINITY, 0, 0.9));
    assertEquals(ErrorCode.MODEL_INVALID, e.code());
    assertEquals(
        "manifest.json generation_defaults: "
            + refusal(() -> sampling().temperature(Double.POSITIVE_INFINITY).build())
            + "; fix the model directory",
        e.getMessage());
  }

  private static GenerationParams.Builder sampling() {
    return GenerationParams.builder().eosTokenIds(2).numBeams(1).doSample(true);
  }

  private static void assertBroken(
      String message, java.util.function.UnaryOperator<GenerationParams.Builder> change) {
    EngineException e =
        assertThrows(
            EngineException.class,
            () -> change.apply(GenerationParams.builder().eosTokenIds(2)).build());
    assertEquals(ErrorCode.INVALID_PARAMETER, e.code());
    assertEquals(message, e.getMessage());
  }

  private static void assertSameRefusal(Executable part, Executable request) {
    EngineException e = assertThrows(EngineException.class, part);
    assertEquals(ErrorCode.INVALID_PARAMETER, e.code());
    assertEquals(refusal(request), e.getMessage());
  }

  private static String refusal(Executable request) {
    return assertThrows(EngineException.class, request).getMessage();
  }
}
