package io.instructblip.engine;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import io.instructblip.engine.api.EngineException;
import io.instructblip.engine.api.ErrorCode;
import io.instructblip.engine.generate.GenerationParams;
import org.junit.jupiter.api.Test;

class RequestLimitsTest {

  @Test
  void defaultsBuilderAndMapAgree() {
    RequestLimits defaults = RequestLimits.defaults();
    assertEquals(16, defaults.maxNumBeams());
    assertEquals(512, defaults.maxIdChars());
    RequestLimits.Builder fromMap = RequestLimits.builder();
    defaults.toMap().forEach(fromMap::limit);
    assertEquals(defaults, fromMap.build());
    RequestLimits custom = RequestLimits.builder().limit("num-beams-max", 8).build();
    assertEquals(8, custom.maxNumBeams());
    assertEquals(custom, RequestLimits.builder().maxNumBeams(8).build());
    assertEquals(8, custom.toMap().get("num-beams-max"));
  }

  @Test
  void badSettingsNameTheKey() {
    IllegalArgumentException unknown =
        assertThrows(
            IllegalArgumentException.class, () -> RequestLimits.builder().limit("beams", 2));
    assertEquals(
        "unknown setting instructblip.limits.beams; known: id-max-chars, instruction-max-chars,"
            + " candidates-max-count, candidate-max-chars, metadata-max-entries,"
            + " metadata-max-chars, headers-max-count, headers-max-bytes, uri-max-chars,"
            + " num-beams-max, max-new-tokens-max, top-k-max, work-max-tokens",
        unknown.getMessage());
    assertEquals(
        "instructblip.limits.num-beams-max must be between 1 and 64, got 100",
        assertThrows(
                IllegalArgumentException.class,
                () -> RequestLimits.builder().limit("num-beams-max", 100).build())
            .getMessage());
  }

  @Test
  void generationCeilingsAndTheWorkBudget() {
    RequestLimits limits = RequestLimits.defaults();
    limits.checkGeneration(
        GenerationParams.builder().eosTokenIds(2).numBeams(16).maxNewTokens(512).build());
    EngineException beams =
        assertThrows(
            EngineException.class,
            () ->
                limits.checkGeneration(
                    GenerationParams.builder().eosTokenIds(2).numBeams(17).build()));
    assertEquals(ErrorCode.INVALID_PARAMETER, beams.code());
    assertEquals(
        "num_beams must be at most 16 (instructblip.limits.num-beams-max), got 17",
        beams.getMessage());
    EngineException work =
        assertThrows(
            EngineException.class,
            () ->
                limits.checkGeneration(
                    GenerationParams.builder()
                        .eosTokenIds(2)
                        .numBeams(16)
                        .maxNewTokens(1000)
                        .build()));
    assertEquals(
        "num_beams x max_new_tokens = 16 x 1000 = 16000 is over this job's work limit of 8192"
            + " tokens per request (instructblip.limits.work-max-tokens); ask for fewer beams or"
            + " fewer new tokens",
        work.getMessage());
  }
}
