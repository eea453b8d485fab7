package io.instructblip.flink.pipeline;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.instructblip.engine.ErrorCode;
import io.instructblip.engine.InstructBlipEngine;
import io.instructblip.engine.pipeline.GenerationLoop;
import io.instructblip.flink.Result;
import io.instructblip.flink.SharedEngineRegistry;
import io.instructblip.flink.StageContext;
import io.instructblip.flink.Stepper;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/** The llm stage's token budget, on the tiny-vicuna fixture, driven step by step. */
class LlmFunctionTest {
  private static final StageContext CONTEXT = new StageContext("llm", 0, 1);

  /** 12 new tokens (min_new_tokens = max_new_tokens). */
  private static final String LONG = "greedy_min_new_tokens";

  /** 8 new tokens. */
  private static final String SHORT = "greedy_rp10";

  private final Map<String, List<Integer>> expected = new HashMap<>();
  private final Map<String, StageItem> items = new HashMap<>();

  LlmFunctionTest() throws Exception {
    for (StageItem item : GoldenStageItems.generateCases(expected)) {
      items.put(item.id(), item);
    }
  }

  @Test
  void withoutABudgetBothRunTogetherAndTheShortOneFinishesFirst() throws Exception {
    List<String> order = finishOrder(new LlmFunction(GoldenStageItems.ENGINE));
    assertEquals(List.of(SHORT, LONG), order);
  }

  @Test
  void aBudgetForOneSequenceRunsThemOneAfterTheOtherInArrivalOrder() throws Exception {
    long budget = Math.max(reservation(LONG), reservation(SHORT));
    assertTrue(reservation(LONG) + reservation(SHORT) > budget);
    List<String> order = finishOrder(new LlmFunction(GoldenStageItems.ENGINE, budget));
    assertEquals(List.of(LONG, SHORT), order);
  }

  @Test
  void aSequenceThatCouldNeverFitIsAnsweredWithInvalidParameter() throws Exception {
    long budget = reservation(SHORT) - 1;
    try (Stepper<StageItem, StageAnswer> stepper =
        new LlmFunction(GoldenStageItems.ENGINE, budget).open(CONTEXT)) {
      stepper.admit(items.get(SHORT));
      List<Result<StageAnswer>> results = stepper.step();
      assertEquals(1, results.size());
      Result<StageAnswer> result = results.get(0);
      assertFalse(result.isOk());
      assertEquals(ErrorCode.INVALID_PARAMETER, result.errorCode());
      assertEquals(
          "request "
              + SHORT
              + " needs "
              + reservation(SHORT)
              + " tokens (1 rows x "
              + reservation(SHORT)
              + ") but the token budget is "
              + budget
              + ": lower max_new_tokens or num_beams, or raise the token budget",
          result.message());
      assertEquals(0, stepper.running());
    }
  }

  @Test
  void aBudgetBelowOneIsRefused() {
    assertThrows(IllegalArgumentException.class, () -> new LlmFunction(GoldenStageItems.ENGINE, 0));
  }

  /**
   * Admits LONG then SHORT at once, steps until both are answered, checks each against the
   * reference tokens and returns the ids in the order they finished.
   */
  private List<String> finishOrder(LlmFunction function) throws Exception {
    List<String> order = new ArrayList<>();
    try (Stepper<StageItem, StageAnswer> stepper = function.open(CONTEXT)) {
      stepper.admit(items.get(LONG));
      stepper.admit(items.get(SHORT));
      for (int steps = 0; stepper.running() > 0 && steps < 100; steps++) {
        for (Result<StageAnswer> result : stepper.step()) {
          assertTrue(result.isOk(), result.message());
          assertEquals(
              expected.get(result.requestId()),
              result.value().result().tokenIds(),
              result.requestId());
          order.add(result.requestId());
        }
      }
    }
    return order;
  }

  /** The tokens an item reserves: its rows times the longest context a row can reach. */
  private long reservation(String id) throws Exception {
    try (SharedEngineRegistry.Lease<InstructBlipEngine> lease = GoldenStageItems.ENGINE.acquire()) {
      StageItem item =
          StagePayloads.withQueryOutputs(lease.get(), List.of(items.get(id))).get(0).value();
      GenerationLoop.Job job = new GenerationLoop.Job(item.prepared(), item.queryOutputs());
      return (long) job.rows() * job.tokensPerRow();
    }
  }
}
