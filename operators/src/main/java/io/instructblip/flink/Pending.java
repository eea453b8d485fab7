package io.instructblip.flink;

import java.util.concurrent.ScheduledFuture;

/**
 * One element held by a stage operator, from arrival until it is answered. Touched only on the task
 * thread (the stage thread sees {@link #element} alone).
 */
final class Pending<IN> {
  final long seq;
  final IN element;
  final InFlight compact;
  final long arrivedAtMillis;
  ScheduledFuture<?> deadlineTimer;

  Pending(long seq, IN element, InFlight compact, long arrivedAtMillis) {
    this.seq = seq;
    this.element = element;
    this.compact = compact;
    this.arrivedAtMillis = arrivedAtMillis;
  }

  String requestId() {
    return compact.requestId();
  }

  void cancelDeadlineTimer() {
    if (deadlineTimer != null) {
      deadlineTimer.cancel(false);
      deadlineTimer = null;
    }
  }
}
