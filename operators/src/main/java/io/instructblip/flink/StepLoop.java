package io.instructblip.flink;

import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Set;
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
 * <p>Finished results of each step go to {@code sink} (which hands them to the task thread). The
 * {@link Stepper} is used from this thread only, and closed on it when the loop stops.
 */
final class StepLoop<IN, OUT> implements Runnable {
  private static final Logger LOG = LoggerFactory.getLogger(StepLoop.class);

  private sealed interface Command<IN> permits Admit, Cancel, Stop {}

  private record Admit<IN>(String requestId, IN element) implements Command<IN> {}

  private record Cancel<IN>(String requestId) implements Command<IN> {}

  private record Stop<IN>() implements Command<IN> {}

  private final Stepper<IN, OUT> stepper;
  private final Consumer<List<Result<OUT>>> sink;
  private final BiFunction<String, Throwable, Result<OUT>> failure;
  private final Consumer<Integer> stepSizes;
  private final LinkedBlockingQueue<Command<IN>> commands = new LinkedBlockingQueue<>();
  private final Set<String> active = new LinkedHashSet<>();

  StepLoop(
      Stepper<IN, OUT> stepper,
      Consumer<List<Result<OUT>>> sink,
      BiFunction<String, Throwable, Result<OUT>> failure,
      Consumer<Integer> stepSizes) {
    this.stepper = stepper;
    this.sink = sink;
    this.failure = failure;
    this.stepSizes = stepSizes;
  }

  void admit(String requestId, IN element) {
    commands.add(new Admit<>(requestId, element));
  }

  void cancel(String requestId) {
    commands.add(new Cancel<>(requestId));
  }

  void stop() {
    commands.add(new Stop<>());
  }

  @Override
  public void run() {
    try {
      loop();
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
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
      List<Result<OUT>> finished = new ArrayList<>();
      Command<IN> command = active.isEmpty() ? commands.take() : commands.poll();
      while (command != null) {
        if (command instanceof Stop<IN>) {
          return;
        }
        apply(command, finished);
        command = commands.poll();
      }
      if (!active.isEmpty()) {
        step(finished);
      }
      if (!finished.isEmpty()) {
        sink.accept(finished);
      }
    }
  }

  private void apply(Command<IN> command, List<Result<OUT>> finished) {
    if (command instanceof Admit<IN> admit) {
      try {
        stepper.admit(admit.element());
        active.add(admit.requestId());
      } catch (Exception e) {
        finished.add(failure.apply(admit.requestId(), e));
      }
    } else if (command instanceof Cancel<IN> cancel) {
      if (active.remove(cancel.requestId())) {
        stepper.cancel(cancel.requestId());
      }
    }
  }

  private void step(List<Result<OUT>> finished) {
    stepSizes.accept(active.size());
    try {
      for (Result<OUT> result : stepper.step()) {
        if (active.remove(result.requestId())) {
          finished.add(result);
        } else {
          LOG.warn("The stepper finished unknown sequence '{}'; ignored", result.requestId());
        }
      }
    } catch (Exception e) {
      for (String requestId : active) {
        finished.add(failure.apply(requestId, e));
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
