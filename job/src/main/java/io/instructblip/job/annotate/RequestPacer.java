package io.instructblip.job.annotate;

/**
 * Spaces events evenly at a given rate, without bursts: the {@code n}-th event may pass no earlier
 * than {@code n} intervals after the first. An event that comes late does not earn credit for later
 * ones beyond catching up to the schedule, so a stall is followed by at most the events the
 * schedule owes.
 */
final class RequestPacer {
  private final long intervalNanos;
  private long nextNanos = Long.MIN_VALUE;

  /**
   * @param perSecond events per second, positive
   */
  RequestPacer(double perSecond) {
    this.intervalNanos = Math.max(1, Math.round(1e9 / checkRate(perSecond)));
  }

  /** {@code perSecond}, if it is a positive finite rate; else an error saying so. */
  static double checkRate(double perSecond) {
    if (!(perSecond > 0) || Double.isInfinite(perSecond)) {
      throw new IllegalArgumentException("the rate must be a positive number, not " + perSecond);
    }
    return perSecond;
  }

  /** How long the event arriving at {@code nowNanos} waits before it passes (0: at once). */
  long admit(long nowNanos) {
    if (nextNanos == Long.MIN_VALUE || nowNanos - nextNanos > intervalNanos) {
      // First event, or idle for longer than an interval: restart the schedule now.
      nextNanos = nowNanos;
    }
    long wait = Math.max(0, nextNanos - nowNanos);
    nextNanos += intervalNanos;
    return wait;
  }
}
