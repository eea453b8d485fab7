package io.instructblip.sql;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

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

  private List<EngineResult> answer(List<EngineRequest> requests) {
    List<String> ids = new ArrayList<>();
    List<EngineResult> results = new ArrayList<>();
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
              StageTimings.ZERO,
              null,
              null));
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
    List<CompletableFuture<EngineResult>> results = new ArrayList<>();
    for (int i = 0; i < 6; i++) {
      results.add(batcher.submit(request("r" + i, "q" + i)));
    }
    for (int i = 0; i < 6; i++) {
      assertEquals("answer to q" + i, results.get(i).get().text());
    }
    assertEquals(List.of(List.of("r0", "r1", "r2"), List.of("r3", "r4", "r5")), batches);
    batcher.close();
    assertTrue(closed.get(), "the engine is closed with the batcher");
  }

  @Test
  void aFailingBatchAnswersEachOfItsRowsWithInternalAndTheBatcherGoesOn() throws Exception {
    try (RowBatcher batcher =
        new RowBatcher(this::answer, () -> closed.set(true), 2, Duration.ofMinutes(5))) {
      CompletableFuture<EngineResult> a = batcher.submit(request("a", "boom"));
      CompletableFuture<EngineResult> b = batcher.submit(request("b", "fine"));
      assertEquals("INTERNAL", a.get().errorCode().name());
      assertEquals(
          "the engine failed: java.lang.IllegalStateException: boom", b.get().errorMessage());
      CompletableFuture<EngineResult> c = batcher.submit(request("c", "x"));
      CompletableFuture<EngineResult> d = batcher.submit(request("d", "y"));
      assertEquals("answer to x", c.get().text());
      assertEquals("answer to y", d.get().text());
    }
  }

  @Test
  void rowsSubmittedAfterCloseAreAnsweredWithInternal() throws Exception {
    RowBatcher batcher =
        new RowBatcher(this::answer, () -> closed.set(true), 2, Duration.ofMillis(1));
    batcher.close();
    EngineResult late = batcher.submit(request("late", "q")).get();
    assertEquals("INTERNAL", late.errorCode().name());
    assertEquals("the model was closed", late.errorMessage());
  }
}
