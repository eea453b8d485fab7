package io.instructblip.job.registry;

import java.io.Serializable;
import java.net.URI;
import java.time.Duration;
import java.util.Locale;
import java.util.Objects;
import org.apache.flink.configuration.ConfigOption;
import org.apache.flink.configuration.ReadableConfig;

/**
 * Where the Schema Registry is and how to reach it (the {@link RegistryOptions} keys), validated;
 * serializable, so that operators build their {@link RestSchemaRegistry} in {@code open()}.
 *
 * <pre>{@code
 * RegistrySettings registry = RegistrySettings.fromConfiguration(conf); // null without a URL
 * RegistrySettings local = RegistrySettings.of("http://localhost:8081");
 * }</pre>
 *
 * @param url base URL of the Confluent-compatible REST API, without a trailing slash
 * @param username basic-auth user, or null
 * @param password basic-auth password, or null (set with the user)
 * @param trustStore the trust store for https, or null for the JVM's default
 * @param keyStore the client key store for mutual TLS, or null
 * @param subjectStrategy the subject the response schema is registered under
 * @param requestTimeout the limit of one HTTP request
 * @param maxWait how long a lookup keeps retrying an unavailable registry
 */
public record RegistrySettings(
    String url,
    String username,
    String password,
    Store trustStore,
    Store keyStore,
    SubjectNameStrategy subjectStrategy,
    Duration requestTimeout,
    Duration maxWait)
    implements Serializable {
  private static final long serialVersionUID = 1L;

  /**
   * A key or trust store file.
   *
   * @param location the file's path, on every machine the job runs on
   * @param password its password, or null
   * @param type PKCS12 or JKS
   */
  public record Store(String location, String password, String type) implements Serializable {
    private static final long serialVersionUID = 1L;

    public Store {
      Objects.requireNonNull(location, "location");
      Objects.requireNonNull(type, "type");
    }

    @Override
    public String toString() {
      return "Store[" + location + ", " + type + "]";
    }
  }

  public RegistrySettings {
    if (url == null || url.isBlank()) {
      throw new IllegalArgumentException(
          RegistryOptions.URL.key() + " is required, e.g. http://registry:8081");
    }
    url = url.strip();
    while (url.endsWith("/")) {
      url = url.substring(0, url.length() - 1);
    }
    String scheme;
    try {
      scheme = URI.create(url).getScheme();
    } catch (IllegalArgumentException e) {
      throw new IllegalArgumentException(
          RegistryOptions.URL.key() + " is not a URL: \"" + url + "\"", e);
    }
    scheme = scheme == null ? "" : scheme.toLowerCase(Locale.ROOT);
    if (!scheme.equals("http") && !scheme.equals("https")) {
      throw new IllegalArgumentException(
          RegistryOptions.URL.key() + " must be an http:// or https:// URL, got \"" + url + "\"");
    }
    if ((username == null) != (password == null)) {
      throw new IllegalArgumentException(
          "set both "
              + RegistryOptions.USERNAME.key()
              + " and "
              + RegistryOptions.PASSWORD.key()
              + " for basic authentication, or neither");
    }
    if ((trustStore != null || keyStore != null) && !scheme.equals("https")) {
      throw new IllegalArgumentException(
          "the registry's ssl.* stores are set but "
              + RegistryOptions.URL.key()
              + " is not https: \""
              + url
              + "\"");
    }
    Objects.requireNonNull(subjectStrategy, RegistryOptions.SUBJECT_STRATEGY.key());
    requirePositive(requestTimeout, RegistryOptions.REQUEST_TIMEOUT);
    Objects.requireNonNull(maxWait, RegistryOptions.MAX_WAIT.key());
    if (maxWait.isNegative()) {
      throw new IllegalArgumentException(
          RegistryOptions.MAX_WAIT.key() + " must not be negative, got " + maxWait);
    }
  }

  private static void requirePositive(Duration value, ConfigOption<Duration> option) {
    Objects.requireNonNull(value, option.key());
    if (value.isNegative() || value.isZero()) {
      throw new IllegalArgumentException(option.key() + " must be more than 0, got " + value);
    }
  }

  /** Settings for a registry at {@code url} with every other key at its default. */
  public static RegistrySettings of(String url) {
    return new RegistrySettings(
        url,
        null,
        null,
        null,
        null,
        RegistryOptions.SUBJECT_STRATEGY.defaultValue(),
        RegistryOptions.REQUEST_TIMEOUT.defaultValue(),
        RegistryOptions.MAX_WAIT.defaultValue());
  }

  /**
   * The settings from the {@code instructblip.registry.*} keys of {@code conf}, or null when {@code
   * instructblip.registry.url} is not set (no registry).
   */
  public static RegistrySettings fromConfiguration(ReadableConfig conf) {
    String url = conf.get(RegistryOptions.URL);
    if (url == null) {
      return null;
    }
    return new RegistrySettings(
        url,
        conf.get(RegistryOptions.USERNAME),
        conf.get(RegistryOptions.PASSWORD),
        store(
            conf,
            RegistryOptions.TRUSTSTORE_LOCATION,
            RegistryOptions.TRUSTSTORE_PASSWORD,
            RegistryOptions.TRUSTSTORE_TYPE),
        store(
            conf,
            RegistryOptions.KEYSTORE_LOCATION,
            RegistryOptions.KEYSTORE_PASSWORD,
            RegistryOptions.KEYSTORE_TYPE),
        conf.get(RegistryOptions.SUBJECT_STRATEGY),
        conf.get(RegistryOptions.REQUEST_TIMEOUT),
        conf.get(RegistryOptions.MAX_WAIT));
  }

  private static Store store(
      ReadableConfig conf,
      ConfigOption<String> location,
      ConfigOption<String> password,
      ConfigOption<String> type) {
    String path = conf.get(location);
    return path == null ? null : new Store(path, conf.get(password), conf.get(type));
  }

  /** These settings with another wait for an unavailable registry. */
  public RegistrySettings withMaxWait(Duration value) {
    return new RegistrySettings(
        url, username, password, trustStore, keyStore, subjectStrategy, requestTimeout, value);
  }

  /** These settings with basic-auth credentials. */
  public RegistrySettings withBasicAuth(String user, String secret) {
    return new RegistrySettings(
        url, user, secret, trustStore, keyStore, subjectStrategy, requestTimeout, maxWait);
  }

  /** These settings with another subject strategy. */
  public RegistrySettings withSubjectStrategy(SubjectNameStrategy value) {
    return new RegistrySettings(
        url, username, password, trustStore, keyStore, value, requestTimeout, maxWait);
  }

  /** Without the password, for logs. */
  @Override
  public String toString() {
    return "RegistrySettings[url="
        + url
        + ", username="
        + username
        + (password == null ? "" : ", password=***")
        + ", trustStore="
        + trustStore
        + ", keyStore="
        + keyStore
        + ", subjectStrategy="
        + subjectStrategy
        + ", requestTimeout="
        + requestTimeout
        + ", maxWait="
        + maxWait
        + "]";
  }
}
