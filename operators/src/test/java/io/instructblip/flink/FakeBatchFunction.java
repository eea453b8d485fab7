package io.instructblip.flink;

import io.instructblip.engine.EngineException;
import io.instructblip.engine.ErrorCode;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * A batch function for tests. It records every batch (the ids, "~" marking a restored element),
 * optionally holds each batch on a latch, fails an element whose id starts with "bad", and fails
 * the whole batch when an id starts with "boom". Its value is {@code "out:" + id} (plus
 * ":restored"). State is static because the operator may get a serialized copy; call {@link #reset}
 * per test.
 */
final class FakeBatchFunction implements BatchFunction<TestRequest, String> {
  private static final long serialVersionUID = 1L;

  static final List<List<String>> BATCHES = new CopyOnWriteArrayList<>();
  static final AtomicInteger OPENED = new AtomicInteger();
  static final AtomicInteger CLOSED = new AtomicInteger();
  static volatile CountDownLatch gate = new CountDownLatch(0);

  static void reset() {
    BATCHES.clear();
    OPENED.set(0);
    CLOSED.set(0);
    gate = new CountDownLatch(0);
  }

  /** From now on, every batch waits until {@link #release()}. */
  static void hold() {
    gate = new CountDownLatch(1);
  }

  static void release() {
    gate.countDown();
  }

  @Override
  public BatchProcessor<TestRequest, String> open(StageContext context) {
    OPENED.incrementAndGet();
    return new BatchProcessor<>() {
      @Override
      public List<Result<String>> apply(List<TestRequest> batch) throws Exception {
        List<String> ids = new ArrayList<>();
        for (TestRequest request : batch) {
          ids.add(request.restored() ? "~" + request.id() : request.id());
        }
        BATCHES.add(ids);
        gate.await();
        List<Result<String>> results = new ArrayList<>();
        for (TestRequest request : batch) {
          if (request.id().startsWith("boom")) {
            throw new EngineException(ErrorCode.MODEL_ERROR, "injected batch failure");
          }
          if (request.id().startsWith("bad")) {
            results.add(
                Result.error(
                    request.id(), ErrorCode.IMAGE_UNREADABLE, "cannot decode " + request.id()));
          } else {
            String value = "out:" + request.id() + (request.restored() ? ":restored" : "");
            results.add(Result.ok(request.id(), value));
          }
        }
        return results;
      }

      @Override
      public void close() {
        CLOSED.incrementAndGet();
      }
    };
  }
}
