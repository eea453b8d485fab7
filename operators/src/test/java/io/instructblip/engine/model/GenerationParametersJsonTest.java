package io.instructblip.engine.model;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertThrows;

import com.fasterxml.jackson.databind.ObjectMapper;
import io.instructblip.engine.api.GenerationDefaults;
import io.instructblip.engine.api.GenerationOverrides;
import io.instructblip.engine.api.GenerationParameter;
import io.instructblip.engine.generate.GenerationParams;
import io.instructblip.engine.generate.GenerationParams.SearchKind;
import io.instructblip.engine.inference.RequestPreparer;
import org.junit.jupiter.api.Test;

/**
 * The one reader of generation parameters in JSON (golden cases, held-out files, the manifest):
 * every parameter, strict types, unknown keys refused.
 */
class GenerationParametersJsonTest {
  private static final ObjectMapper JSON = new ObjectMapper();

  @Test
  void everyParameterIsRead() throws Exception {
    GenerationOverrides o =
        GenerationParametersJson.overrides(
            JSON.readTree(
                """
                {"max_new_tokens": 7, "min_new_tokens": 2, "num_beams": 1, "length_penalty": 0.5,
                 "repetition_penalty": 1.2, "do_sample": true, "temperature": 0.7, "top_k": 5,
                 "top_p": 0.8, "seed": 42, "num_return_sequences": 1}
                """));
    for (GenerationParameter p : GenerationParameter.values()) {
      assertNotNull(o.get(p), p.key() + " is not read");
    }
    assertEquals(42L, o.seed());
    assertEquals(0.7, o.temperature());
  }

  @Test
  void aGoldenCaseThatSamplesRunsTheSamplingSearch() throws Exception {
    GenerationOverrides o =
        GenerationParametersJson.overrides(
            JSON.readTree(
                """
                {"max_new_tokens": 6, "num_beams": 1, "do_sample": true, "temperature": 0.7,
                 "top_k": 5, "top_p": 0.8, "seed": 7}
                """));
    GenerationParams params = RequestPreparer.resolve(GenerationDefaults.REFERENCE, 2, o, "case");
    assertEquals(SearchKind.SAMPLING, params.searchKind());
    assertEquals(7L, params.seed());
    assertEquals(0.7, params.temperature());
    assertEquals(5, params.topK());
    assertEquals(0.8, params.topP());
  }

  @Test
  void anUnknownParameterFails() {
    IllegalArgumentException e =
        assertThrows(
            IllegalArgumentException.class,
            () -> GenerationParametersJson.overrides(JSON.readTree("{\"typical_p\": 0.9}")));
    assertEquals(
        "unknown generation parameter 'typical_p'; the parameters are [max_new_tokens,"
            + " min_new_tokens, num_beams, length_penalty, repetition_penalty, do_sample,"
            + " temperature, top_k, top_p, seed, num_return_sequences]",
        e.getMessage());
  }

  /**
   * The golden mappings read values with Jackson's lenient {@code asDouble}/{@code asInt}: {@code
   * "hot"} became temperature 0.0 and 2.5 became 2 new tokens, where a request is refused.
   */
  @Test
  void aValueOfAnotherTypeFailsAsInARequest() {
    IllegalArgumentException e =
        assertThrows(
            IllegalArgumentException.class,
            () -> GenerationParametersJson.overrides(JSON.readTree("{\"temperature\": \"hot\"}")));
    assertEquals(
        "generation parameter 'temperature' must be of type double, found \"hot\"", e.getMessage());
    e =
        assertThrows(
            IllegalArgumentException.class,
            () -> GenerationParametersJson.overrides(JSON.readTree("{\"max_new_tokens\": 2.5}")));
    assertEquals(
        "generation parameter 'max_new_tokens' must be of type int, found 2.5", e.getMessage());
  }
}
