package io.instructblip.sql;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.instructblip.engine.api.EngineFailure;
import io.instructblip.engine.api.EngineOutcome;
import io.instructblip.engine.api.EngineRequest;
import io.instructblip.engine.api.EngineResult;
import io.instructblip.engine.api.StageTimings;
import io.instructblip.engine.generate.FinishReason;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.atomic.AtomicBoolean;
import org.junit.jupiter.api.Test;

/** The batcher's bookkeeping, with an answer function in place of the engine. */
class RowBatcherTest {
  private final List<List<String>> batches = new CopyOnWriteArrayList<>();
  private final AtomicBoolean closed = new AtomicBoolean();

  private List<EngineOutcome> answer(List<EngineRequest> requests) {
    List<String> ids = new ArrayList<>();
    List<EngineOutcome> results = new ArrayList<>();
    for (EngineRequest r : requests) {
      ids.add(r.id());
      if (r.instruction().equals("boom")) {
        throw new IllegalStateException("boom");
      }
      results.add(
          new EngineResult(
              r.id(),
              "answer to " + r.instruction(),
              List.of(),
              FinishReason.EOS,
              List.of(),
              List.of(),
              List.of(),
              StageTimings.ZERO));
    }
    batches.add(ids);
    return results;
  }

  private static EngineRequest request(String id, String instruction) {
    return EngineRequest.generate(id, List.of(new byte[] {1}), instruction);
  }

  @Test
  void rowsQueuedTogetherRunAsOneBatchWhenItIsFull() throws Exception {
    // A long wait: the batch can only leave early by being full.
    RowBatcher batcher =
        new RowBatcher(this::answer, () -> closed.set(true), 3, Duration.ofMinutes(5));
    List<CompletableFuture<EngineOutcome>> results = new ArrayList<>();
    for (int i = 0; i < 6; i++) {
      results.add(batcher.submit(request("r" + i, "q" + i)));
    }
    for (int i = 0; i < 6; i++) {
      assertEquals("answer to q" + i, results.get(i).get().answer().text());
    }
    assertEquals(List.of(List.of("r0", "r1", "r2"), List.of("r3", "r4", "r5")), batches);
    batcher.close();
    assertTrue(closed.get(), "the engine is closed with the batcher");
  }

  @Test
  void aFailingBatchAnswersEachOfItsRowsWithInternalAndTheBatcherGoesOn() throws Exception {
    try (RowBatcher batcher =
        new RowBatcher(this::answer, () -> closed.set(true), 2, Duration.ofMinutes(5))) {
      CompletableFuture<EngineOutcome> a = batcher.submit(request("a", "boom"));
      CompletableFuture<EngineOutcome> b = batcher.submit(request("b", "fine"));
      assertEquals("INTERNAL", failure(a.get()).code().name());
      assertEquals(
          "the engine failed: java.lang.IllegalStateException: boom", failure(b.get()).message());
      CompletableFuture<EngineOutcome> c = batcher.submit(request("c", "x"));
      CompletableFuture<EngineOutcome> d = batcher.submit(request("d", "y"));
      assertEquals("answer to x", c.get().answer().text());
      assertEquals("answer to y", d.get().answer().text());
    }
  }

  @Test
  void rowsSubmittedAfterCloseAreAnsweredWithInternal() throws Exception {
    RowBatcher batcher =
        new RowBatcher(this::answer, () -> closed.set(true), 2, Duration.ofMillis(1));
    batcher.close();
    EngineFailure late = failure(batcher.submit(request("late", "q")).get());
    assertEquals("INTERNAL", late.code().name());
    assertEquals("the model was closed", late.message());
  }

  private static EngineFailure failure(EngineOutcome outcome) {
    return assertInstanceOf(EngineFailure.class, outcome);
  }
}
