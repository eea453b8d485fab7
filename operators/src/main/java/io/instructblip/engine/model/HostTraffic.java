package io.instructblip.engine.model;

/**
 * Counts the bytes this thread copies between Java heap arrays and ONNX Runtime memory (inputs made
 * from {@code float[]} / {@code long[]}, outputs read back into arrays). {@link NativeTensor}s
 * cross nothing: ONNX Runtime reads and writes them in place. A generation loop belongs to one
 * thread, so the difference of {@link #bytes()} around a decode step is that step's host traffic.
 */
public final class HostTraffic {
  private static final ThreadLocal<long[]> COUNTER = ThreadLocal.withInitial(() -> new long[1]);

  private HostTraffic() {}

  /** The bytes this thread has copied across so far. */
  public static long bytes() {
    return COUNTER.get()[0];
  }

  static void add(long bytes) {
    COUNTER.get()[0] += bytes;
  }
}
