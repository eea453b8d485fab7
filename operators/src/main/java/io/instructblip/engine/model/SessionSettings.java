package io.instructblip.engine.model;

import ai.onnxruntime.OrtSession.SessionOptions.OptLevel;
import java.util.Objects;

/**
 * How ONNX Runtime sessions are created: threads, graph optimization, memory arena and device. All
 * defaults live in {@link Builder}.
 *
 * <pre>{@code
 * SessionSettings settings =
 *     SessionSettings.builder().device(DeviceSpec.parse("auto")).intraOpThreads(4).build();
 * }</pre>
 *
 * @param intraOpThreads threads inside one operator; 0 lets ONNX Runtime choose (one per core)
 * @param interOpThreads threads across operators; 0 lets ONNX Runtime choose
 * @param optimizationLevel graph optimizations (default {@code ALL_OPT}, ONNX Runtime's own
 *     default); on the tiny fixtures every level stays within 1e-5 of the PyTorch reference
 */
public record SessionSettings(
    int intraOpThreads,
    int interOpThreads,
    OptLevel optimizationLevel,
    boolean memoryArena,
    DeviceSpec device) {

  /**
   * The most threads of either kind: each ONNX Runtime thread reserves its stack and scratch
   * memory, and 100,000 of them once took 6.7 GB and hung the process.
   */
  public static final int MAX_THREADS = 256;

  /** Checks the values (use {@link #builder()} to get the defaults). */
  public SessionSettings {
    if (intraOpThreads < 0
        || interOpThreads < 0
        || intraOpThreads > MAX_THREADS
        || interOpThreads > MAX_THREADS) {
      throw new IllegalArgumentException(
          "thread counts must be between 0 (ONNX Runtime's choice) and "
              + MAX_THREADS
              + ", found intra "
              + intraOpThreads
              + ", inter "
              + interOpThreads);
    }
    Objects.requireNonNull(optimizationLevel, "optimizationLevel");
    Objects.requireNonNull(device, "device");
  }

  /**
   * The defaults: ONNX Runtime's intra-op threads, 1 inter-op thread, all optimizations, arena on,
   * CPU.
   */
  public static SessionSettings defaults() {
    return builder().build();
  }

  /** A builder holding the defaults. */
  public static Builder builder() {
    return new Builder();
  }

  /** A builder starting from these settings. */
  public Builder toBuilder() {
    return new Builder()
        .intraOpThreads(intraOpThreads)
        .interOpThreads(interOpThreads)
        .optimizationLevel(optimizationLevel)
        .memoryArena(memoryArena)
        .device(device);
  }

  /** Builds {@link SessionSettings}; every default is set here and only here. */
  public static final class Builder {
    private int intraOpThreads = 0;
    private int interOpThreads = 1;
    private OptLevel optimizationLevel = OptLevel.ALL_OPT;
    private boolean memoryArena = true;
    private DeviceSpec device = DeviceSpec.cpu();

    private Builder() {}

    /** Threads inside one operator (0 = ONNX Runtime's choice). */
    public Builder intraOpThreads(int threads) {
      this.intraOpThreads = threads;
      return this;
    }

    /** Threads across operators (0 = ONNX Runtime's choice). */
    public Builder interOpThreads(int threads) {
      this.interOpThreads = threads;
      return this;
    }

    /** The graph optimization level. */
    public Builder optimizationLevel(OptLevel level) {
      this.optimizationLevel = Objects.requireNonNull(level, "level");
      return this;
    }

    /** Whether the CPU memory arena is used. */
    public Builder memoryArena(boolean enabled) {
      this.memoryArena = enabled;
      return this;
    }

    /** The device. */
    public Builder device(DeviceSpec device) {
      this.device = Objects.requireNonNull(device, "device");
      return this;
    }

    /** The settings. */
    public SessionSettings build() {
      return new SessionSettings(
          intraOpThreads, interOpThreads, optimizationLevel, memoryArena, device);
    }
  }
}
