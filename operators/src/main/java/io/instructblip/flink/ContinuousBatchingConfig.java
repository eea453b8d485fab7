package io.instructblip.flink;

import java.io.Serializable;
import java.time.Duration;
import java.util.Objects;

/**
 * How a continuously batched stage (the llm stage) schedules its sequences.
 *
 * <pre>{@code
 * ContinuousBatchingConfig config = ContinuousBatchingConfig.builder()
 *     .maxRunning(8)
 *     .maxInFlight(32)
 *     .defaultTimeout(Duration.ofSeconds(60))
 *     .build();
 * }</pre>
 *
 * @param maxRunning the model rows one decode step may run (a beam-search request takes {@code
 *     num_beams}); enforced by the stage's step function (the llm stage: its {@code
 *     ContinuousBatchScheduler}), not by the operator; more wait in that scheduler
 * @param maxInFlight elements held per subtask (running or waiting); when reached, the operator
 *     stops taking input (backpressure); at least {@code maxRunning}
 * @param defaultTimeout the deadline applied to elements without one ({@link Duration#ZERO}: none)
 */
public record ContinuousBatchingConfig(int maxRunning, int maxInFlight, Duration defaultTimeout)
    implements Serializable {

  public static final int DEFAULT_MAX_RUNNING = 8;
  public static final int DEFAULT_MAX_IN_FLIGHT = 32;
  public static final Duration DEFAULT_TIMEOUT = Duration.ZERO;

  public ContinuousBatchingConfig {
    Objects.requireNonNull(defaultTimeout, "defaultTimeout");
    if (maxRunning < 1) {
      throw BatchingConfig.invalid("maxRunning must be at least 1, was " + maxRunning);
    }
    if (maxInFlight < maxRunning) {
      throw BatchingConfig.invalid(
          "maxInFlight ("
              + maxInFlight
              + ") must be at least maxRunning ("
              + maxRunning
              + "), otherwise running slots stay empty: raise maxInFlight or lower maxRunning");
    }
    if (defaultTimeout.isNegative()) {
      throw BatchingConfig.invalid(
          "defaultTimeout must not be negative (ZERO means none), was " + defaultTimeout);
    }
  }

  /** A builder with every field at its default. */
  public static Builder builder() {
    return new Builder();
  }

  /** The configuration with every field at its default. */
  public static ContinuousBatchingConfig defaults() {
    return builder().build();
  }

  /**
   * Builds a {@link ContinuousBatchingConfig}; the defaults are the {@code DEFAULT_*} constants.
   */
  public static final class Builder {
    private int maxRunning = DEFAULT_MAX_RUNNING;
    private int maxInFlight = DEFAULT_MAX_IN_FLIGHT;
    private Duration defaultTimeout = DEFAULT_TIMEOUT;

    private Builder() {}

    public Builder maxRunning(int maxRunning) {
      this.maxRunning = maxRunning;
      return this;
    }

    public Builder maxInFlight(int maxInFlight) {
      this.maxInFlight = maxInFlight;
      return this;
    }

    public Builder defaultTimeout(Duration defaultTimeout) {
      this.defaultTimeout = Objects.requireNonNull(defaultTimeout, "defaultTimeout");
      return this;
    }

    /** Validates and builds; throws {@link IllegalArgumentException} if inconsistent. */
    public ContinuousBatchingConfig build() {
      return new ContinuousBatchingConfig(maxRunning, maxInFlight, defaultTimeout);
    }
  }
}
