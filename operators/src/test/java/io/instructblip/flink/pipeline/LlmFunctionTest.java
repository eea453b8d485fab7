package io.instructblip.flink.pipeline;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.instructblip.engine.api.ErrorCode;
import io.instructblip.flink.Result;
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

  /**
   * What LONG reserves of a token budget, worked out by hand: 1 row x (4 query tokens of the
   * tiny-vicuna Q-Former + 12 prompt ids + max_new_tokens 12).
   */
  private static final long LONG_TOKENS = 4 + 12 + 12;

  /** What SHORT reserves: 1 row x (4 query tokens + 7 prompt ids + max_new_tokens 8). */
  private static final long SHORT_TOKENS = 4 + 7 + 8;

  private final Map<String, List<Integer>> expected = new HashMap<>();
  private final Map<String, StageItem> items = new HashMap<>();

  LlmFunctionTest() throws Exception {
    for (StageItem item : GoldenStageItems.generateCases(expected)) {
      items.put(item.id(), item);
    }
  }

  @Test
  void withoutABudgetBothRunTogetherAndTheShortOneFinishesFirst() throws Exception {
    List<String> order = finishOrder(new LlmFunction(GoldenStageItems.ENGINE, 8));
    assertEquals(List.of(SHORT, LONG), order);
  }

  @Test
  void aBudgetForOneSequenceRunsThemOneAfterTheOtherInArrivalOrder() throws Exception {
    long budget = Math.max(LONG_TOKENS, SHORT_TOKENS);
    assertTrue(LONG_TOKENS + SHORT_TOKENS > budget);
    List<String> order = finishOrder(new LlmFunction(GoldenStageItems.ENGINE, 8, budget));
    assertEquals(List.of(LONG, SHORT), order);
  }

  @Test
  void aRowLimitOfOneRunsThemOneAfterTheOtherAndTheSecondWaitsInTheScheduler() throws Exception {
    try (Stepper<StageItem, StageAnswer> stepper =
        new LlmFunction(GoldenStageItems.ENGINE, 1).open(CONTEXT)) {
      stepper.admit(items.get(LONG));
      stepper.admit(items.get(SHORT));
      assertEquals(2, stepper.waiting(), "both wait until the first step");
      assertEquals(List.of(), stepper.step());
      assertEquals(1, stepper.waiting(), "LONG runs, SHORT waits for its row");
    }
    assertEquals(List.of(LONG, SHORT), finishOrder(new LlmFunction(GoldenStageItems.ENGINE, 1)));
  }

  @Test
  void theHostBytesOfAStepDoNotGrowAsTheSequenceGrows() throws Exception {
    try (Stepper<StageItem, StageAnswer> stepper =
        new LlmFunction(GoldenStageItems.ENGINE, 8).open(CONTEXT)) {
      stepper.admit(items.get(LONG));
      stepper.step(); // prefill and the first step
      stepper.step();
      long second = stepper.lastStepHostBytes();
      stepper.step();
      assertTrue(second > 0, "the logits cross: " + second);
      assertEquals(second, stepper.lastStepHostBytes(), "one more position, same host bytes");
    }
  }

  @Test
  void aSequenceThatCouldNeverFitIsAnsweredWithInvalidParameter() throws Exception {
    long budget = SHORT_TOKENS - 1;
    try (Stepper<StageItem, StageAnswer> stepper =
        new LlmFunction(GoldenStageItems.ENGINE, 8, budget).open(CONTEXT)) {
      stepper.admit(items.get(SHORT));
      List<Result<StageAnswer>> results = stepper.step();
      assertEquals(1, results.size());
      Result<StageAnswer> result = results.get(0);
      assertFalse(result.isOk());
      assertEquals(ErrorCode.INVALID_PARAMETER, result.errorCode());
      assertEquals(
          "request greedy_rp10 needs 19 tokens (1 rows x 19) but the token budget is 18: lower"
              + " max_new_tokens or num_beams, or raise the token budget",
          result.message());
      assertEquals(0, stepper.waiting());
    }
  }

  /** The function travels to the TaskManagers serialized (a job with it once failed to start). */
  @Test
  void theFunctionIsSerializable() throws Exception {
    LlmFunction copy =
        org.apache.flink.util.InstantiationUtil.clone(
            new LlmFunction(GoldenStageItems.ENGINE, 1, SHORT_TOKENS));
    try (Stepper<StageItem, StageAnswer> stepper = copy.open(CONTEXT)) {
      stepper.admit(items.get(LONG));
      assertEquals(ErrorCode.INVALID_PARAMETER, stepper.step().get(0).errorCode(), "budget kept");
    }
  }

  @Test
  void aBudgetBelowOneIsRefused() {
    assertThrows(
        IllegalArgumentException.class, () -> new LlmFunction(GoldenStageItems.ENGINE, 8, 0));
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
      for (int steps = 0; order.size() < 2 && steps < 100; steps++) {
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
}
