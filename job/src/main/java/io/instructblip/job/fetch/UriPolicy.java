package io.instructblip.job.fetch;

import io.instructblip.engine.EngineConfig;
import io.instructblip.job.config.ConfigValues;
import io.instructblip.job.config.ImageConfigOptions;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Objects;
import java.util.Set;
import org.apache.flink.configuration.ReadableConfig;

/**
 * Where the job may read images given by URI, and how much. Nothing is allowed by default: a
 * deployment names its schemes, file roots, hosts and URI prefixes ({@link ImageConfigOptions}).
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

  public static final long DEFAULT_MAX_BYTES_PER_IMAGE =
      ImageConfigOptions.MAX_BYTES_PER_IMAGE.defaultValue().getBytes();

  /** The engine's own limit on frames per request: a higher policy limit could never be met. */
  public static final int DEFAULT_MAX_IMAGES_PER_REQUEST = EngineConfig.DEFAULT_MAX_IMAGES;

  public static final Duration DEFAULT_CONNECT_TIMEOUT =
      ImageConfigOptions.CONNECT_TIMEOUT.defaultValue();
  public static final Duration DEFAULT_READ_TIMEOUT =
      ImageConfigOptions.READ_TIMEOUT.defaultValue();

  /** Prefix of the policy's keys in a Flink configuration. */
  public static final String CONFIG_PREFIX = ImageConfigOptions.PREFIX;

  // the keys without the prefix, as fromMap takes them
  public static final String SCHEMES =
      ConfigValues.nameIn(ImageConfigOptions.PREFIX, ImageConfigOptions.ALLOWED_SCHEMES);
  public static final String FILE_ROOTS =
      ConfigValues.nameIn(ImageConfigOptions.PREFIX, ImageConfigOptions.ALLOWED_FILE_ROOTS);
  public static final String HOSTS =
      ConfigValues.nameIn(ImageConfigOptions.PREFIX, ImageConfigOptions.ALLOWED_HOSTS);
  public static final String URI_PREFIXES =
      ConfigValues.nameIn(ImageConfigOptions.PREFIX, ImageConfigOptions.ALLOWED_URI_PREFIXES);

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
   * A policy from key/values: the {@code instructblip.images.*} keys without the prefix; as {@link
   * #fromConfiguration}.
   */
  public static UriPolicy fromMap(Map<String, String> values) {
    return fromConfiguration(ConfigValues.withPrefix(CONFIG_PREFIX, values));
  }

  /**
   * A policy from the {@link ImageConfigOptions#POLICY} keys of a Flink configuration (lists
   * comma-separated, sizes like {@code 20 mb}, durations like {@code 5 s}); absent keys take their
   * defaults. An unknown key under {@code instructblip.images.} is an error.
   */
  public static UriPolicy fromConfiguration(ReadableConfig conf) {
    ConfigValues.rejectUnknown(conf, List.of(CONFIG_PREFIX), ImageConfigOptions.ALL, List.of());
    Builder b = builder();
    ConfigValues.list(conf, ImageConfigOptions.ALLOWED_SCHEMES).forEach(b::allowScheme);
    ConfigValues.list(conf, ImageConfigOptions.ALLOWED_FILE_ROOTS)
        .forEach(r -> b.allowFileRoot(Path.of(r)));
    ConfigValues.list(conf, ImageConfigOptions.ALLOWED_HOSTS).forEach(b::allowHost);
    ConfigValues.list(conf, ImageConfigOptions.ALLOWED_URI_PREFIXES).forEach(b::allowUriPrefix);
    return b.maxBytesPerImage(
            ConfigValues.get(conf, ImageConfigOptions.MAX_BYTES_PER_IMAGE, ConfigValues.SIZE)
                .getBytes())
        .maxImagesPerRequest(
            ConfigValues.get(
                conf, ImageConfigOptions.MAX_IMAGES_PER_REQUEST, ConfigValues.WHOLE_NUMBER))
        .connectTimeout(
            ConfigValues.get(conf, ImageConfigOptions.CONNECT_TIMEOUT, ConfigValues.DURATION))
        .readTimeout(ConfigValues.get(conf, ImageConfigOptions.READ_TIMEOUT, ConfigValues.DURATION))
        .build();
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
