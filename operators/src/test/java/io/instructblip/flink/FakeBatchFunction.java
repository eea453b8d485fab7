package io.instructblip.flink;

import io.instructblip.engine.api.EngineException;
import io.instructblip.engine.api.ErrorCode;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * A batch function for tests. It records every batch (the ids, "~" marking a restored element),
 * optionally holds each batch on a latch, fails an element whose id starts with "bad", and fails
 * the whole batch when an id starts with "boom". Its value is {@code "out:" + id} (plus
 * ":restored"). What it records belongs to this instance and its serialized copies (the operator
 * may get one), found by a key of its own, so tests using other instances can run in parallel.
 */
final class FakeBatchFunction implements BatchFunction<TestRequest, String> {
  private static final long serialVersionUID = 1L;
  private static final Map<String, State> STATES = new ConcurrentHashMap<>();

  private static final class State {
    final List<List<String>> batches = new CopyOnWriteArrayList<>();
    final AtomicInteger opened = new AtomicInteger();
    final AtomicInteger closed = new AtomicInteger();
    volatile CountDownLatch gate = new CountDownLatch(0);
  }

  private final String key = UUID.randomUUID().toString();

  private State state() {
    return STATES.computeIfAbsent(key, k -> new State());
  }

  /** The batches applied so far, in order. */
  List<List<String>> batches() {
    return state().batches;
  }

  int opened() {
    return state().opened.get();
  }

  int closed() {
    return state().closed.get();
  }

  /** From now on, every batch waits until {@link #release()}. */
  void hold() {
    state().gate = new CountDownLatch(1);
  }

  void release() {
    state().gate.countDown();
  }

  @Override
  public BatchProcessor<TestRequest, String> open(StageContext context) {
    State state = state();
    state.opened.incrementAndGet();
    return new BatchProcessor<>() {
      @Override
      public List<Result<String>> apply(List<TestRequest> batch) throws Exception {
        List<String> ids = new ArrayList<>();
        for (TestRequest request : batch) {
          ids.add(request.restored() ? "~" + request.id() : request.id());
        }
        state.batches.add(ids);
        state.gate.await();
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
        state.closed.incrementAndGet();
      }
    };
  }
}
