package io.instructblip.sql;

import io.instructblip.engine.InstructBlipEngine;
import io.instructblip.engine.api.EngineFailure;
import io.instructblip.engine.api.EngineOutcome;
import io.instructblip.engine.api.EngineRequest;
import io.instructblip.engine.api.ErrorCode;
import io.instructblip.engine.api.StageTimings;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import java.util.function.Function;

/**
 * One engine and the thread that feeds it: rows from every predict function that shares it (all
 * subtasks of the TaskManager that use the same model, through the {@code SharedEngineRegistry})
 * queue here, and the thread runs them through {@link InstructBlipEngine#infer} in batches of at
 * most {@code maxRows}, a batch leaving when full or {@code maxWait} after its first row. A failed
 * batch completes each of its rows with an {@code INTERNAL} result; the thread carries on.
 */
// close() waits for the worker thread; an interrupt there is passed on, not swallowed
@SuppressWarnings("try")
final class RowBatcher implements AutoCloseable {
  private record Pending(EngineRequest request, CompletableFuture<EngineOutcome> result) {}

  private final Function<List<EngineRequest>, List<EngineOutcome>> infer;
  private final AutoCloseable engine;
  private final int maxRows;
  private final long maxWaitNanos;
  private final LinkedBlockingQueue<Pending> queue = new LinkedBlockingQueue<>();
  private final Thread worker;
  private volatile boolean closed;

  RowBatcher(InstructBlipEngine engine, int maxRows, Duration maxWait) {
    this(requests -> engine.infer(requests, maxRows, maxRows), engine, maxRows, maxWait);
  }

  /**
   * @param infer answers a batch, results in request order
   * @param engine closed with the batcher
   */
  RowBatcher(
      Function<List<EngineRequest>, List<EngineOutcome>> infer,
      AutoCloseable engine,
      int maxRows,
      Duration maxWait) {
    this.infer = infer;
    this.engine = engine;
    this.maxRows = maxRows;
    this.maxWaitNanos = maxWait.toNanos();
    this.worker = new Thread(this::run, "instructblip-sql-batcher");
    worker.setDaemon(true);
    worker.start();
  }

  /** Queues {@code request}; the future completes with its result (never exceptionally). */
  CompletableFuture<EngineOutcome> submit(EngineRequest request) {
    CompletableFuture<EngineOutcome> result = new CompletableFuture<>();
    if (closed) {
      result.complete(failed(request, "the model was closed"));
    } else {
      queue.add(new Pending(request, result));
    }
    return result;
  }

  private void run() {
    List<Pending> batch = new ArrayList<>(maxRows);
    while (!closed) {
      try {
        Pending first = queue.poll(100, TimeUnit.MILLISECONDS);
        if (first == null) {
          continue;
        }
        batch.add(first);
        long deadline = System.nanoTime() + maxWaitNanos;
        while (batch.size() < maxRows) {
          long left = deadline - System.nanoTime();
          Pending next = left <= 0 ? queue.poll() : queue.poll(left, TimeUnit.NANOSECONDS);
          if (next == null) {
            break;
          }
          batch.add(next);
        }
        runBatch(batch);
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        break;
      } finally {
        batch.clear();
      }
    }
    for (Pending p; (p = queue.poll()) != null; ) {
      p.result().complete(failed(p.request(), "the model was closed"));
    }
  }

  private void runBatch(List<Pending> batch) {
    List<EngineRequest> requests = new ArrayList<>(batch.size());
    batch.forEach(p -> requests.add(p.request()));
    List<EngineOutcome> results;
    try {
      results = infer.apply(requests);
    } catch (RuntimeException e) {
      batch.forEach(p -> p.result().complete(failed(p.request(), "the engine failed: " + e)));
      return;
    }
    for (int i = 0; i < batch.size(); i++) {
      batch.get(i).result().complete(results.get(i));
    }
  }

  private static EngineOutcome failed(EngineRequest request, String message) {
    return new EngineFailure(request.id(), ErrorCode.INTERNAL, message, StageTimings.ZERO);
  }

  @Override
  public void close() throws Exception {
    closed = true;
    worker.interrupt();
    try {
      worker.join(TimeUnit.SECONDS.toMillis(30));
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    } finally {
      engine.close();
    }
  }
}
