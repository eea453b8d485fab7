package io.instructblip.flink;

import io.instructblip.engine.api.EngineException;
import io.instructblip.engine.api.ErrorCode;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.Semaphore;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * A stepper for tests: at most {@link #maxRunning} sequences run (the others wait); a sequence
 * needs {@code steps} decode steps and then finishes with value {@code "gen:" + id} (":restored"
 * for a restored element) and {@code steps} generated tokens. It logs the running ids of every step
 * ("~" marks a restored element), and each step waits for a permit when {@link #gated()} (so a test
 * can admit elements between known steps). An id starting with "bad" is refused at admission; a
 * step with an id starting with "oom" running throws an {@link OutOfMemoryError}. What it records
 * belongs to this instance and its serialized copies (found by a key of its own), so tests can run
 * in parallel.
 */
final class FakeStepFunction implements StepFunction<TestRequest, String> {
  private static final long serialVersionUID = 1L;

  private static final Map<String, State> STATES = new ConcurrentHashMap<>();

  private static final class State {
    final List<List<String>> steps = new CopyOnWriteArrayList<>();
    final List<String> cancelled = new CopyOnWriteArrayList<>();
    final AtomicInteger stepsEntered = new AtomicInteger();
    final AtomicInteger closed = new AtomicInteger();
    final Semaphore permits = new Semaphore(0);
    volatile boolean gated;
    volatile int maxRunning = Integer.MAX_VALUE;
  }

  private final String key = UUID.randomUUID().toString();

  private State state() {
    return STATES.computeIfAbsent(key, k -> new State());
  }

  /** The running ids of every step so far. */
  List<List<String>> steps() {
    return state().steps;
  }

  /** The ids cancelled so far. */
  List<String> cancelled() {
    return state().cancelled;
  }

  int closed() {
    return state().closed.get();
  }

  /** At most {@code n} sequences run in a step; the others wait, in arrival order. */
  void maxRunning(int n) {
    state().maxRunning = n;
  }

  /** From now on, each step waits for {@link #allowSteps}. */
  void gated() {
    state().gated = true;
  }

  void allowSteps(int count) {
    state().permits.release(count);
  }

  void ungate() {
    state().gated = false;
    state().permits.release(1_000);
  }

  /** Waits until the stage thread is blocked in step number {@code n} (1-based). */
  void awaitBlockedInStep(int n) throws InterruptedException {
    State state = state();
    Mailboxes.await(() -> state.stepsEntered.get() == n && state.permits.hasQueuedThreads());
  }

  @Override
  public Stepper<TestRequest, String> open(StageContext context) {
    State state = state();
    return new Stepper<>() {
      private final Map<String, TestRequest> waiting = new LinkedHashMap<>();
      private final Map<String, int[]> remaining = new LinkedHashMap<>();
      private final Map<String, TestRequest> requests = new LinkedHashMap<>();

      @Override
      public void admit(TestRequest element) {
        if (element.id().startsWith("bad")) {
          throw new EngineException(ErrorCode.INVALID_PARAMETER, "refused " + element.id());
        }
        waiting.put(element.id(), element);
      }

      @Override
      public List<Result<String>> step() throws Exception {
        for (var it = waiting.values().iterator();
            it.hasNext() && requests.size() < state.maxRunning; ) {
          TestRequest element = it.next();
          it.remove();
          remaining.put(element.id(), new int[] {element.steps()});
          requests.put(element.id(), element);
        }
        state.stepsEntered.incrementAndGet();
        if (state.gated) {
          state.permits.acquire();
        }
        List<String> ids = new ArrayList<>();
        for (TestRequest request : requests.values()) {
          ids.add(request.restored() ? "~" + request.id() : request.id());
        }
        state.steps.add(ids);
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
        state.cancelled.add(requestId);
        waiting.remove(requestId);
        remaining.remove(requestId);
        requests.remove(requestId);
      }

      @Override
      public int waiting() {
        return waiting.size();
      }

      @Override
      public void close() {
        state.closed.incrementAndGet();
      }
    };
  }
}
