package io.instructblip.flink;

import java.nio.charset.StandardCharsets;

/**
 * A stage element for tests: a compact part (id, deadline, steps) and a heavy transient part that a
 * restore loses ({@code payload == null} marks a restored element).
 */
record TestRequest(String id, long deadlineMillis, int steps, String payload) {

  static TestRequest of(String id) {
    return new TestRequest(id, InFlight.NO_DEADLINE, 1, "pixels-" + id);
  }

  static TestRequest withDeadline(String id, long deadlineMillis) {
    return new TestRequest(id, deadlineMillis, 1, "pixels-" + id);
  }

  static TestRequest withSteps(String id, int steps) {
    return new TestRequest(id, InFlight.NO_DEADLINE, steps, "pixels-" + id);
  }

  boolean restored() {
    return payload == null;
  }

  /** Encodes the compact part only; the payload is what a real stage would re-derive. */
  static final class Codec implements InFlightCodec<TestRequest> {
    private static final long serialVersionUID = 1L;

    @Override
    public InFlight toInFlight(TestRequest element) {
      return new InFlight(
          element.id(),
          element.deadlineMillis(),
          Integer.toString(element.steps()).getBytes(StandardCharsets.UTF_8));
    }

    @Override
    public TestRequest fromInFlight(InFlight inFlight) {
      int steps = Integer.parseInt(new String(inFlight.payload(), StandardCharsets.UTF_8));
      return new TestRequest(inFlight.requestId(), inFlight.deadlineMillis(), steps, null);
    }
  }
}
