package io.instructblip.job.fetch;

import io.instructblip.engine.EngineConfig;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Objects;
import java.util.Set;
import org.apache.flink.configuration.Configuration;
import org.apache.flink.configuration.MemorySize;
import org.apache.flink.util.TimeUtils;

/**
 * Where the job may read images given by URI, and how much. Nothing is allowed by default: a
 * deployment names its schemes, file roots, hosts and URI prefixes.
 *
 * <pre>{@code
 * UriPolicy policy = UriPolicy.builder()
 *     .allowScheme("file").allowFileRoot(Path.of("/data/images"))
 *     .allowScheme("https").allowHost("images.example.com")
 *     .maxBytesPerImage(10 << 20)
 *     .build();
 * }</pre>
 *
 * @param allowedSchemes lower-case URI schemes, e.g. {@code file}, {@code https}, {@code s3}
 * @param allowedFileRoots absolute folders that {@code file:} URIs must resolve into (after {@code
 *     ..} and symbolic links are resolved)
 * @param allowedHosts lower-case host names (exact match) for {@code http} and {@code https}
 * @param allowedUriPrefixes URI prefixes for other schemes read through Flink's FileSystem, e.g.
 *     {@code s3://bucket/images/}
 * @param maxBytesPerImage the most bytes one image may have
 * @param maxImagesPerRequest the most images (video frames) one request may have
 * @param connectTimeout how long to wait for an HTTP connection
 * @param readTimeout how long an HTTP download may take in all
 */
public record UriPolicy(
    Set<String> allowedSchemes,
    List<Path> allowedFileRoots,
    Set<String> allowedHosts,
    List<String> allowedUriPrefixes,
    long maxBytesPerImage,
    int maxImagesPerRequest,
    Duration connectTimeout,
    Duration readTimeout) {

  public static final long DEFAULT_MAX_BYTES_PER_IMAGE = 20L << 20;

  /** The engine's own limit on frames per request: a higher policy limit could never be met. */
  public static final int DEFAULT_MAX_IMAGES_PER_REQUEST = EngineConfig.DEFAULT_MAX_IMAGES;

  public static final Duration DEFAULT_CONNECT_TIMEOUT = Duration.ofSeconds(5);
  public static final Duration DEFAULT_READ_TIMEOUT = Duration.ofSeconds(30);

  /** Prefix of the policy's keys in a Flink configuration. */
  public static final String CONFIG_PREFIX = "instructblip.images.";

  public static final String SCHEMES = "allowed-schemes";
  public static final String FILE_ROOTS = "allowed-file-roots";
  public static final String HOSTS = "allowed-hosts";
  public static final String URI_PREFIXES = "allowed-uri-prefixes";
  public static final String MAX_BYTES = "max-bytes-per-image";
  public static final String MAX_IMAGES = "max-images-per-request";
  public static final String CONNECT_TIMEOUT = "connect-timeout";
  public static final String READ_TIMEOUT = "read-timeout";

  /** Every key {@link #fromMap} knows. */
  public static final List<String> KEYS =
      List.of(
          SCHEMES,
          FILE_ROOTS,
          HOSTS,
          URI_PREFIXES,
          MAX_BYTES,
          MAX_IMAGES,
          CONNECT_TIMEOUT,
          READ_TIMEOUT);

  public UriPolicy {
    allowedSchemes = Set.copyOf(Objects.requireNonNull(allowedSchemes, "allowedSchemes"));
    allowedFileRoots = List.copyOf(Objects.requireNonNull(allowedFileRoots, "allowedFileRoots"));
    allowedHosts = Set.copyOf(Objects.requireNonNull(allowedHosts, "allowedHosts"));
    allowedUriPrefixes =
        List.copyOf(Objects.requireNonNull(allowedUriPrefixes, "allowedUriPrefixes"));
    Objects.requireNonNull(connectTimeout, "connectTimeout");
    Objects.requireNonNull(readTimeout, "readTimeout");
    for (Path root : allowedFileRoots) {
      if (!root.isAbsolute()) {
        throw new IllegalArgumentException(
            "image file root " + root + " is relative; give an absolute folder");
      }
    }
    if (maxBytesPerImage < 1) {
      throw new IllegalArgumentException(
          "max bytes per image must be at least 1, got " + maxBytesPerImage);
    }
    if (maxImagesPerRequest < 1 || maxImagesPerRequest > DEFAULT_MAX_IMAGES_PER_REQUEST) {
      throw new IllegalArgumentException(
          "max images per request must be between 1 and "
              + DEFAULT_MAX_IMAGES_PER_REQUEST
              + " (the engine's limit on frames per request), got "
              + maxImagesPerRequest);
    }
    if (connectTimeout.isNegative() || connectTimeout.isZero()) {
      throw new IllegalArgumentException(
          "image connect timeout must be positive, got " + connectTimeout);
    }
    if (readTimeout.isNegative() || readTimeout.isZero()) {
      throw new IllegalArgumentException("image read timeout must be positive, got " + readTimeout);
    }
  }

  /**
   * A policy from key/values (the keys in {@link #KEYS}; lists comma-separated, sizes like {@code
   * 20 mb}, durations like {@code 5 s}); absent keys take their defaults. The {@link
   * FetchSettings#KEYS} are skipped (read by {@link FetchSettings#fromMap}); other unknown keys are
   * an error.
   */
  public static UriPolicy fromMap(Map<String, String> values) {
    Builder b = builder();
    for (Map.Entry<String, String> e : values.entrySet()) {
      String key = e.getKey();
      String value = e.getValue();
      if (FetchSettings.KEYS.contains(key)) {
        continue; // read by FetchSettings.fromMap
      }
      try {
        switch (key) {
          case SCHEMES -> split(value).forEach(b::allowScheme);
          case FILE_ROOTS -> split(value).forEach(r -> b.allowFileRoot(Path.of(r)));
          case HOSTS -> split(value).forEach(b::allowHost);
          case URI_PREFIXES -> split(value).forEach(b::allowUriPrefix);
          case MAX_BYTES -> b.maxBytesPerImage(MemorySize.parse(value).getBytes());
          case MAX_IMAGES -> b.maxImagesPerRequest(Integer.parseInt(value.strip()));
          case CONNECT_TIMEOUT -> b.connectTimeout(TimeUtils.parseDuration(value));
          case READ_TIMEOUT -> b.readTimeout(TimeUtils.parseDuration(value));
          default ->
              throw new IllegalArgumentException(
                  "unknown image URI setting "
                      + key
                      + "; known: "
                      + String.join(", ", KEYS)
                      + ", "
                      + String.join(", ", FetchSettings.KEYS));
        }
      } catch (NumberFormatException e2) {
        throw new IllegalArgumentException(
            "image URI setting " + key + " must be a whole number, got \"" + value + "\"", e2);
      } catch (IllegalArgumentException e2) {
        if (e2.getMessage() != null && e2.getMessage().startsWith("unknown image URI setting")) {
          throw e2;
        }
        throw new IllegalArgumentException(
            "image URI setting " + key + " has a bad value \"" + value + "\": " + e2.getMessage(),
            e2);
      }
    }
    return b.build();
  }

  /** A policy from a Flink configuration's {@code instructblip.images.*} keys. */
  public static UriPolicy fromConfiguration(Configuration configuration) {
    Map<String, String> values = new LinkedHashMap<>();
    configuration
        .toMap()
        .forEach(
            (k, v) -> {
              if (k.startsWith(CONFIG_PREFIX)) {
                values.put(k.substring(CONFIG_PREFIX.length()), v);
              }
            });
    return fromMap(values);
  }

  private static List<String> split(String value) {
    List<String> out = new ArrayList<>();
    for (String part : value.split(",")) {
      if (!part.isBlank()) {
        out.add(part.strip());
      }
    }
    return out;
  }

  /** A builder that allows nothing, with the default limits. */
  public static Builder builder() {
    return new Builder();
  }

  /** Builder for {@link UriPolicy}. */
  public static final class Builder {
    private final Set<String> schemes = new LinkedHashSet<>();
    private final List<Path> roots = new ArrayList<>();
    private final Set<String> hosts = new LinkedHashSet<>();
    private final List<String> prefixes = new ArrayList<>();
    private long maxBytesPerImage = DEFAULT_MAX_BYTES_PER_IMAGE;
    private int maxImagesPerRequest = DEFAULT_MAX_IMAGES_PER_REQUEST;
    private Duration connectTimeout = DEFAULT_CONNECT_TIMEOUT;
    private Duration readTimeout = DEFAULT_READ_TIMEOUT;

    private Builder() {}

    /** Allows a URI scheme such as {@code file}, {@code https} or {@code s3}. */
    public Builder allowScheme(String scheme) {
      schemes.add(Objects.requireNonNull(scheme, "scheme").toLowerCase(Locale.ROOT));
      return this;
    }

    /** Allows {@code file:} URIs inside this absolute folder. */
    public Builder allowFileRoot(Path root) {
      roots.add(Objects.requireNonNull(root, "root"));
      return this;
    }

    /** Allows {@code http(s):} URIs on this host (exact, case-insensitive). */
    public Builder allowHost(String host) {
      hosts.add(Objects.requireNonNull(host, "host").toLowerCase(Locale.ROOT));
      return this;
    }

    /** Allows URIs of other schemes (read through Flink's FileSystem) that start with this. */
    public Builder allowUriPrefix(String prefix) {
      prefixes.add(Objects.requireNonNull(prefix, "prefix"));
      return this;
    }

    public Builder maxBytesPerImage(long value) {
      maxBytesPerImage = value;
      return this;
    }

    public Builder maxImagesPerRequest(int value) {
      maxImagesPerRequest = value;
      return this;
    }

    public Builder connectTimeout(Duration value) {
      connectTimeout = Objects.requireNonNull(value, "connectTimeout");
      return this;
    }

    public Builder readTimeout(Duration value) {
      readTimeout = Objects.requireNonNull(value, "readTimeout");
      return this;
    }

    public UriPolicy build() {
      return new UriPolicy(
          schemes,
          roots,
          hosts,
          prefixes,
          maxBytesPerImage,
          maxImagesPerRequest,
          connectTimeout,
          readTimeout);
    }
  }
}
