package io.instructblip.job.wiring;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import io.instructblip.flink.pipeline.LlmFunction;
import java.util.Map;
import org.junit.jupiter.api.Test;

class StageSettingsTest {

  @Test
  void theTokenBudgetIsOffUnlessSet() {
    assertEquals(
        LlmFunction.NO_TOKEN_BUDGET,
        StageSettings.fromMap(Map.of("model.dir", "/m")).llmTokenBudget());
    assertEquals(
        4096,
        StageSettings.fromMap(Map.of("model.dir", "/m", "llm.token-budget", " 4096"))
            .llmTokenBudget());
  }

  @Test
  void badValuesSayWhichKeyAndWhy() {
    assertEquals(
        "instructblip.llm.token-budget must be a whole number, got \"lots\"",
        assertThrows(
                IllegalArgumentException.class,
                () -> StageSettings.fromMap(Map.of("model.dir", "/m", "llm.token-budget", "lots")))
            .getMessage());
    assertEquals(
        "instructblip.llm.token-budget must be at least 1 (or unset for none), got 0",
        assertThrows(
                IllegalArgumentException.class,
                () -> StageSettings.fromMap(Map.of("model.dir", "/m", "llm.token-budget", "0")))
            .getMessage());
    assertEquals(
        "instructblip.llm.max-running must be a whole number (at most 2147483647), got"
            + " \"4294967296\"",
        assertThrows(
                IllegalArgumentException.class,
                () ->
                    StageSettings.fromMap(
                        Map.of("model.dir", "/m", "llm.max-running", "4294967296")))
            .getMessage());
  }

  @Test
  void anUnknownKeyListsTheKnownOnes() {
    String message =
        assertThrows(
                IllegalArgumentException.class,
                () -> StageSettings.fromMap(Map.of("model.dir", "/m", "llm.budget", "1")))
            .getMessage();
    assertEquals(
        "unknown setting instructblip.llm.budget; known: instructblip.model.dir,"
            + " instructblip.model.name, instructblip.model.device,"
            + " instructblip.model.intra-op-threads, instructblip.vision.max-batch-size,"
            + " instructblip.vision.max-wait, instructblip.qformer.max-batch-size,"
            + " instructblip.qformer.max-wait, instructblip.stages.max-in-flight,"
            + " instructblip.llm.max-running, instructblip.llm.max-in-flight,"
            + " instructblip.llm.token-budget, instructblip.request.default-timeout",
        message);
  }
}
