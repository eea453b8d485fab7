package io.instructblip.job.registry;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.instructblip.engine.api.InputEcho;
import io.instructblip.schema.MessageErrorCode;
import io.instructblip.schema.MessageFormatException;
import io.instructblip.schema.SchemaRegistry;
import java.io.IOException;
import java.io.InputStream;
import java.net.URI;
import java.net.URLEncoder;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.GeneralSecurityException;
import java.security.KeyStore;
import java.time.Duration;
import java.util.Base64;
import java.util.Map;
import java.util.Objects;
import java.util.concurrent.ConcurrentHashMap;
import javax.net.ssl.KeyManagerFactory;
import javax.net.ssl.SSLContext;
import javax.net.ssl.TrustManagerFactory;
import org.apache.avro.Schema;
import org.apache.avro.SchemaParseException;

/**
 * A client of the Confluent-compatible Schema Registry REST API (served by Confluent, Apicurio's
 * {@code /apis/ccompat/v7}, Karapace and Redpanda), with the two calls the job needs: {@code GET
 * /schemas/ids/{id}} and {@code POST /subjects/{subject}/versions}. Schemas are cached for the
 * client's lifetime (an id never changes its schema). A registry that does not answer, or answers
 * with a server error or 429, is retried with backoff for up to {@link RegistrySettings#maxWait()};
 * an unknown id is not retried. Thread-safe; one per operator instance, built in {@code open()}.
 */
public final class RestSchemaRegistry implements SchemaRegistry {
  private static final ObjectMapper JSON = new ObjectMapper();
  private static final String CONTENT_TYPE = "application/vnd.schemaregistry.v1+json";
  private static final Duration FIRST_BACKOFF = Duration.ofMillis(100);
  private static final Duration MAX_BACKOFF = Duration.ofSeconds(2);

  private final RegistrySettings settings;
  private final HttpClient http;
  private final String authorization;
  private final Map<Integer, Schema> byId = new ConcurrentHashMap<>();
  private final Map<String, Integer> registered = new ConcurrentHashMap<>();

  /**
   * @throws IllegalArgumentException when a key or trust store cannot be read
   */
  public RestSchemaRegistry(RegistrySettings settings) {
    this.settings = Objects.requireNonNull(settings, "settings");
    HttpClient.Builder builder =
        HttpClient.newBuilder()
            .connectTimeout(settings.requestTimeout())
            .followRedirects(HttpClient.Redirect.NORMAL);
    if (settings.trustStore() != null || settings.keyStore() != null) {
      builder.sslContext(sslContext(settings));
    }
    this.http = builder.build();
    this.authorization =
        settings.username() == null
            ? null
            : "Basic "
                + Base64.getEncoder()
                    .encodeToString(
                        (settings.username() + ":" + settings.password())
                            .getBytes(StandardCharsets.UTF_8));
  }

  @Override
  public Schema schemaById(int id) throws MessageFormatException {
    Schema cached = byId.get(id);
    if (cached != null) {
      return cached;
    }
    HttpRequest request = request("/schemas/ids/" + Integer.toUnsignedString(id)).GET().build();
    HttpResponse<String> response = send(request, "schema id " + Integer.toUnsignedString(id));
    if (response.statusCode() == 404) {
      throw new MessageFormatException(
          MessageErrorCode.UNKNOWN_SCHEMA,
          "the schema registry at "
              + settings.url()
              + " has no schema with id "
              + Integer.toUnsignedString(id)
              + errorDetail(response)
              + "; was the record written against another registry?");
    }
    requireOk(response, "looking up schema id " + Integer.toUnsignedString(id));
    JsonNode body = parse(response, "schema id " + Integer.toUnsignedString(id));
    String type = body.path("schemaType").asText("AVRO");
    if (!type.equals("AVRO")) {
      throw new MessageFormatException(
          MessageErrorCode.UNKNOWN_SCHEMA,
          "schema id "
              + Integer.toUnsignedString(id)
              + " is a "
              + type
              + " schema; the job reads Avro only");
    }
    Schema schema;
    try {
      schema = new Schema.Parser().parse(body.path("schema").asText());
    } catch (SchemaParseException e) {
      throw new MessageFormatException(
          MessageErrorCode.UNKNOWN_SCHEMA,
          "schema id "
              + Integer.toUnsignedString(id)
              + " is no valid Avro schema: "
              + InputEcho.abbreviate(String.valueOf(e.getMessage())),
          e);
    }
    Schema raced = byId.putIfAbsent(id, schema);
    return raced != null ? raced : schema;
  }

  @Override
  public int register(String subject, Schema schema) throws MessageFormatException {
    String text = schema.toString();
    String key = subject + '\n' + text;
    Integer cached = registered.get(key);
    if (cached != null) {
      return cached;
    }
    String body;
    try {
      body = JSON.writeValueAsString(Map.of("schema", text));
    } catch (IOException e) {
      throw new IllegalStateException("cannot write a JSON string", e);
    }
    HttpRequest request =
        request("/subjects/" + URLEncoder.encode(subject, StandardCharsets.UTF_8) + "/versions")
            .header("Content-Type", CONTENT_TYPE)
            .POST(HttpRequest.BodyPublishers.ofString(body))
            .build();
    String what = "registering " + schema.getFullName() + " under subject " + subject;
    HttpResponse<String> response = send(request, what);
    requireOk(response, what);
    JsonNode id = parse(response, what).path("id");
    if (!id.canConvertToInt()) {
      throw unavailable(what + ": the answer has no numeric \"id\": " + abbreviated(response));
    }
    int value = id.intValue();
    registered.put(key, value);
    byId.putIfAbsent(value, schema);
    return value;
  }

  private HttpRequest.Builder request(String path) {
    HttpRequest.Builder builder =
        HttpRequest.newBuilder(URI.create(settings.url() + path))
            .timeout(settings.requestTimeout())
            .header("Accept", CONTENT_TYPE + ", application/json");
    if (authorization != null) {
      builder.header("Authorization", authorization);
    }
    return builder;
  }

  /**
   * Sends {@code request}, retrying connection failures, timeouts, 5xx and 429 with exponential
   * backoff until {@link RegistrySettings#maxWait()} has passed.
   */
  private HttpResponse<String> send(HttpRequest request, String what)
      throws MessageFormatException {
    long deadline = System.nanoTime() + settings.maxWait().toNanos();
    Duration backoff = FIRST_BACKOFF;
    int attempts = 0;
    while (true) {
      attempts++;
      String failure;
      try {
        HttpResponse<String> response = http.send(request, HttpResponse.BodyHandlers.ofString());
        int status = response.statusCode();
        if (status < 500 && status != 429) {
          return response;
        }
        failure = "HTTP " + status + errorDetail(response);
      } catch (IOException e) {
        failure = e.toString();
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        throw unavailable(what + " at " + settings.url() + " was interrupted");
      }
      long left = deadline - System.nanoTime();
      if (left <= 0) {
        throw unavailable(
            "the schema registry at "
                + settings.url()
                + " is unavailable ("
                + what
                + ", "
                + attempts
                + (attempts == 1 ? " attempt" : " attempts")
                + " in "
                + settings.maxWait().toMillis()
                + " ms, "
                + RegistryOptions.MAX_WAIT.key()
                + "); last: "
                + InputEcho.abbreviate(failure));
      }
      try {
        Thread.sleep(Math.min(backoff.toMillis(), Math.max(1, left / 1_000_000)));
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        throw unavailable(what + " at " + settings.url() + " was interrupted");
      }
      backoff =
          backoff.multipliedBy(2).compareTo(MAX_BACKOFF) > 0
              ? MAX_BACKOFF
              : backoff.multipliedBy(2);
    }
  }

  private void requireOk(HttpResponse<String> response, String what) throws MessageFormatException {
    int status = response.statusCode();
    if (status == 401 || status == 403) {
      throw unavailable(
          "the schema registry at "
              + settings.url()
              + " refused "
              + what
              + " (HTTP "
              + status
              + "); check "
              + RegistryOptions.USERNAME.key()
              + " and "
              + RegistryOptions.PASSWORD.key());
    }
    if (status / 100 != 2) {
      throw unavailable(
          "the schema registry at "
              + settings.url()
              + " refused "
              + what
              + ": HTTP "
              + status
              + errorDetail(response));
    }
  }

  private static JsonNode parse(HttpResponse<String> response, String what)
      throws MessageFormatException {
    try {
      return JSON.readTree(response.body());
    } catch (IOException e) {
      throw unavailable(
          "the schema registry's answer for " + what + " is no JSON: " + abbreviated(response));
    }
  }

  /** The registry's {@code error_code} and {@code message}, as " (40403: ...)", or "". */
  private static String errorDetail(HttpResponse<String> response) {
    try {
      JsonNode body = JSON.readTree(response.body());
      if (body != null && body.has("message")) {
        return " ("
            + (body.has("error_code") ? body.get("error_code").asText() + ": " : "")
            + InputEcho.abbreviate(body.get("message").asText())
            + ")";
      }
    } catch (IOException | RuntimeException e) {
      // not the registry's JSON error: show the raw body
    }
    String body = response.body();
    return body == null || body.isBlank() ? "" : " (" + InputEcho.abbreviate(body.strip()) + ")";
  }

  private static String abbreviated(HttpResponse<String> response) {
    return InputEcho.abbreviate(String.valueOf(response.body()));
  }

  private static MessageFormatException unavailable(String message) {
    return new MessageFormatException(MessageErrorCode.REGISTRY_UNAVAILABLE, message);
  }

  private static SSLContext sslContext(RegistrySettings settings) {
    try {
      TrustManagerFactory trust = null;
      if (settings.trustStore() != null) {
        trust = TrustManagerFactory.getInstance(TrustManagerFactory.getDefaultAlgorithm());
        trust.init(load(settings.trustStore(), RegistryOptions.TRUSTSTORE_LOCATION.key()));
      }
      KeyManagerFactory keys = null;
      if (settings.keyStore() != null) {
        keys = KeyManagerFactory.getInstance(KeyManagerFactory.getDefaultAlgorithm());
        keys.init(
            load(settings.keyStore(), RegistryOptions.KEYSTORE_LOCATION.key()),
            password(settings.keyStore()));
      }
      SSLContext context = SSLContext.getInstance("TLS");
      context.init(
          keys == null ? null : keys.getKeyManagers(),
          trust == null ? null : trust.getTrustManagers(),
          null);
      return context;
    } catch (GeneralSecurityException e) {
      throw new IllegalArgumentException("cannot set up TLS for the schema registry: " + e, e);
    }
  }

  private static KeyStore load(RegistrySettings.Store store, String key) {
    try (InputStream in = Files.newInputStream(Path.of(store.location()))) {
      KeyStore keyStore = KeyStore.getInstance(store.type());
      keyStore.load(in, password(store));
      return keyStore;
    } catch (IOException | GeneralSecurityException e) {
      throw new IllegalArgumentException(
          "cannot read " + key + " " + store.location() + " (" + store.type() + "): " + e, e);
    }
  }

  private static char[] password(RegistrySettings.Store store) {
    return store.password() == null ? null : store.password().toCharArray();
  }
}
