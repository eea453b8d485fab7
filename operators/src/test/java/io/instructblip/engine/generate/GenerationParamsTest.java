package io.instructblip.engine.generate;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.instructblip.engine.api.EngineException;
import io.instructblip.engine.api.ErrorCode;
import io.instructblip.engine.api.GenerationDefaults;
import io.instructblip.engine.api.GenerationParameter;
import java.util.List;
import java.util.function.UnaryOperator;
import org.junit.jupiter.api.Test;

class GenerationParamsTest {

  private static GenerationParams.Builder base() {
    return GenerationParams.builder().eosTokenIds(2);
  }

  private static void assertInvalid(String message, UnaryOperator<GenerationParams.Builder> edit) {
    EngineException e = assertThrows(EngineException.class, () -> edit.apply(base()).build());
    assertEquals(ErrorCode.INVALID_PARAMETER, e.code());
    assertEquals(message, e.getMessage());
  }

  @Test
  void startsFromTheReferenceDefaults() {
    GenerationParams p = base().build();
    assertEquals(256, p.maxNewTokens());
    assertEquals(1, p.minNewTokens());
    assertEquals(5, p.numBeams());
    assertEquals(1.0, p.lengthPenalty());
    assertEquals(1.5, p.repetitionPenalty());
    assertFalse(p.doSample());
    assertEquals(1.0, p.temperature());
    assertEquals(0, p.topK());
    assertEquals(0.9, p.topP());
    assertEquals(0L, p.seed());
    assertEquals(1, p.numReturnSequences());
    assertEquals(List.of(2), p.eosTokenIds());
    assertEquals(GenerationParams.SearchKind.BEAM, p.searchKind());
  }

  @Test
  void startsFromTheManifestDefaultsAndTakesOverrides() {
    GenerationDefaults manifest = defaults(30, 0, 1, 0.5, 1.0, false, 0.7, 5, 1.0);
    GenerationParams p =
        GenerationParams.builder(manifest).eosTokenIds(1, 7).maxNewTokens(12).seed(42).build();
    assertEquals(
        List.of(12, 0, 1, 0.5, 1.0, false, 0.7, 5, 1.0, 42L, 1),
        java.util.Arrays.stream(GenerationParameter.values()).map(p::get).toList());
    assertEquals(List.of(1, 7), p.eosTokenIds());
    assertTrue(p.isEos(7));
    assertFalse(p.isEos(2));
    assertEquals(GenerationParams.SearchKind.GREEDY, p.searchKind());
    assertEquals(
        GenerationParams.SearchKind.SAMPLING,
        GenerationParams.builder(manifest).eosTokenIds(1).doSample(true).build().searchKind());
  }

  @Test
  void refusesEachBrokenRuleWithAMessageThatSaysWhatToDo() {
    assertInvalid("max_new_tokens must be between 1 and 16384, got 0", b -> b.maxNewTokens(0));
    assertInvalid(
        "max_new_tokens must be between 1 and 16384, got 2147483647",
        b -> b.maxNewTokens(Integer.MAX_VALUE));
    assertInvalid(
        "min_new_tokens must be between 0 and max_new_tokens (10), got 11",
        b -> b.maxNewTokens(10).minNewTokens(11));
    assertInvalid(
        "min_new_tokens must be between 0 and max_new_tokens (256), got -1",
        b -> b.minNewTokens(-1));
    assertInvalid("num_beams must be between 1 (no beam search) and 64, got 0", b -> b.numBeams(0));
    // 2^30 beams once passed and overflowed 2 * num_beams in BeamSearch.
    assertInvalid(
        "num_beams must be between 1 (no beam search) and 64, got 1073741824",
        b -> b.numBeams(1 << 30));
    assertInvalid(
        "num_return_sequences must be between 1 and num_beams (5), got 6",
        b -> b.numReturnSequences(6));
    assertInvalid(
        "num_return_sequences must be between 1 and num_beams (5), got 0",
        b -> b.numReturnSequences(0));
    assertInvalid(
        "length_penalty must be a number between -100.0 and 100.0, got NaN",
        b -> b.lengthPenalty(Double.NaN));
    assertInvalid(
        "length_penalty must be a number between -100.0 and 100.0, got 1.0E300",
        b -> b.lengthPenalty(1e300));
    assertInvalid(
        "repetition_penalty must be a number between 0.01 and 100.0 (1.0 means no penalty), got"
            + " 0.0",
        b -> b.repetitionPenalty(0));
    assertInvalid(
        "temperature must be a number between 0.01 and 100.0 (lower values overflow; 0.01 is all"
            + " but greedy, or set do_sample false), got -1.0",
        b -> b.temperature(-1));
    // 1e-300 once passed and made sampling fail (the scaled logits overflow).
    assertInvalid(
        "temperature must be a number between 0.01 and 100.0 (lower values overflow; 0.01 is all"
            + " but greedy, or set do_sample false), got 1.0E-300",
        b -> b.temperature(1e-300));
    assertInvalid("top_k must be between 0 (off) and 1000000, got -1", b -> b.topK(-1));
    assertInvalid(
        "top_p must be greater than 0 and at most 1 (1.0 turns it off), got 0.0", b -> b.topP(0));
    assertInvalid(
        "top_p must be greater than 0 and at most 1 (1.0 turns it off), got 1.5", b -> b.topP(1.5));
    assertInvalid(
        "do_sample cannot be combined with num_beams > 1 (got num_beams 5): set num_beams to 1 to"
            + " sample, or do_sample to false for beam search",
        b -> b.doSample(true));
    assertInvalid(
        "eos_token_ids must name at least one token id (the manifest's special_tokens.llm_eos)",
        b -> b.eosTokenIds());
    assertInvalid("eos_token_ids must be token ids >= 0, got [2, -1]", b -> b.eosTokenIds(2, -1));
  }

  @Test
  void acceptsTheEdgesOfEachRange() {
    GenerationParams p =
        base()
            .maxNewTokens(1)
            .minNewTokens(1)
            .numBeams(1)
            .doSample(true)
            .topP(1.0)
            .topK(0)
            .temperature(0.01)
            .repetitionPenalty(0.01)
            .lengthPenalty(-100)
            .build();
    assertEquals(GenerationParams.SearchKind.SAMPLING, p.searchKind());
  }

  @Test
  void brokenManifestDefaultsAreAnInvalidModel() {
    EngineException e =
        assertThrows(
            EngineException.class, () -> defaults(256, 1, 0, 1.0, 1.5, false, 1.0, 0, 0.9));
    assertEquals(ErrorCode.MODEL_INVALID, e.code());
    assertEquals(
        "manifest.json generation_defaults: num_beams must be between 1 (no beam search) and 64,"
            + " got 0; fix the model directory",
        e.getMessage());
  }

  /** Model defaults in the specification's order (the nine a model directory sets). */
  static GenerationDefaults defaults(Object... values) {
    return GenerationDefaults.of(p -> values[p.ordinal()]);
  }
}
