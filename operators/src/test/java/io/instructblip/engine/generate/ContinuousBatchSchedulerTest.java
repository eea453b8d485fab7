package io.instructblip.engine.generate;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.instructblip.engine.api.EngineException;
import io.instructblip.engine.api.ErrorCode;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import org.junit.jupiter.api.Test;

class ContinuousBatchSchedulerTest {

  private static ContinuousBatchScheduler<String> scheduler(int rows, long budget) {
    return new ContinuousBatchScheduler<>(new ContinuousBatchScheduler.Limits(rows, budget));
  }

  private static List<String> ids(List<ContinuousBatchScheduler.Entry<String>> entries) {
    return entries.stream().map(ContinuousBatchScheduler.Entry::id).toList();
  }

  @Test
  void admitsInArrivalOrderWithinTheRowLimit() {
    ContinuousBatchScheduler<String> s = scheduler(3, 1000);
    s.submit("a", 1, 10, "A");
    s.submit("b", 1, 10, "B");
    s.submit("c", 1, 10, "C");
    s.submit("d", 1, 10, "D");
    assertEquals(List.of("a", "b", "c"), ids(s.admit()));
    assertEquals(1, s.waitingCount());
    assertEquals(3, s.runningRows());
    assertEquals(30, s.reservedTokens());
    assertEquals(List.of(), s.admit()); // nothing fits until one leaves
  }

  @Test
  void aFinishedSequenceLeavesAtOnceAndFreesItsRowsForTheNextStep() {
    ContinuousBatchScheduler<String> s = scheduler(2, 1000);
    s.submit("a", 1, 10, "A");
    s.submit("b", 1, 10, "B");
    s.submit("c", 1, 10, "C");
    s.admit();
    assertEquals(Optional.of("A"), s.finish("a"));
    assertEquals(1, s.runningRows());
    assertEquals(List.of("c"), ids(s.admit()));
    assertEquals(2, s.runningRows());
    assertEquals(Optional.empty(), s.finish("a"));
  }

  @Test
  void aBeamRequestTakesKRows() {
    ContinuousBatchScheduler<String> s = scheduler(6, 1000);
    s.submit("beam5", 5, 10, null);
    s.submit("greedy1", 1, 10, null);
    s.submit("beam3", 3, 10, null);
    assertEquals(List.of("beam5", "greedy1"), ids(s.admit()));
    assertEquals(6, s.runningRows());
    s.finish("beam5");
    assertEquals(List.of("beam3"), ids(s.admit()));
    assertEquals(4, s.runningRows());
  }

  @Test
  void theTokenBudgetLimitsAdmission() {
    ContinuousBatchScheduler<String> s = scheduler(100, 100);
    s.submit("a", 1, 60, null);
    s.submit("b", 1, 50, null); // 60 + 50 > 100
    s.submit("c", 1, 10, null);
    assertEquals(List.of("a"), ids(s.admit()));
    assertEquals(60, s.reservedTokens());
    s.finish("a");
    assertEquals(List.of("b", "c"), ids(s.admit()));
    assertEquals(60, s.reservedTokens());
  }

  @Test
  void aBigRequestAtTheHeadIsNotOvertakenBySmallerOnes() {
    ContinuousBatchScheduler<String> s = scheduler(4, 1000);
    s.submit("small1", 1, 10, null);
    s.submit("small2", 1, 10, null);
    s.admit();
    s.submit("big", 4, 10, null);
    s.submit("small3", 1, 10, null); // would fit now, but waits behind "big"
    assertEquals(List.of(), ids(s.admit()));
    s.finish("small1");
    assertEquals(List.of(), ids(s.admit()));
    s.finish("small2");
    assertEquals(List.of("big"), ids(s.admit()));
    assertEquals(1, s.waitingCount()); // small3
  }

  @Test
  void aWaitingSequenceCanBeRemoved() {
    ContinuousBatchScheduler<String> s = scheduler(1, 1000);
    s.submit("a", 1, 10, "A");
    s.submit("b", 1, 10, "B");
    assertEquals(Optional.of("B"), s.finish("b")); // e.g. its deadline passed while waiting
    assertEquals(1, s.waitingCount());
    assertEquals(List.of("a"), ids(s.admit()));
    assertFalse(s.isIdle());
    s.finish("a");
    assertTrue(s.isIdle());
  }

  /**
   * A request with more rows than the limit (e.g. --llm-max-running 1 and num_beams 5) runs alone
   * once nothing runs, and nothing joins it; it is not refused.
   */
  @Test
  void aSequenceWiderThanTheRowLimitRunsAlone() {
    ContinuousBatchScheduler<String> s = scheduler(2, 1000);
    s.submit("a", 1, 10, null);
    s.admit();
    s.submit("beam5", 5, 10, null);
    s.submit("b", 1, 10, null);
    assertEquals(List.of(), ids(s.admit()), "beam5 waits until a has left; b waits behind it");
    s.finish("a");
    assertEquals(List.of("beam5"), ids(s.admit()));
    assertEquals(List.of(), ids(s.admit()), "nothing joins it");
    s.finish("beam5");
    assertEquals(List.of("b"), ids(s.admit()));
  }

  @Test
  void refusesSequencesOverTheTokenBudgetAndDuplicateIds() {
    ContinuousBatchScheduler<String> s = scheduler(4, 100);
    EngineException tokens = assertThrows(EngineException.class, () -> s.submit("y", 2, 60, null));
    assertEquals(
        "request y needs 120 tokens (2 rows x 60) but the token budget is 100: lower"
            + " max_new_tokens or num_beams, or raise the token budget",
        tokens.getMessage());
    s.submit("z", 1, 10, null);
    EngineException dup = assertThrows(EngineException.class, () -> s.submit("z", 1, 10, null));
    assertEquals(ErrorCode.INTERNAL, dup.code());
    assertEquals("request z is already scheduled", dup.getMessage());
    EngineException limits =
        assertThrows(EngineException.class, () -> new ContinuousBatchScheduler.Limits(0, 10));
    assertEquals("maxRunningRows must be at least 1, got 0", limits.getMessage());
  }

  /**
   * Drives the scheduler like the LLM stage with fake model outputs: each sequence finishes after a
   * fixed number of decode steps (its EOS), sequences arrive over time, and the loop admits at
   * every step boundary. Checks the limits hold at every step and every sequence gets served.
   */
  @Test
  void servesEveryoneUnderLoadWithinTheLimits() {
    ContinuousBatchScheduler<Integer> s =
        new ContinuousBatchScheduler<>(new ContinuousBatchScheduler.Limits(6, 200));
    int[] rows = {1, 5, 1, 1, 3, 1, 5, 1, 1, 2};
    int[] tokensPerRow = {20, 30, 40, 20, 10, 30, 20, 20, 50, 40};
    int[] steps = {3, 5, 2, 4, 1, 6, 2, 3, 2, 1};
    Map<String, Integer> left = new LinkedHashMap<>(); // the running sequences' steps left
    List<String> admittedOrder = new ArrayList<>();
    List<String> finishedOrder = new ArrayList<>();
    int next = 0;
    for (int step = 0; step < 200 && finishedOrder.size() < rows.length; step++) {
      if (next < rows.length) { // one arrival per step
        s.submit("r" + next, rows[next], tokensPerRow[next], steps[next]);
        next++;
      }
      for (ContinuousBatchScheduler.Entry<Integer> e : s.admit()) {
        admittedOrder.add(e.id());
        left.put(e.id(), e.payload());
      }
      assertTrue(s.runningRows() <= 6, "rows at step " + step);
      assertTrue(s.reservedTokens() <= 200, "tokens at step " + step);
      for (String id : List.copyOf(left.keySet())) { // one step: count down to the fake EOS
        int remaining = left.merge(id, -1, Integer::sum);
        if (remaining == 0) {
          left.remove(id);
          s.finish(id);
          finishedOrder.add(id);
        }
      }
    }
    assertEquals(
        List.of("r0", "r1", "r2", "r3", "r4", "r5", "r6", "r7", "r8", "r9"), admittedOrder);
    assertEquals(rows.length, finishedOrder.size());
    assertTrue(s.isIdle());
  }
}
