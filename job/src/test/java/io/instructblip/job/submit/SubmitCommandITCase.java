package io.instructblip.job.submit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.sun.net.httpserver.HttpExchange;
import com.sun.net.httpserver.HttpServer;
import io.instructblip.job.cli.SubmitCommand;
import io.instructblip.job.kafka.EmbeddedKafka;
import io.instructblip.job.parse.RequestParser;
import io.instructblip.job.registry.RegistrySettings;
import io.instructblip.job.registry.RestSchemaRegistry;
import io.instructblip.schema.MessageCodec;
import io.instructblip.schema.WireFormat;
import io.instructblip.schema.avro.ImageInput;
import io.instructblip.schema.avro.InferenceRequest;
import io.instructblip.schema.avro.InferenceResponse;
import io.instructblip.schema.avro.RequestMode;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.OutputStream;
import java.io.PrintStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.serialization.ByteArrayDeserializer;
import org.apache.kafka.common.serialization.ByteArraySerializer;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import picocli.CommandLine;

class SubmitCommandITCase {
  private static EmbeddedKafka kafka;

  @TempDir Path tmp;

  @BeforeAll
  static void startKafka() {
    kafka = EmbeddedKafka.start();
    kafka.createTopics(1, "req", "resp", "silent-req", "silent-resp", "reg-req", "reg-resp");
  }

  @AfterAll
  static void stopKafka() {
    kafka.close();
  }

  @Test
  void buildsOneRequestPerImageInlineForFilesAndByUriOtherwise() throws Exception {
    Files.write(tmp.resolve("b.png"), new byte[] {1, 2});
    Files.write(tmp.resolve("a.jpg"), new byte[] {3});
    Files.write(tmp.resolve("notes.txt"), new byte[] {4});
    AtomicInteger n = new AtomicInteger();
    SubmitOptions options =
        SubmitOptions.builder()
            .bootstrapServers("unused:1")
            .instruction("Which?")
            .image("https://images.example.com/x.jpg")
            .imagesDir(tmp)
            .mode(RequestMode.RANK)
            .candidates(List.of("cat", "dog"))
            .build();
    List<InferenceRequest> requests =
        new SubmitClient(options, System.out, System.err, () -> "id-" + n.incrementAndGet())
            .buildRequests();
    assertEquals(List.of("id-1", "id-2", "id-3"), requests.stream().map(r -> r.getId()).toList());
    ImageInput uri = requests.get(0).getImages().get(0);
    assertEquals("https://images.example.com/x.jpg", uri.getUri());
    assertNull(uri.getBytes());
    assertEquals(ByteBuffer.wrap(new byte[] {3}), requests.get(1).getImages().get(0).getBytes());
    assertEquals(ByteBuffer.wrap(new byte[] {1, 2}), requests.get(2).getImages().get(0).getBytes());
    assertEquals(RequestMode.RANK, requests.get(2).getMode());
    assertEquals(List.of("cat", "dog"), requests.get(2).getCandidates());
    assertEquals("Which?", requests.get(2).getInstruction());
  }

  @Test
  void badArgumentsExitWithTwo() {
    Result r = submit("--bootstrap-servers", "x:1", "--instruction", "hi");
    assertEquals(2, r.code);
    assertEquals("submit: give --image PATH|URI (repeatable) or --images-dir DIR\n", r.err);
    r =
        submit(
            "--bootstrap-servers",
            "x:1",
            "--instruction",
            "hi",
            "--image",
            "s3://b/a.jpg",
            "--mode",
            "rank");
    assertEquals(2, r.code);
    assertEquals("submit: --mode rank needs --candidates\n", r.err);
  }

  @Test
  void waitsForEveryResponseAndPrintsThemAsJsonLines() throws Exception {
    AtomicBoolean stop = new AtomicBoolean();
    Thread responder = new Thread(() -> echo(stop), "responder");
    responder.start();
    try {
      Result r =
          submit(
              "--bootstrap-servers",
              kafka.bootstrapServers(),
              "--topic",
              "req",
              "--response-topic",
              "resp",
              "--instruction",
              "Describe",
              "--image",
              "file:///data/1.jpg",
              "--image",
              "file:///data/2.jpg",
              "--format",
              "json",
              "--wait",
              "--timeout",
              "20");
      assertEquals(0, r.code, r.err);
      List<String> lines = Arrays.asList(r.out.split("\n"));
      assertEquals(2, lines.size(), r.out);
      for (String line : lines) {
        InferenceResponse response =
            MessageCodec.responses().decode(line.getBytes(StandardCharsets.UTF_8));
        assertEquals("echo: Describe", response.getError().getMessage());
      }
    } finally {
      stop.set(true);
      responder.join();
    }
  }

  @Test
  void timesOutWithExitCodeOneWhenNobodyAnswers() {
    Result r =
        submit(
            "--bootstrap-servers",
            kafka.bootstrapServers(),
            "--topic",
            "silent-req",
            "--response-topic",
            "silent-resp",
            "--instruction",
            "Describe",
            "--image",
            "file:///data/1.jpg",
            "--wait",
            "--timeout",
            "1");
    assertEquals(1, r.code);
    assertEquals("", r.out);
    assertTrue(
        r.err.endsWith(
            "submit: 0 of 1 requests answered within 1 s; is the job running and reading"
                + " silent-req?\n"),
        r.err);
  }

  @Test
  void registryFramedRequestsAndResponsesGoThroughTheRegistry() throws Exception {
    HttpServer registry = inMemoryRegistry();
    try {
      String url = "http://127.0.0.1:" + registry.getAddress().getPort();
      RestSchemaRegistry client = new RestSchemaRegistry(RegistrySettings.of(url));
      AtomicBoolean stop = new AtomicBoolean();
      Thread responder =
          new Thread(
              () ->
                  echo(
                      stop,
                      "reg-req",
                      "reg-resp",
                      MessageCodec.requests().withRegistry(client, "reg-req-value"),
                      MessageCodec.responses().withRegistry(client, "reg-resp-value"),
                      WireFormat.REGISTRY),
              "registry-responder");
      responder.start();
      try {
        Result r =
            submit(
                "--bootstrap-servers",
                kafka.bootstrapServers(),
                "--topic",
                "reg-req",
                "--response-topic",
                "reg-resp",
                "--instruction",
                "Describe",
                "--image",
                "file:///data/1.jpg",
                "--format",
                "registry",
                "--registry-url",
                url,
                "--wait",
                "--timeout",
                "20");
        assertEquals(0, r.code, r.err);
        List<String> lines = Arrays.asList(r.out.split("\n"));
        assertEquals(1, lines.size(), r.out);
        assertEquals(
            "echo: Describe",
            MessageCodec.responses()
                .decode(lines.get(0).getBytes(StandardCharsets.UTF_8))
                .getError()
                .getMessage());
      } finally {
        stop.set(true);
        responder.join();
      }
    } finally {
      registry.stop(0);
    }
  }

  @Test
  void formatRegistryWithoutARegistryIsABadCommandLine() {
    Result r =
        submit(
            "--bootstrap-servers",
            kafka.bootstrapServers(),
            "--instruction",
            "Describe",
            "--image",
            "file:///data/1.jpg",
            "--format",
            "registry");
    assertEquals(2, r.code);
    assertTrue(r.err.startsWith("submit: --format registry needs --registry-url URL"), r.err);
  }

  /**
   * The two calls of the Confluent-compatible REST API that the job and submit make (register under
   * a subject, look up by id), over schemas kept in memory.
   */
  private static HttpServer inMemoryRegistry() throws IOException {
    ObjectMapper json = new ObjectMapper();
    Map<String, Integer> ids = new ConcurrentHashMap<>();
    Map<Integer, String> schemas = new ConcurrentHashMap<>();
    HttpServer server =
        HttpServer.create(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0), 0);
    server.createContext(
        "/subjects/",
        ex -> {
          String schema = json.readTree(ex.getRequestBody()).get("schema").asText();
          int id = ids.computeIfAbsent(schema, k -> ids.size() + 1);
          schemas.put(id, schema);
          respond(ex, 200, json.writeValueAsString(Map.of("id", id)));
        });
    server.createContext(
        "/schemas/ids/",
        ex -> {
          String path = ex.getRequestURI().getPath();
          String schema = schemas.get(Integer.parseInt(path.substring(path.lastIndexOf('/') + 1)));
          if (schema == null) {
            respond(ex, 404, "{\"error_code\":40403,\"message\":\"Schema not found\"}");
          } else {
            respond(ex, 200, json.writeValueAsString(Map.of("schema", schema)));
          }
        });
    server.start();
    return server;
  }

  private static void respond(HttpExchange ex, int status, String body) throws IOException {
    byte[] bytes = body.getBytes(StandardCharsets.UTF_8);
    ex.getResponseHeaders().set("Content-Type", "application/vnd.schemaregistry.v1+json");
    ex.sendResponseHeaders(status, bytes.length);
    try (OutputStream out = ex.getResponseBody()) {
      out.write(bytes);
    }
  }

  /** Answers each request on "req" with an error response whose message echoes the instruction. */
  private static void echo(AtomicBoolean stop) {
    echo(stop, "req", "resp", MessageCodec.requests(), MessageCodec.responses(), WireFormat.AVRO);
  }

  /**
   * Answers each request on {@code requestTopic} on {@code responseTopic}, in {@code format}, with
   * an error response whose message echoes the instruction.
   */
  private static void echo(
      AtomicBoolean stop,
      String requestTopic,
      String responseTopic,
      MessageCodec<InferenceRequest> requests,
      MessageCodec<InferenceResponse> responses,
      WireFormat format) {
    Properties c = kafka.clientProperties();
    c.put("group.id", "echo-" + requestTopic);
    c.put("auto.offset.reset", "earliest");
    try (KafkaConsumer<byte[], byte[]> consumer =
            new KafkaConsumer<>(c, new ByteArrayDeserializer(), new ByteArrayDeserializer());
        KafkaProducer<byte[], byte[]> producer =
            new KafkaProducer<>(
                kafka.clientProperties(), new ByteArraySerializer(), new ByteArraySerializer())) {
      consumer.subscribe(List.of(requestTopic));
      while (!stop.get()) {
        for (ConsumerRecord<byte[], byte[]> record : consumer.poll(Duration.ofMillis(100))) {
          if (format == WireFormat.REGISTRY && record.value()[0] != 0) {
            throw new IllegalStateException("not Schema Registry framed: " + record.value()[0]);
          }
          InferenceRequest request = requests.decode(record.value());
          InferenceResponse response =
              RequestParser.errorResponse(
                  request.getId(), Map.of(), "TEST", "echo: " + request.getInstruction(), 1L);
          producer.send(
              new ProducerRecord<>(
                  responseTopic, record.key(), responses.encode(response, format)));
        }
        producer.flush();
      }
    } catch (Exception e) {
      throw new IllegalStateException(e);
    }
  }

  private record Result(int code, String out, String err) {}

  private static Result submit(String... args) {
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    ByteArrayOutputStream err = new ByteArrayOutputStream();
    SubmitCommand command = new SubmitCommand();
    CommandLine cli = new CommandLine(command);
    command.setStreams(new PrintStream(out, true), new PrintStream(err, true));
    int code = cli.execute(args);
    return new Result(
        code, out.toString(StandardCharsets.UTF_8), err.toString(StandardCharsets.UTF_8));
  }
}
