package io.instructblip.flink;

import java.io.Serializable;
import java.time.Duration;
import java.util.Objects;

/**
 * How a micro-batched stage forms batches and bounds its work.
 *
 * <pre>{@code
 * BatchingConfig config = BatchingConfig.builder()
 *     .maxBatchSize(16)
 *     .maxWait(Duration.ofMillis(5))
 *     .maxInFlight(64)
 *     .build();
 * }</pre>
 *
 * @param maxBatchSize a batch is dispatched as soon as this many elements are queued
 * @param maxWait a batch is dispatched when its oldest element has waited this long
 * @param maxInFlight elements held per subtask (queued or running); when reached, the operator
 *     stops taking input (backpressure); at least {@code maxBatchSize}
 * @param defaultTimeout the deadline applied to elements without one ({@link Duration#ZERO}: none)
 * @param failJobOnBatchError when a whole batch throws: {@code false} (default) answers each of its
 *     elements with an error; {@code true} fails the task instead, so the job restarts from its
 *     last checkpoint and the batch's elements run again (for failures known to be transient, e.g.
 *     a lost GPU)
 */
public record BatchingConfig(
    int maxBatchSize,
    Duration maxWait,
    int maxInFlight,
    Duration defaultTimeout,
    boolean failJobOnBatchError)
    implements Serializable {

  public static final int DEFAULT_MAX_BATCH_SIZE = 8;
  public static final Duration DEFAULT_MAX_WAIT = Duration.ofMillis(10);
  public static final int DEFAULT_MAX_IN_FLIGHT = 64;
  public static final Duration DEFAULT_TIMEOUT = Duration.ZERO;
  public static final boolean DEFAULT_FAIL_JOB_ON_BATCH_ERROR = false;

  public BatchingConfig {
    Objects.requireNonNull(maxWait, "maxWait");
    Objects.requireNonNull(defaultTimeout, "defaultTimeout");
    if (maxBatchSize < 1) {
      throw invalid("maxBatchSize must be at least 1, was " + maxBatchSize);
    }
    if (maxWait.isNegative()) {
      throw invalid("maxWait must not be negative, was " + maxWait);
    }
    if (maxInFlight < maxBatchSize) {
      throw invalid(
          "maxInFlight ("
              + maxInFlight
              + ") must be at least maxBatchSize ("
              + maxBatchSize
              + "), otherwise a full batch can never form: raise maxInFlight or lower"
              + " maxBatchSize");
    }
    if (defaultTimeout.isNegative()) {
      throw invalid("defaultTimeout must not be negative (ZERO means none), was " + defaultTimeout);
    }
  }

  /** A builder with every field at its default. */
  public static Builder builder() {
    return new Builder();
  }

  /** The configuration with every field at its default. */
  public static BatchingConfig defaults() {
    return builder().build();
  }

  static IllegalArgumentException invalid(String message) {
    return new IllegalArgumentException(message);
  }

  /** Builds a {@link BatchingConfig}; the defaults are the {@code DEFAULT_*} constants. */
  public static final class Builder {
    private int maxBatchSize = DEFAULT_MAX_BATCH_SIZE;
    private Duration maxWait = DEFAULT_MAX_WAIT;
    private int maxInFlight = DEFAULT_MAX_IN_FLIGHT;
    private Duration defaultTimeout = DEFAULT_TIMEOUT;
    private boolean failJobOnBatchError = DEFAULT_FAIL_JOB_ON_BATCH_ERROR;

    private Builder() {}

    public Builder maxBatchSize(int maxBatchSize) {
      this.maxBatchSize = maxBatchSize;
      return this;
    }

    public Builder maxWait(Duration maxWait) {
      this.maxWait = Objects.requireNonNull(maxWait, "maxWait");
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

    public Builder failJobOnBatchError(boolean failJobOnBatchError) {
      this.failJobOnBatchError = failJobOnBatchError;
      return this;
    }

    /** Validates and builds; throws {@link IllegalArgumentException} if inconsistent. */
    public BatchingConfig build() {
      return new BatchingConfig(
          maxBatchSize, maxWait, maxInFlight, defaultTimeout, failJobOnBatchError);
    }
  }
}
