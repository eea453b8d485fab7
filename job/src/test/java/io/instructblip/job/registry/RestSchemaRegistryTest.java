package io.instructblip.job.registry;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.sun.net.httpserver.HttpExchange;
import com.sun.net.httpserver.HttpServer;
import io.instructblip.schema.MessageErrorCode;
import io.instructblip.schema.MessageFormatException;
import io.instructblip.schema.avro.InferenceResponse;
import java.io.IOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.atomic.AtomicInteger;
import org.apache.avro.Schema;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * The REST client against an in-process HTTP server that speaks the Confluent-compatible contract
 * (the answers are those Apicurio's ccompat API gave for the same calls); the client against a real
 * registry runs in SchemaRegistryITCase.
 */
class RestSchemaRegistryTest {
  private static final String SCHEMA =
      "{\"type\":\"record\",\"name\":\"A\",\"fields\":[{\"name\":\"x\",\"type\":\"int\"}]}";

  private HttpServer server;
  private final List<String> seen = new CopyOnWriteArrayList<>();
  private final AtomicInteger failuresLeft = new AtomicInteger();

  @BeforeEach
  void start() throws IOException {
    server = HttpServer.create(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0), 0);
    server.createContext(
        "/ccompat/schemas/ids/",
        ex -> {
          seen.add(ex.getRequestMethod() + " " + ex.getRequestURI() + " " + auth(ex));
          if (failuresLeft.getAndDecrement() > 0) {
            respond(ex, 503, "{\"error_code\":50301,\"message\":\"starting\"}");
          } else if (ex.getRequestURI().getPath().endsWith("/ids/1")) {
            respond(ex, 200, "{\"schema\":" + quoted(SCHEMA) + ",\"references\":[]}");
          } else if (ex.getRequestURI().getPath().endsWith("/ids/2")) {
            respond(ex, 200, "{\"schema\":\"syntax = 'proto3';\",\"schemaType\":\"PROTOBUF\"}");
          } else {
            respond(
                ex,
                404,
                "{\"message\":\"No content with ID '99' was found.\",\"error_code\":40403}");
          }
        });
    server.createContext(
        "/ccompat/subjects/",
        ex -> {
          String body = new String(ex.getRequestBody().readAllBytes(), StandardCharsets.UTF_8);
          seen.add(ex.getRequestMethod() + " " + ex.getRequestURI() + " " + body);
          respond(ex, 200, "{\"id\":7}");
        });
    server.createContext(
        "/locked/", ex -> respond(ex, 401, "{\"error_code\":401,\"message\":\"Unauthorized\"}"));
    server.start();
  }

  @AfterEach
  void stop() {
    server.stop(0);
  }

  private RegistrySettings settings(String path) {
    return RegistrySettings.of("http://127.0.0.1:" + server.getAddress().getPort() + path + "/")
        .withMaxWait(Duration.ofSeconds(20));
  }

  @Test
  void fetchesASchemaByIdOnceWithBasicAuth() throws Exception {
    RestSchemaRegistry registry =
        new RestSchemaRegistry(settings("/ccompat").withBasicAuth("job", "s3cret"));
    Schema schema = registry.schemaById(1);
    assertEquals(new Schema.Parser().parse(SCHEMA), schema);
    assertEquals(schema, registry.schemaById(1));
    assertEquals(List.of("GET /ccompat/schemas/ids/1 Basic am9iOnMzY3JldA=="), seen);
  }

  @Test
  void retriesAServerErrorUntilTheRegistryAnswers() throws Exception {
    failuresLeft.set(2);
    RestSchemaRegistry registry = new RestSchemaRegistry(settings("/ccompat"));
    assertEquals("A", registry.schemaById(1).getName());
    assertEquals(3, seen.size());
  }

  @Test
  void anUnknownIdIsUnknownSchemaWithoutRetrying() {
    RestSchemaRegistry registry = new RestSchemaRegistry(settings("/ccompat"));
    MessageFormatException e =
        assertThrows(MessageFormatException.class, () -> registry.schemaById(99));
    assertEquals(MessageErrorCode.UNKNOWN_SCHEMA, e.code());
    assertEquals(
        "the schema registry at "
            + settings("/ccompat").url()
            + " has no schema with id 99 (40403: No content with ID '99' was found.); was the"
            + " record written against another registry?",
        e.getMessage());
    assertEquals(1, seen.size());
  }

  @Test
  void aNonAvroSchemaIsUnknownSchema() {
    RestSchemaRegistry registry = new RestSchemaRegistry(settings("/ccompat"));
    MessageFormatException e =
        assertThrows(MessageFormatException.class, () -> registry.schemaById(2));
    assertEquals(MessageErrorCode.UNKNOWN_SCHEMA, e.code());
    assertEquals("schema id 2 is a PROTOBUF schema; the job reads Avro only", e.getMessage());
  }

  @Test
  void aRegistryThatKeepsFailingIsUnavailableAfterTheBoundedWait() {
    failuresLeft.set(Integer.MAX_VALUE);
    RestSchemaRegistry registry =
        new RestSchemaRegistry(settings("/ccompat").withMaxWait(Duration.ofMillis(250)));
    MessageFormatException e =
        assertThrows(MessageFormatException.class, () -> registry.schemaById(1));
    assertEquals(MessageErrorCode.REGISTRY_UNAVAILABLE, e.code());
    assertTrue(
        e.getMessage()
            .startsWith("the schema registry at " + settings("/ccompat").url() + " is unavailable"),
        e.getMessage());
    assertTrue(e.getMessage().endsWith("last: HTTP 503 (50301: starting)"), e.getMessage());
    assertTrue(seen.size() >= 2, "retried: " + seen);
  }

  @Test
  void anUnreachableRegistryIsUnavailable() throws Exception {
    int closedPort;
    try (ServerSocket socket = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
      closedPort = socket.getLocalPort();
    }
    RestSchemaRegistry registry =
        new RestSchemaRegistry(
            RegistrySettings.of("http://127.0.0.1:" + closedPort)
                .withMaxWait(Duration.ofMillis(200)));
    MessageFormatException e =
        assertThrows(MessageFormatException.class, () -> registry.schemaById(1));
    assertEquals(MessageErrorCode.REGISTRY_UNAVAILABLE, e.code());
    assertTrue(e.getMessage().contains("ConnectException"), e.getMessage());
  }

  @Test
  void refusedCredentialsNameTheKeysToCheck() {
    RestSchemaRegistry registry =
        new RestSchemaRegistry(settings("/locked").withBasicAuth("job", "wrong"));
    MessageFormatException e =
        assertThrows(MessageFormatException.class, () -> registry.schemaById(1));
    assertEquals(MessageErrorCode.REGISTRY_UNAVAILABLE, e.code());
    assertEquals(
        "the schema registry at "
            + settings("/locked").url()
            + " refused looking up schema id 1 (HTTP 401); check instructblip.registry.username"
            + " and instructblip.registry.password",
        e.getMessage());
  }

  @Test
  void registersUnderTheSubjectOnceAndUrlEncodesIt() throws Exception {
    RestSchemaRegistry registry = new RestSchemaRegistry(settings("/ccompat"));
    Schema schema = InferenceResponse.getClassSchema();
    String subject =
        SubjectNameStrategy.TOPIC_RECORD_NAME.subject("out topic", schema.getFullName());
    assertEquals(7, registry.register(subject, schema));
    assertEquals(7, registry.register(subject, schema));
    assertEquals(1, seen.size());
    assertTrue(
        seen.get(0)
            .startsWith(
                "POST /ccompat/subjects/out+topic-io.instructblip.schema.avro.InferenceResponse"
                    + "/versions {\"schema\":\"{\\\"type\\\":\\\"record\\\""),
        seen.get(0));
    assertEquals(schema, registry.schemaById(7), "a registered schema is known by its id");
  }

  @Test
  void settingsAreValidatedWithTheKeyToFix() {
    assertEquals(
        "instructblip.registry.url must be an http:// or https:// URL, got \"ftp://r\"",
        assertThrows(IllegalArgumentException.class, () -> RegistrySettings.of("ftp://r"))
            .getMessage());
    assertEquals(
        "set both instructblip.registry.username and instructblip.registry.password for basic"
            + " authentication, or neither",
        assertThrows(
                IllegalArgumentException.class,
                () -> RegistrySettings.of("http://r").withBasicAuth("u", null))
            .getMessage());
    org.apache.flink.configuration.Configuration conf =
        new org.apache.flink.configuration.Configuration();
    assertEquals(null, RegistrySettings.fromConfiguration(conf));
    conf.setString("instructblip.registry.url", "https://r:8081/");
    conf.setString("instructblip.registry.subject-strategy", "record_name");
    conf.setString("instructblip.registry.max-wait", "2 s");
    RegistrySettings settings = RegistrySettings.fromConfiguration(conf);
    assertEquals("https://r:8081", settings.url());
    assertEquals(SubjectNameStrategy.RECORD_NAME, settings.subjectStrategy());
    assertEquals(Duration.ofSeconds(2), settings.maxWait());
    assertTrue(settings.withBasicAuth("u", "pw").toString().contains("password=***"));
    assertTrue(!settings.withBasicAuth("u", "pw").toString().contains("pw"));
  }

  private static String auth(HttpExchange ex) {
    return String.valueOf(ex.getRequestHeaders().getFirst("Authorization"));
  }

  private static String quoted(String s) {
    return "\"" + s.replace("\"", "\\\"") + "\"";
  }

  private static void respond(HttpExchange ex, int status, String body) throws IOException {
    byte[] bytes = body.getBytes(StandardCharsets.UTF_8);
    ex.getResponseHeaders().set("Content-Type", "application/vnd.schemaregistry.v1+json");
    ex.sendResponseHeaders(status, bytes.length);
    ex.getResponseBody().write(bytes);
    ex.close();
  }
}
