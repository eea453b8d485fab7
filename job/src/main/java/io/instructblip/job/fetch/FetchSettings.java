package io.instructblip.job.fetch;

import java.io.Serializable;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import org.apache.flink.util.TimeUtils;

/**
 * How the job's {@code read-images} step fetches image URIs: on a pool of {@code threads} of its
 * own (never on the task thread), with at most {@code capacity} requests in flight per subtask
 * (more backpressure the source), and a deadline of {@code timeout} over all the images of one
 * request; a request that runs past it is answered with a {@code TIMEOUT} response, the others go
 * on.
 *
 * <p>Read from the same {@code instructblip.images.*} keys as the {@link UriPolicy}: {@code
 * fetch-threads}, {@code fetch-capacity}, {@code fetch-timeout}.
 *
 * @param threads fetching threads per subtask (at least 1)
 * @param capacity requests fetching or waiting to fetch per subtask (at least {@code threads})
 * @param timeout the deadline over all images of one request (positive)
 */
public record FetchSettings(int threads, int capacity, Duration timeout) implements Serializable {
  public static final int DEFAULT_THREADS = 8;
  public static final int DEFAULT_CAPACITY = 64;
  public static final Duration DEFAULT_TIMEOUT = Duration.ofSeconds(60);

  /** The most fetching threads a subtask may have. */
  public static final int MAX_THREADS = 256;

  public static final String THREADS = "fetch-threads";
  public static final String CAPACITY = "fetch-capacity";
  public static final String TIMEOUT = "fetch-timeout";

  /** Every key {@link #fromMap} reads. */
  public static final List<String> KEYS = List.of(THREADS, CAPACITY, TIMEOUT);

  /** The defaults: 8 threads, 64 requests in flight, 60 s per request. */
  public static final FetchSettings DEFAULTS =
      new FetchSettings(DEFAULT_THREADS, DEFAULT_CAPACITY, DEFAULT_TIMEOUT);

  public FetchSettings {
    if (threads < 1 || threads > MAX_THREADS) {
      throw new IllegalArgumentException(
          "image fetch threads must be between 1 and " + MAX_THREADS + ", got " + threads);
    }
    if (capacity < threads) {
      throw new IllegalArgumentException(
          "image fetch capacity ("
              + capacity
              + ") must be at least the fetch threads ("
              + threads
              + "); raise "
              + CAPACITY);
    }
    if (timeout == null || timeout.isNegative() || timeout.isZero()) {
      throw new IllegalArgumentException("image fetch timeout must be positive, got " + timeout);
    }
  }

  /**
   * The fetch settings among {@code values} (the {@code instructblip.images.*} settings without the
   * prefix; other keys are left to {@link UriPolicy#fromMap}); absent keys take their defaults.
   */
  public static FetchSettings fromMap(Map<String, String> values) {
    int threads = DEFAULT_THREADS;
    int capacity = DEFAULT_CAPACITY;
    Duration timeout = DEFAULT_TIMEOUT;
    for (String key : KEYS) {
      String value = values.get(key);
      if (value == null) {
        continue;
      }
      try {
        switch (key) {
          case THREADS -> threads = Integer.parseInt(value.strip());
          case CAPACITY -> capacity = Integer.parseInt(value.strip());
          default -> timeout = TimeUtils.parseDuration(value);
        }
      } catch (IllegalArgumentException e) {
        throw new IllegalArgumentException(
            "image setting " + key + " has a bad value \"" + value + "\": " + e.getMessage(), e);
      }
    }
    return new FetchSettings(threads, capacity, timeout);
  }
}
