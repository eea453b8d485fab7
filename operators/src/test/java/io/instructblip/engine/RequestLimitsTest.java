package io.instructblip.engine;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import io.instructblip.engine.generate.GenerationParams;
import java.util.Map;
import org.junit.jupiter.api.Test;

class RequestLimitsTest {

  @Test
  void defaultsBuilderAndMapAgree() {
    RequestLimits defaults = RequestLimits.defaults();
    assertEquals(16, defaults.maxNumBeams());
    assertEquals(512, defaults.maxIdChars());
    assertEquals(defaults, RequestLimits.fromMap(defaults.toMap()));
    RequestLimits custom = RequestLimits.fromMap(Map.of("num-beams-max", " 8 "));
    assertEquals(8, custom.maxNumBeams());
    assertEquals(custom, RequestLimits.builder().maxNumBeams(8).build());
    assertEquals(
        Map.of("num-beams-max", "8"),
        RequestLimits.keysOf(Map.of("instructblip.limits.num-beams-max", "8", "other", "x")));
  }

  @Test
  void badSettingsNameTheKey() {
    IllegalArgumentException unknown =
        assertThrows(
            IllegalArgumentException.class, () -> RequestLimits.fromMap(Map.of("beams", "2")));
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
                () -> RequestLimits.fromMap(Map.of("num-beams-max", "100")))
            .getMessage());
    assertEquals(
        "instructblip.limits.uri-max-chars must be a whole number, got \"a lot\"",
        assertThrows(
                IllegalArgumentException.class,
                () -> RequestLimits.fromMap(Map.of("uri-max-chars", "a lot")))
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

  @Test
  void theReadmeListsEveryKeyWithItsDefault() throws java.io.IOException {
    String readme = java.nio.file.Files.readString(java.nio.file.Path.of("..", "README.md"));
    for (RequestLimits.Key key : RequestLimits.KEYS) {
      String row =
          "| `" + RequestLimits.CONFIG_PREFIX + key.name() + "` | `" + key.defaultValue() + "` |";
      org.junit.jupiter.api.Assertions.assertTrue(readme.contains(row), "README row: " + row);
    }
  }
}
