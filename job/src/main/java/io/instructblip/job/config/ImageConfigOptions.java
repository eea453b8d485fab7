package io.instructblip.job.config;

import static org.apache.flink.configuration.ConfigOptions.key;

import io.instructblip.engine.EngineConfig;
import java.time.Duration;
import java.util.List;
import org.apache.flink.configuration.ConfigOption;
import org.apache.flink.configuration.MemorySize;

/**
 * The {@code instructblip.images.*} keys: where the job may read images given by URI ({@link
 * io.instructblip.job.fetch.UriPolicy}) and how it fetches them ({@link
 * io.instructblip.job.fetch.FetchSettings}). Lists take commas ({@code file,https}) as well as
 * Flink's own list forms ({@code file;https}, a YAML list).
 */
public final class ImageConfigOptions {
  /** Prefix of every key of this group. */
  public static final String PREFIX = "instructblip.images.";

  public static final ConfigOption<List<String>> ALLOWED_SCHEMES =
      key(PREFIX + "allowed-schemes")
          .stringType()
          .asList()
          .noDefaultValue()
          .withDescription("URI schemes the job may read, e.g. file,https,s3. Default: none.");

  public static final ConfigOption<List<String>> ALLOWED_FILE_ROOTS =
      key(PREFIX + "allowed-file-roots")
          .stringType()
          .asList()
          .noDefaultValue()
          .withDescription("Absolute folders a file: URI must lie in. Default: none.");

  public static final ConfigOption<List<String>> ALLOWED_HOSTS =
      key(PREFIX + "allowed-hosts")
          .stringType()
          .asList()
          .noDefaultValue()
          .withDescription("Host names (exact) for http and https URIs. Default: none.");

  public static final ConfigOption<List<String>> ALLOWED_URI_PREFIXES =
      key(PREFIX + "allowed-uri-prefixes")
          .stringType()
          .asList()
          .noDefaultValue()
          .withDescription(
              "URI prefixes for other schemes (read through Flink's FileSystem), e.g."
                  + " s3://bucket/images/. Default: none.");

  public static final ConfigOption<MemorySize> MAX_BYTES_PER_IMAGE =
      key(PREFIX + "max-bytes-per-image")
          .memoryType()
          .defaultValue(MemorySize.ofMebiBytes(20))
          .withDescription("Larger images are refused before they are read.");

  public static final ConfigOption<Integer> MAX_IMAGES_PER_REQUEST =
      key(PREFIX + "max-images-per-request")
          .intType()
          .defaultValue(EngineConfig.DEFAULT_MAX_IMAGES)
          .withDescription(
              "More images (frames) are refused; 1 to "
                  + EngineConfig.DEFAULT_MAX_IMAGES
                  + " (the engine's limit).");

  public static final ConfigOption<Duration> CONNECT_TIMEOUT =
      key(PREFIX + "connect-timeout")
          .durationType()
          .defaultValue(Duration.ofSeconds(5))
          .withDescription("How long to wait for an HTTP connection.");

  public static final ConfigOption<Duration> READ_TIMEOUT =
      key(PREFIX + "read-timeout")
          .durationType()
          .defaultValue(Duration.ofSeconds(30))
          .withDescription("How long an HTTP download may take in all.");

  public static final ConfigOption<Integer> FETCH_THREADS =
      key(PREFIX + "fetch-threads")
          .intType()
          .defaultValue(8)
          .withDescription("Threads per subtask that read image URIs (1 to 256).");

  public static final ConfigOption<Integer> FETCH_CAPACITY =
      key(PREFIX + "fetch-capacity")
          .intType()
          .defaultValue(64)
          .withDescription(
              "Requests fetching or waiting to fetch per subtask (at least fetch-threads).");

  public static final ConfigOption<Duration> FETCH_TIMEOUT =
      key(PREFIX + "fetch-timeout")
          .durationType()
          .defaultValue(Duration.ofSeconds(60))
          .withDescription("Deadline over all images of one request; past it, a TIMEOUT response.");

  /** The options of the {@link io.instructblip.job.fetch.UriPolicy}. */
  public static final List<ConfigOption<?>> POLICY =
      List.of(
          ALLOWED_SCHEMES,
          ALLOWED_FILE_ROOTS,
          ALLOWED_HOSTS,
          ALLOWED_URI_PREFIXES,
          MAX_BYTES_PER_IMAGE,
          MAX_IMAGES_PER_REQUEST,
          CONNECT_TIMEOUT,
          READ_TIMEOUT);

  /** The options of the {@link io.instructblip.job.fetch.FetchSettings}. */
  public static final List<ConfigOption<?>> FETCH =
      List.of(FETCH_THREADS, FETCH_CAPACITY, FETCH_TIMEOUT);

  /** Every option of this group, in the documentation's order. */
  public static final List<ConfigOption<?>> ALL =
      java.util.stream.Stream.concat(POLICY.stream(), FETCH.stream()).toList();

  private ImageConfigOptions() {}
}
