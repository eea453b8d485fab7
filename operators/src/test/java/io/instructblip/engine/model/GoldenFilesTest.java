package io.instructblip.engine.model;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertThrows;

import com.fasterxml.jackson.databind.ObjectMapper;
import io.instructblip.engine.api.GenerationOverrides;
import java.lang.reflect.RecordComponent;
import org.junit.jupiter.api.Test;

/** The golden files' generation parameters reach every field of {@link GenerationOverrides}. */
class GoldenFilesTest {
  private static final ObjectMapper JSON = new ObjectMapper();

  @Test
  void everyGenerationParameterIsMapped() throws Exception {
    GenerationOverrides o =
        GoldenFiles.overrides(
            JSON.readTree(
                """
                {"max_new_tokens": 7, "min_new_tokens": 2, "num_beams": 1, "length_penalty": 0.5,
                 "repetition_penalty": 1.2, "do_sample": true, "temperature": 0.7, "top_k": 5,
                 "top_p": 0.8, "seed": 42, "num_return_sequences": 1}
                """));
    for (RecordComponent c : GenerationOverrides.class.getRecordComponents()) {
      assertNotNull(c.getAccessor().invoke(o), c.getName() + " is not mapped");
    }
    assertEquals(42L, o.seed());
    assertEquals(0.7, o.temperature());
  }

  @Test
  void anUnknownParameterFails() {
    IllegalArgumentException e =
        assertThrows(
            IllegalArgumentException.class,
            () -> GoldenFiles.overrides(JSON.readTree("{\"typical_p\": 0.9}")));
    assertEquals(
        "golden generation parameter 'typical_p' is not mapped in GoldenFiles", e.getMessage());
  }
}
