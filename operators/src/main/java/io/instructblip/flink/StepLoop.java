package io.instructblip.flink;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.function.BiFunction;
import java.util.function.Consumer;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The stage thread of a continuously batched stage: applies admissions and cancellations in the
 * order the task thread sent them, at step boundaries, then advances the running sequences one step
 * while any run, and sleeps (blocks on its command queue) while none does.
 *
 * <p>An exception while admitting or stepping is an error result for the sequences it concerns;
 * anything else that escapes (an {@link Error} such as {@code OutOfMemoryError}) ends the loop and
 * goes to {@code died}, which fails the task so that Flink restarts it.
 *
 * <p>Finished results of each step go to {@code sink} (which hands them to the task thread), each
 * tagged with the sequence number of the admission it answers, so that a stale result can never
 * answer a later element with the same request id. The {@link Stepper} is used from this thread
 * only, and closed on it when the loop stops.
 */
final class StepLoop<IN, OUT> implements Runnable {
  private static final Logger LOG = LoggerFactory.getLogger(StepLoop.class);

  private sealed interface Command<IN> permits Admit, Cancel, Stop {}

  private record Admit<IN>(long seq, String requestId, IN element) implements Command<IN> {}

  private record Cancel<IN>(long seq, String requestId) implements Command<IN> {}

  private record Stop<IN>() implements Command<IN> {}

  private final Stepper<IN, OUT> stepper;
  private final Consumer<List<Finished<OUT>>> sink;
  private final BiFunction<String, Throwable, Result<OUT>> failure;
  private final Consumer<Integer> stepSizes;
  private final Consumer<Throwable> died;
  private final LinkedBlockingQueue<Command<IN>> commands = new LinkedBlockingQueue<>();

  /** Sequences with the stepper: request id to the sequence number of their admission. */
  private final Map<String, Long> active = new LinkedHashMap<>();

  /** The stepper's waiting sequences after its last command or step (read by the task thread). */
  private volatile int waiting;

  /** The stepper's host bytes of its last step (read by the metrics reporter). */
  private volatile long lastStepHostBytes;

  /** A result and the sequence number of the admission it answers. */
  record Finished<OUT>(long seq, Result<OUT> result) {}

  StepLoop(
      Stepper<IN, OUT> stepper,
      Consumer<List<Finished<OUT>>> sink,
      BiFunction<String, Throwable, Result<OUT>> failure,
      Consumer<Integer> stepSizes,
      Consumer<Throwable> died) {
    this.stepper = stepper;
    this.sink = sink;
    this.failure = failure;
    this.stepSizes = stepSizes;
    this.died = died;
  }

  void admit(long seq, String requestId, IN element) {
    commands.add(new Admit<>(seq, requestId, element));
  }

  void cancel(long seq, String requestId) {
    commands.add(new Cancel<>(seq, requestId));
  }

  void stop() {
    commands.add(new Stop<>());
  }

  /** The sequences waiting in the stepper, as of its last admission or step. */
  int waiting() {
    return waiting;
  }

  /** The bytes the stepper's last step copied between the Java heap and native memory. */
  long lastStepHostBytes() {
    return lastStepHostBytes;
  }

  @Override
  public void run() {
    try {
      loop();
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    } catch (Throwable t) {
      // An Error (e.g. OutOfMemoryError) or an exception outside any one sequence: the loop cannot
      // go on, and a silently dead stage thread would leave every later request unanswered.
      LOG.error("The stage thread died", t);
      died.accept(t);
    } finally {
      try {
        stepper.close();
      } catch (Exception e) {
        LOG.warn("Closing the stepper failed", e);
      }
    }
  }

  private void loop() throws InterruptedException {
    while (true) {
      List<Finished<OUT>> finished = new ArrayList<>();
      Command<IN> command = active.isEmpty() ? commands.take() : commands.poll();
      while (command != null) {
        if (command instanceof Stop<IN>) {
          return;
        }
        apply(command, finished);
        command = commands.poll();
      }
      waiting = stepper.waiting();
      if (!active.isEmpty()) {
        step(finished);
        waiting = stepper.waiting();
      }
      if (!finished.isEmpty()) {
        sink.accept(finished);
      }
    }
  }

  private void apply(Command<IN> command, List<Finished<OUT>> finished) {
    if (command instanceof Admit<IN> admit) {
      try {
        stepper.admit(admit.element());
        active.put(admit.requestId(), admit.seq());
      } catch (Exception e) {
        finished.add(new Finished<>(admit.seq(), failure.apply(admit.requestId(), e)));
      }
    } else if (command instanceof Cancel<IN> cancel) {
      if (active.remove(cancel.requestId(), cancel.seq())) {
        stepper.cancel(cancel.requestId());
      }
    }
  }

  private void step(List<Finished<OUT>> finished) {
    stepSizes.accept(active.size());
    try {
      List<Result<OUT>> results = stepper.step();
      lastStepHostBytes = stepper.lastStepHostBytes();
      for (Result<OUT> result : results) {
        Long seq = active.remove(result.requestId());
        if (seq != null) {
          finished.add(new Finished<>(seq, result));
        } else {
          LOG.warn("The stepper finished unknown sequence '{}'; ignored", result.requestId());
        }
      }
    } catch (Exception e) {
      for (Map.Entry<String, Long> entry : active.entrySet()) {
        String requestId = entry.getKey();
        finished.add(new Finished<>(entry.getValue(), failure.apply(requestId, e)));
        try {
          stepper.cancel(requestId);
        } catch (RuntimeException cancelFailure) {
          LOG.warn("Cancelling '{}' after a failed step failed", requestId, cancelFailure);
        }
      }
      active.clear();
    }
  }
}
