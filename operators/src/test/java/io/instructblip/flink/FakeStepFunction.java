package io.instructblip.flink;

import io.instructblip.engine.EngineException;
import io.instructblip.engine.ErrorCode;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.Semaphore;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * A stepper for tests: a sequence needs {@code steps} decode steps and then finishes with value
 * {@code "gen:" + id} (":restored" for a restored element) and {@code steps} generated tokens. It
 * logs the running ids of every step ("~" marks a restored element), and each step waits for a
 * permit when {@link #gated()} (so a test can admit elements between known steps). An id starting
 * with "bad" is refused at admission; a step with an id starting with "oom" running throws an
 * {@link OutOfMemoryError}. State is static; call {@link #reset} per test.
 */
final class FakeStepFunction implements StepFunction<TestRequest, String> {
  private static final long serialVersionUID = 1L;

  static final List<List<String>> STEPS = new CopyOnWriteArrayList<>();
  static final List<String> CANCELLED = new CopyOnWriteArrayList<>();
  static final AtomicInteger STEPS_ENTERED = new AtomicInteger();
  static final AtomicInteger CLOSED = new AtomicInteger();
  static volatile Semaphore permits = new Semaphore(0);
  static volatile boolean gated;

  static void reset() {
    STEPS.clear();
    CANCELLED.clear();
    STEPS_ENTERED.set(0);
    CLOSED.set(0);
    gated = false;
    permits = new Semaphore(0);
  }

  /** From now on, each step waits for {@link #allowSteps}. */
  static void gated() {
    gated = true;
  }

  static void allowSteps(int count) {
    permits.release(count);
  }

  static void ungate() {
    gated = false;
    permits.release(1_000);
  }

  /** Waits until the stage thread is blocked in step number {@code n} (1-based). */
  static void awaitBlockedInStep(int n) throws InterruptedException {
    Mailboxes.await(() -> STEPS_ENTERED.get() == n && permits.hasQueuedThreads());
  }

  @Override
  public Stepper<TestRequest, String> open(StageContext context) {
    return new Stepper<>() {
      private final Map<String, int[]> remaining = new LinkedHashMap<>();
      private final Map<String, TestRequest> requests = new LinkedHashMap<>();

      @Override
      public void admit(TestRequest element) {
        if (element.id().startsWith("bad")) {
          throw new EngineException(ErrorCode.INVALID_PARAMETER, "refused " + element.id());
        }
        remaining.put(element.id(), new int[] {element.steps()});
        requests.put(element.id(), element);
      }

      @Override
      public List<Result<String>> step() throws Exception {
        STEPS_ENTERED.incrementAndGet();
        if (gated) {
          permits.acquire();
        }
        List<String> ids = new ArrayList<>();
        for (TestRequest request : requests.values()) {
          ids.add(request.restored() ? "~" + request.id() : request.id());
        }
        STEPS.add(ids);
        if (ids.stream().anyMatch(id -> id.startsWith("oom"))) {
          throw new OutOfMemoryError("simulated: the step needed more memory than there is");
        }
        List<Result<String>> finished = new ArrayList<>();
        for (var it = remaining.entrySet().iterator(); it.hasNext(); ) {
          var entry = it.next();
          if (--entry.getValue()[0] == 0) {
            TestRequest request = requests.remove(entry.getKey());
            it.remove();
            String value = "gen:" + request.id() + (request.restored() ? ":restored" : "");
            finished.add(Result.ok(request.id(), value, request.steps()));
          }
        }
        return finished;
      }

      @Override
      public void cancel(String requestId) {
        CANCELLED.add(requestId);
        remaining.remove(requestId);
        requests.remove(requestId);
      }

      @Override
      public int running() {
        return remaining.size();
      }

      @Override
      public void close() {
        CLOSED.incrementAndGet();
      }
    };
  }
}
