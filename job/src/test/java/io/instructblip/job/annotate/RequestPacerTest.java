package io.instructblip.job.annotate;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import org.junit.jupiter.api.Test;

class RequestPacerTest {
  private static final long MS = 1_000_000L;

  @Test
  void eventsArrivingTogetherAreSpacedByTheInterval() {
    RequestPacer pacer = new RequestPacer(20); // 50 ms apart
    assertEquals(0, pacer.admit(1_000 * MS));
    assertEquals(50 * MS, pacer.admit(1_000 * MS));
    assertEquals(100 * MS, pacer.admit(1_000 * MS));
    // The third waited until 1100 ms; one arriving at 1120 ms waits for 1150 ms.
    assertEquals(30 * MS, pacer.admit(1_120 * MS));
  }

  @Test
  void anIdlePauseEarnsNoBurst() {
    RequestPacer pacer = new RequestPacer(10); // 100 ms apart
    assertEquals(0, pacer.admit(0));
    // Idle for 5 s: the schedule restarts, the next ones are spaced again.
    assertEquals(0, pacer.admit(5_000 * MS));
    assertEquals(100 * MS, pacer.admit(5_000 * MS));
  }

  @Test
  void aSlightlyLateEventKeepsTheSchedule() {
    RequestPacer pacer = new RequestPacer(10);
    assertEquals(0, pacer.admit(0));
    // Due at 100 ms, came at 150 ms: passes at once, and the next is due at 200 ms.
    assertEquals(0, pacer.admit(150 * MS));
    assertEquals(50 * MS, pacer.admit(150 * MS));
  }

  @Test
  void aRateMustBePositive() {
    assertThrows(IllegalArgumentException.class, () -> new RequestPacer(0));
    assertThrows(IllegalArgumentException.class, () -> new RequestPacer(-1));
    assertThrows(IllegalArgumentException.class, () -> new RequestPacer(Double.NaN));
  }
}
