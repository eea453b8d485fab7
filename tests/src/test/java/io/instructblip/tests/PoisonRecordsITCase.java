package io.instructblip.tests;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.instructblip.engine.RequestLimits;
import io.instructblip.job.kafka.DeadLetterSerializer;
import io.instructblip.job.kafka.EmbeddedKafka;
import io.instructblip.job.kafka.KafkaSettings;
import io.instructblip.job.wiring.InstructBlipJob;
import io.instructblip.job.wiring.StageSettings;
import io.instructblip.schema.MessageCodec;
import io.instructblip.schema.WireFormat;
import io.instructblip.schema.avro.GenerationOptions;
import io.instructblip.schema.avro.ImageInput;
import io.instructblip.schema.avro.InferenceRequest;
import io.instructblip.schema.avro.InferenceResponse;
import io.instructblip.schema.avro.RequestMode;
import io.instructblip.schema.avro.ResponseStatus;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collections;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.TreeMap;
import org.apache.flink.api.common.JobStatus;
import org.apache.flink.core.execution.JobClient;
import org.apache.flink.streaming.api.environment.StreamExecutionEnvironment;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * The Kafka half of the bad-input corpus (issue 10): the real job, on a real in-process broker and
 * a local Flink with the tiny fixture model, is fed a generated corpus of poison records (oversized
 * strings in every field, unbounded generation parameters, a response too large for its topic,
 * broken JSON, junk, corrupt images) and then the good reference requests. Every attributable bad
 * record gets exactly one response with its code, the junk goes to the dead-letter topic (a dead
 * letter too large for its topic without its value), and every good request sent after them is
 * answered with the reference tokens; the job is still running at the end. The response and
 * dead-letter producers run with {@code max.request.size} = {@value #MAX_RECORD_BYTES}, so that a
 * response can be too large while its request is within the limits.
 */
class PoisonRecordsITCase {
  private static final String MODEL = "tiny-vicuna";
  private static final int MAX_RECORD_BYTES = 8192;
  private static final String BIG =
      "\u20ac".repeat(70_000); // 210 KB of UTF-8: over writeUTF's 64 KB
  private static EmbeddedKafka kafka;

  @BeforeAll
  static void startKafka() {
    kafka = EmbeddedKafka.start();
  }

  @AfterAll
  static void stopKafka() {
    kafka.close();
  }

  /** The corpus: each record and what it must lead to. */
  private static final class Corpus {
    final String topic;
    final List<ProducerRecord<byte[], byte[]>> records = new ArrayList<>();
    final Map<String, String> expected = new TreeMap<>();
    final List<String> deadLetterCodes = new ArrayList<>();

    Corpus(String topic) {
      this.topic = topic;
    }

    void answered(InferenceRequest.Builder request, String outcome) {
      answered(request, WireFormat.AVRO, outcome);
    }

    void answered(InferenceRequest.Builder request, WireFormat format, String outcome) {
      InferenceRequest r = request.build();
      records.add(
          KafkaJobFixture.record(topic, r.getId(), MessageCodec.requests().encode(r, format)));
      expected.put(r.getId(), outcome);
    }

    void answeredJson(String id, String json, String outcome) {
      records.add(KafkaJobFixture.record(topic, id, json.getBytes(StandardCharsets.ISO_8859_1)));
      expected.put(id, outcome);
    }

    void deadLettered(byte[] value, String code) {
      records.add(KafkaJobFixture.record(topic, "junk-" + records.size(), value));
      deadLetterCodes.add(code);
    }
  }

  @Test
  void everyPoisonRecordIsAnsweredOrDeadLetteredAndTheJobKeepsAnswering() throws Exception {
    KafkaSettings settings =
        KafkaSettings.builder()
            .bootstrapServers(kafka.bootstrapServers())
            .requestTopic("poison-requests")
            .responseTopic("poison-responses")
            .deadLetterTopic("poison-dead-letters")
            .groupId("poison")
            .transactionalIdPrefix("poison")
            .startingOffsets(io.instructblip.job.kafka.StartingOffsets.EARLIEST)
            .transactionTimeout(Duration.ofMinutes(1))
            .clientProperty("max.request.size", Integer.toString(MAX_RECORD_BYTES))
            .build();
    kafka.createTopics(
        1, settings.requestTopic(), settings.responseTopic(), settings.deadLetterTopic());
    Corpus corpus = new Corpus(settings.requestTopic());
    addBadRequests(corpus);
    int bad = corpus.records.size();
    for (GoldenCases.Case c : GoldenCases.cases(MODEL, "good-")) {
      corpus.answered(
          c.kafkaRequest().setMetadata(Map.of("case", "m-" + c.request().id())),
          "OK:" + c.expectedTokens());
    }
    System.out.println(
        "PoisonRecordsITCase corpus: "
            + bad
            + " bad records ("
            + (corpus.expected.size() - (corpus.records.size() - bad))
            + " answered with an error, "
            + corpus.deadLetterCodes.size()
            + " dead-lettered), then "
            + (corpus.records.size() - bad)
            + " good requests");

    StageSettings stages =
        StageSettings.fromMap(
            Map.of(
                StageSettings.MODEL_DIR, GoldenCases.model(MODEL).toString(),
                StageSettings.DEVICE, "cpu",
                StageSettings.THREADS, "1",
                StageSettings.VISION_WAIT, "5 ms",
                StageSettings.QFORMER_WAIT, "5 ms"));
    StreamExecutionEnvironment env = KafkaJobFixture.environment();
    new InstructBlipJob(settings, stages, Map.of(), RequestLimits.defaults()).addTo(env);
    JobClient job = env.executeAsync("poison");
    try {
      KafkaJobFixture.produce(kafka, corpus.topic, corpus.records);
      List<ConsumerRecord<byte[], byte[]>> responses =
          KafkaJobFixture.readCommitted(
              kafka,
              settings.responseTopic(),
              corpus.expected.size(),
              Duration.ofSeconds(90),
              Duration.ofSeconds(1));
      Map<String, String> actual = new TreeMap<>();
      List<String> ids = new ArrayList<>();
      for (ConsumerRecord<byte[], byte[]> r : responses) {
        assertTrue(r.serializedValueSize() <= MAX_RECORD_BYTES, "record size");
        InferenceResponse response = MessageCodec.responses().decode(r.value());
        String id = response.getId();
        assertEquals(id, new String(r.key(), StandardCharsets.UTF_8), "key = id");
        ids.add(id);
        actual.put(
            id,
            response.getStatus() == ResponseStatus.OK
                ? "OK:" + response.getTokenIds()
                : response.getStatus() + ":" + response.getError().getCode());
        if (response.getError() != null) {
          assertTrue(
              response.getError().getMessage().length() < 1000,
              "error messages do not echo whole inputs: " + id);
        }
      }
      KafkaJobFixture.countBy(ids).forEach((id, n) -> assertEquals(1, n, "responses for " + id));
      assertEquals(corpus.expected, actual);

      List<ConsumerRecord<byte[], byte[]>> dead =
          KafkaJobFixture.readCommitted(
              kafka,
              settings.deadLetterTopic(),
              corpus.deadLetterCodes.size(),
              Duration.ofSeconds(30),
              Duration.ofMillis(500));
      List<String> codes = new ArrayList<>();
      for (ConsumerRecord<byte[], byte[]> r : dead) {
        codes.add(KafkaJobFixture.header(r, DeadLetterSerializer.ERROR_CODE));
        assertNotNull(KafkaJobFixture.header(r, DeadLetterSerializer.SOURCE_OFFSET));
      }
      List<String> expectedCodes = new ArrayList<>(corpus.deadLetterCodes);
      Collections.sort(expectedCodes);
      Collections.sort(codes);
      assertEquals(expectedCodes, codes);
      assertEquals(JobStatus.RUNNING, job.getJobStatus().get(), "the job keeps running");
    } finally {
      job.cancel().get();
    }
  }

  /** Each poison kind of issue 10, and the image classes already handled (so they stay so). */
  private static void addBadRequests(Corpus c) {
    String sample = "\"images\":[{\"uri\":\"file:///a.jpg\"}]";
    // Oversized strings in each field (each once made writeUTF fail the task in a restart loop).
    c.answered(request("big-instruction").setInstruction(BIG), "ERROR:INSTRUCTION_TOO_LONG");
    c.answered(
        request("big-candidate")
            .setMode(RequestMode.RANK)
            .setCandidates(List.of("yes", BIG))
            .setGeneration(null),
        "ERROR:INVALID_REQUEST");
    c.answered(
        request("many-candidates")
            .setMode(RequestMode.RANK)
            .setCandidates(Collections.nCopies(1000, "a"))
            .setGeneration(null),
        "ERROR:INVALID_REQUEST");
    c.answered(
        request("big-metadata-value").setMetadata(Map.of("k", BIG)), "ERROR:INVALID_REQUEST");
    c.answered(request("big-metadata-key").setMetadata(Map.of(BIG, "v")), "ERROR:INVALID_REQUEST");
    Map<String, String> many = new HashMap<>();
    for (int i = 0; i < 1000; i++) {
      many.put("k" + i, "v");
    }
    c.answered(request("many-metadata").setMetadata(many), "ERROR:INVALID_REQUEST");
    InferenceRequest headerKey = request("big-header-key").build();
    ProducerRecord<byte[], byte[]> withHeader =
        KafkaJobFixture.record(
            c.topic, "big-header-key", MessageCodec.requests().encode(headerKey));
    withHeader.headers().add(BIG, new byte[] {1});
    c.records.add(withHeader);
    c.expected.put("big-header-key", "ERROR:INVALID_REQUEST");
    c.answered(
        request("big-uri")
            .setImages(
                List.of(ImageInput.newBuilder().setUri("file:///" + "a".repeat(100_000)).build())),
        "ERROR:INVALID_REQUEST");
    // Echoed in the error message once (whole): now abbreviated.
    c.answered(request("long-model").setModel("m".repeat(100_000)), "ERROR:INVALID_REQUEST");
    // Within the limits, but the answer with its metadata does not fit in the response topic.
    c.answered(
        request("big-response").setMetadata(Map.of("k", "x".repeat(10_000))),
        "ERROR:RESPONSE_TOO_LARGE");
    // Unbounded work.
    c.answered(
        request("beams-1e6").setGeneration(gen().setNumBeams(1_000_000).build()),
        invalidParameter());
    c.answered(
        request("beams-2e30").setGeneration(gen().setNumBeams(1 << 30).build()),
        invalidParameter());
    c.answered(
        request("beams-17").setGeneration(gen().setNumBeams(17).build()), invalidParameter());
    c.answered(
        request("tokens-max").setGeneration(gen().setMaxNewTokens(Integer.MAX_VALUE).build()),
        invalidParameter());
    c.answered(
        request("work").setGeneration(gen().setNumBeams(16).setMaxNewTokens(1000).build()),
        invalidParameter());
    c.answered(
        request("tiny-temperature")
            .setGeneration(gen().setDoSample(true).setTemperature(1e-300).build()),
        invalidParameter());
    c.answered(
        request("top-k").setGeneration(gen().setDoSample(true).setTopK(Integer.MAX_VALUE).build()),
        invalidParameter());
    c.answered(
        request("top-p").setGeneration(gen().setDoSample(true).setTopP(0.0).build()),
        invalidParameter());
    c.answered(
        request("penalty").setGeneration(gen().setRepetitionPenalty(1e300).build()),
        invalidParameter());
    c.answered(
        request("length-penalty")
            .setGeneration(gen().setNumBeams(2).setLengthPenalty(-1e300).build()),
        invalidParameter());
    c.answered(
        request("min-tokens").setGeneration(gen().setMinNewTokens(-5).build()), invalidParameter());
    // Unicode-blank instruction, broken JSON after a readable id.
    c.answered(
        request("nbsp").setInstruction("\u00a0\u2007\u202f"),
        WireFormat.JSON,
        "ERROR:INSTRUCTION_EMPTY");
    c.answeredJson(
        "truncated", "{\"id\":\"truncated\"," + sample + ",\"instruc", "ERROR:INVALID_REQUEST");
    c.answeredJson(
        "latin1",
        "{\"id\":\"latin1\"," + sample + ",\"instruction\":\"caf\u00e9\"}",
        "ERROR:INVALID_REQUEST");
    c.answeredJson(
        "trailing",
        "{\"id\":\"trailing\"," + sample + ",\"instruction\":\"x\"} {}",
        "ERROR:INVALID_REQUEST");
    c.answeredJson(
        "unknown-field", "{\"id\":\"unknown-field\",\"num_beam\":3}", "ERROR:INVALID_REQUEST");
    // Images (already handled before; kept so).
    c.answered(
        request("truncated-jpeg").setImages(bytes("images/truncated.jpg")),
        "ERROR:IMAGE_UNREADABLE");
    c.answered(
        request("garbage-image").setImages(bytes("images/garbage.bin")), "ERROR:IMAGE_UNREADABLE");
    c.answered(
        request("huge-header").setImages(bytes("images/huge-header.png")), "ERROR:IMAGE_TOO_LARGE");
    c.answered(request("no-image").setImages(List.of()), "ERROR:INVALID_IMAGE_COUNT");
    // No attributable id: dead letters.
    byte[] junk = new byte[300];
    new Random(10).nextBytes(junk);
    junk[0] = 'x';
    c.deadLettered(junk, "UNDECODABLE");
    c.deadLettered(new byte[0], "UNDECODABLE");
    byte[] hugeJunk = new byte[200_000]; // bigger than the dead-letter topic's record limit
    new Random(11).nextBytes(hugeJunk);
    hugeJunk[0] = 'x';
    c.deadLettered(hugeJunk, "UNDECODABLE");
    c.deadLettered(
        ("{\"id\":\"a\\ud800b\"," + sample + ",\"instruction\":\"x\"}")
            .getBytes(StandardCharsets.UTF_8),
        "INVALID_REQUEST");
    c.deadLettered(
        MessageCodec.requests().encode(request("i".repeat(70_000)).build()), "INVALID_REQUEST");
    c.deadLettered(("{\"id\":\"caf\u00e9").getBytes(StandardCharsets.ISO_8859_1), "INVALID_JSON");
    c.deadLettered("{\"images\":[]}".getBytes(StandardCharsets.UTF_8), "MISSING_FIELD");
    c.deadLettered(new byte[] {(byte) 0xC3, 0x01, 1, 2, 3}, "UNDECODABLE");
  }

  private static String invalidParameter() {
    return "ERROR:INVALID_PARAMETER";
  }

  private static GenerationOptions.Builder gen() {
    return GenerationOptions.newBuilder().setMaxNewTokens(6).setNumBeams(1);
  }

  private static InferenceRequest.Builder request(String id) {
    return InferenceRequest.newBuilder()
        .setId(id)
        .setImages(bytes("images/rgb.png"))
        .setInstruction("What?")
        .setMetadata(Map.of("case", "m-" + id))
        .setGeneration(gen().build());
  }

  private static List<ImageInput> bytes(String fixture) {
    return List.of(
        ImageInput.newBuilder().setBytes(ByteBuffer.wrap(GoldenCases.bytes(fixture))).build());
  }
}
