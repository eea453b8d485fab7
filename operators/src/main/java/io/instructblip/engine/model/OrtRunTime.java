package io.instructblip.engine.model;

/**
 * Counts the nanoseconds this thread spends inside ONNX Runtime's session runs, so that a benchmark
 * can split a decode step's time between ONNX Runtime (the model itself) and the engine's own work
 * (packing, copies, search). A generation loop belongs to one thread, so the difference of {@link
 * #nanos()} around a step is that step's time in ONNX Runtime.
 */
public final class OrtRunTime {
  private static final ThreadLocal<long[]> COUNTER = ThreadLocal.withInitial(() -> new long[1]);

  private OrtRunTime() {}

  /** The nanoseconds this thread has spent in ONNX Runtime runs so far. */
  public static long nanos() {
    return COUNTER.get()[0];
  }

  static void add(long nanos) {
    COUNTER.get()[0] += nanos;
  }
}
