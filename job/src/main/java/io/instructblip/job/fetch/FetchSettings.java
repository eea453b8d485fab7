package io.instructblip.job.fetch;

import io.instructblip.job.config.ConfigValues;
import io.instructblip.job.config.ImageConfigOptions;
import java.io.Serializable;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import org.apache.flink.configuration.ReadableConfig;

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
  public static final int DEFAULT_THREADS = ImageConfigOptions.FETCH_THREADS.defaultValue();
  public static final int DEFAULT_CAPACITY = ImageConfigOptions.FETCH_CAPACITY.defaultValue();
  public static final Duration DEFAULT_TIMEOUT = ImageConfigOptions.FETCH_TIMEOUT.defaultValue();

  /** The most fetching threads a subtask may have. */
  public static final int MAX_THREADS = 256;

  /** {@code fetch-timeout}, the key without its prefix. */
  public static final String TIMEOUT =
      ConfigValues.nameIn(ImageConfigOptions.PREFIX, ImageConfigOptions.FETCH_TIMEOUT);

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
              + ImageConfigOptions.FETCH_CAPACITY.key());
    }
    if (timeout == null || timeout.isNegative() || timeout.isZero()) {
      throw new IllegalArgumentException("image fetch timeout must be positive, got " + timeout);
    }
  }

  /**
   * The fetch settings among {@code values} (the {@code instructblip.images.*} settings without the
   * prefix); as {@link #fromConfiguration}.
   */
  public static FetchSettings fromMap(Map<String, String> values) {
    return fromConfiguration(ConfigValues.withPrefix(ImageConfigOptions.PREFIX, values));
  }

  /**
   * The {@link ImageConfigOptions#FETCH} settings of a Flink configuration; absent keys take their
   * defaults, an unknown key under {@code instructblip.images.} is an error.
   */
  public static FetchSettings fromConfiguration(ReadableConfig conf) {
    ConfigValues.rejectUnknown(
        conf, List.of(ImageConfigOptions.PREFIX), ImageConfigOptions.ALL, List.of());
    return new FetchSettings(
        ConfigValues.get(conf, ImageConfigOptions.FETCH_THREADS, ConfigValues.WHOLE_NUMBER),
        ConfigValues.get(conf, ImageConfigOptions.FETCH_CAPACITY, ConfigValues.WHOLE_NUMBER),
        ConfigValues.get(conf, ImageConfigOptions.FETCH_TIMEOUT, ConfigValues.DURATION));
  }
}
