package io.instructblip.tests;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.instructblip.engine.api.EngineRequest;
import io.instructblip.flink.pipeline.StageAnswer;
import io.instructblip.job.Main;
import io.instructblip.job.fetch.UriPolicy;
import io.instructblip.job.kafka.DeadLetterSerializer;
import io.instructblip.job.kafka.EmbeddedKafka;
import io.instructblip.job.kafka.KafkaSettings;
import io.instructblip.job.submit.SubmitClient;
import io.instructblip.job.submit.SubmitOptions;
import io.instructblip.job.submit.SubmitResult;
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
import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import org.apache.flink.api.common.JobStatus;
import org.apache.flink.api.common.functions.RichMapFunction;
import org.apache.flink.api.common.state.CheckpointListener;
import org.apache.flink.core.execution.JobClient;
import org.apache.flink.streaming.api.environment.StreamExecutionEnvironment;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * The whole job, Kafka to Kafka, on a real in-process KRaft broker and a local Flink with the tiny
 * fixture model: good requests (Avro and JSON, bytes and allowed file URIs) get the reference's
 * answers, bad ones (corrupt image, invalid parameter, forbidden URI or scheme) error responses
 * with their codes, a request past its deadline a timeout response, undecodable records go to the
 * dead-letter topic, exactly once for a read_committed consumer, with and without an injected
 * failure; the job keeps running. Also: {@code submit --wait} against the job, and the {@code
 * local} command.
 */
class InstructBlipJobITCase {
  private static final String MODEL = "tiny-vicuna";
  private static EmbeddedKafka kafka;

  static final AtomicBoolean ARMED = new AtomicBoolean();
  static final AtomicBoolean CHECKPOINTED = new AtomicBoolean();
  static final AtomicBoolean FAILED = new AtomicBoolean();
  static final AtomicInteger ANSWERS = new AtomicInteger();

  @BeforeAll
  static void startKafka() {
    kafka = EmbeddedKafka.start();
  }

  @AfterAll
  static void stopKafka() {
    kafka.close();
  }

  /**
   * Fails the task once when armed, at the third answer; the test starts producing only after a
   * checkpoint completed, so the restart restores requests in flight inside the stages.
   */
  static final class FailOnce extends RichMapFunction<StageAnswer, StageAnswer>
      implements CheckpointListener {
    private static final long serialVersionUID = 1L;

    @Override
    public StageAnswer map(StageAnswer answer) {
      if (ARMED.get() && ANSWERS.incrementAndGet() >= 3 && FAILED.compareAndSet(false, true)) {
        throw new IllegalStateException("injected failure");
      }
      return answer;
    }

    @Override
    public void notifyCheckpointComplete(long checkpointId) {
      CHECKPOINTED.set(true);
    }
  }

  private static JobClient startJob(KafkaSettings settings) throws Exception {
    StageSettings stages = KafkaJobFixture.cpuStages(MODEL);
    Map<String, String> images =
        Map.of(
            UriPolicy.SCHEMES,
            "file",
            UriPolicy.FILE_ROOTS,
            GoldenCases.fixtures().resolve("images").toString());
    StreamExecutionEnvironment env = KafkaJobFixture.environment();
    new InstructBlipJob(settings, stages, images)
        .addTo(env, answers -> answers.map(new FailOnce()).returns(answers.getType()));
    return env.executeAsync(settings.groupId());
  }

  @ParameterizedTest(name = "injected failure: {0}")
  @ValueSource(booleans = {false, true})
  void answersEveryRequestExactlyOnceAndKeepsRunning(boolean injectFailure) throws Exception {
    String name = injectFailure ? "job-failover" : "job";
    KafkaSettings settings = KafkaJobFixture.settings(kafka, name);
    kafka.createTopics(
        2, settings.requestTopic(), settings.responseTopic(), settings.deadLetterTopic());
    Map<String, String> expected = new HashMap<>();
    List<ProducerRecord<byte[], byte[]>> records = new ArrayList<>();
    String topic = settings.requestTopic();
    int i = 0;
    List<GoldenCases.Case> cases = new ArrayList<>(GoldenCases.cases(MODEL, name + "-a-"));
    cases.addAll(GoldenCases.cases(MODEL, name + "-b-"));
    for (GoldenCases.Case c : cases) {
      EngineRequest e = c.request();
      InferenceRequest.Builder r = c.kafkaRequest().setMetadata(Map.of("case", "m-" + e.id()));
      WireFormat format = i++ % 2 == 0 ? WireFormat.AVRO : WireFormat.JSON;
      records.add(
          KafkaJobFixture.record(topic, e.id(), MessageCodec.requests().encode(r.build(), format)));
      expected.put(e.id(), "OK:" + c.expectedTokens());
    }
    String inRoot = GoldenCases.fixtures().resolve("images/rgb.png").toUri().toString();
    add(records, expected, topic, request(name + "-uri", "What?").setImages(uri(inRoot)), "OK");
    add(
        records,
        expected,
        topic,
        request(name + "-outside", "What?").setImages(uri("file:///etc/hostname")),
        "ERROR:IMAGE_URI_FORBIDDEN");
    add(
        records,
        expected,
        topic,
        request(name + "-scheme", "What?").setImages(uri("http://127.0.0.1:9/x.png")),
        "ERROR:IMAGE_URI_FORBIDDEN");
    add(
        records,
        expected,
        topic,
        request(name + "-corrupt", "What?")
            .setImages(bytes(GoldenCases.bytes("images/truncated.jpg"))),
        "ERROR:IMAGE_UNREADABLE");
    add(
        records,
        expected,
        topic,
        request(name + "-beams", "What?")
            .setGeneration(GenerationOptions.newBuilder().setNumBeams(0).build()),
        "ERROR:INVALID_PARAMETER");
    add(
        records,
        expected,
        topic,
        request(name + "-late", "What?").setDeadlineMs(1L),
        "TIMEOUT:TIMEOUT");
    records.add(
        KafkaJobFixture.record(topic, "junk", "not a request".getBytes(StandardCharsets.UTF_8)));

    ARMED.set(injectFailure);
    CHECKPOINTED.set(false);
    FAILED.set(false);
    ANSWERS.set(0);
    JobClient job = startJob(settings);
    try {
      long deadline = System.nanoTime() + Duration.ofSeconds(60).toNanos();
      while (!CHECKPOINTED.get() && System.nanoTime() < deadline) {
        Thread.sleep(20);
      }
      assertTrue(CHECKPOINTED.get(), "a checkpoint completed before the requests were sent");
      KafkaJobFixture.produce(kafka, topic, records);
      List<ConsumerRecord<byte[], byte[]>> responses =
          KafkaJobFixture.readCommitted(
              kafka,
              settings.responseTopic(),
              expected.size(),
              Duration.ofSeconds(90),
              Duration.ofSeconds(1));
      Map<String, String> actual = new HashMap<>();
      List<String> ids = new ArrayList<>();
      for (ConsumerRecord<byte[], byte[]> r : responses) {
        InferenceResponse response = MessageCodec.responses().decode(r.value());
        String id = response.getId();
        assertEquals(id, new String(r.key(), StandardCharsets.UTF_8), "key = id");
        assertEquals(
            "t-" + id, KafkaJobFixture.header(r, "trace"), "request headers passed through");
        assertEquals("m-" + id, response.getMetadata().get("case"), "metadata passed through");
        ids.add(id);
        String expectedValue = expected.get(id);
        if (expectedValue != null && expectedValue.equals("OK")) {
          actual.put(id, response.getStatus().name());
        } else if (response.getStatus() == ResponseStatus.OK) {
          actual.put(id, "OK:" + response.getTokenIds());
        } else {
          actual.put(id, response.getStatus() + ":" + response.getError().getCode());
        }
      }
      KafkaJobFixture.countBy(ids).forEach((id, n) -> assertEquals(1, n, "responses for " + id));
      assertEquals(expected, actual);
      List<ConsumerRecord<byte[], byte[]>> dead =
          KafkaJobFixture.readCommitted(
              kafka, settings.deadLetterTopic(), 1, Duration.ofSeconds(20), Duration.ofMillis(300));
      assertEquals(1, dead.size());
      ConsumerRecord<byte[], byte[]> junk = dead.get(0);
      assertEquals("not a request", new String(junk.value(), StandardCharsets.UTF_8));
      assertEquals("UNDECODABLE", KafkaJobFixture.header(junk, DeadLetterSerializer.ERROR_CODE));
      assertTrue(
          KafkaJobFixture.header(junk, DeadLetterSerializer.ERROR_MESSAGE)
              .startsWith("message is neither"));
      assertEquals(topic, KafkaJobFixture.header(junk, DeadLetterSerializer.SOURCE_TOPIC));
      assertTrue(KafkaJobFixture.header(junk, DeadLetterSerializer.SOURCE_OFFSET).matches("\\d+"));
      assertTrue(
          KafkaJobFixture.header(junk, DeadLetterSerializer.SOURCE_PARTITION).matches("[01]"));
      assertEquals("t-junk", KafkaJobFixture.header(junk, "trace"), "original headers kept");
      assertEquals(JobStatus.RUNNING, job.getJobStatus().get(), "the job keeps running");
      if (injectFailure) {
        assertTrue(FAILED.get(), "the failure was injected");
      }
    } finally {
      ARMED.set(false);
      job.cancel().get();
    }
  }

  @Test
  void submitWaitsForTheAnswerOfEveryImage() throws Exception {
    KafkaSettings settings = KafkaJobFixture.settings(kafka, "submit");
    kafka.createTopics(
        1, settings.requestTopic(), settings.responseTopic(), settings.deadLetterTopic());
    ARMED.set(false);
    JobClient job = startJob(settings);
    try {
      SubmitOptions options =
          SubmitOptions.builder()
              .bootstrapServers(kafka.bootstrapServers())
              .requestTopic(settings.requestTopic())
              .responseTopic(settings.responseTopic())
              .instruction("What is in the image?")
              .images(
                  List.of(
                      GoldenCases.fixtures().resolve("images/rgb.png").toString(),
                      GoldenCases.fixtures().resolve("images/baseline.jpg").toString(),
                      GoldenCases.fixtures().resolve("images/palette.png").toString()))
              .mode(RequestMode.GENERATE)
              .format(WireFormat.JSON)
              .waitForResponses(true)
              .timeout(Duration.ofSeconds(90))
              .build();
      ByteArrayOutputStream out = new ByteArrayOutputStream();
      SubmitResult result =
          new SubmitClient(options, new PrintStream(out, true, StandardCharsets.UTF_8), System.err)
              .run();
      assertTrue(result.allAnswered());
      assertEquals(3, out.toString(StandardCharsets.UTF_8).lines().count());
      result.responses().values().forEach(r -> assertEquals(ResponseStatus.OK, r.getStatus()));
    } finally {
      job.cancel().get();
    }
  }

  @Test
  void localAnswersEverySampleImageAndExitsZero() throws Exception {
    PrintStream stdout = System.out;
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    int exit;
    try {
      System.setOut(new PrintStream(out, true, StandardCharsets.UTF_8));
      exit = Main.run("local", "--device", "cpu", "--timeout", "90 s");
    } finally {
      System.setOut(stdout);
    }
    assertEquals(0, exit, out.toString(StandardCharsets.UTF_8));
    List<String> lines = out.toString(StandardCharsets.UTF_8).lines().toList();
    assertEquals(4, lines.size(), "one answer per sample image: " + lines);
    java.util.Set<String> texts = new java.util.HashSet<>();
    for (String line : lines) {
      InferenceResponse r = MessageCodec.responses().decode(line.getBytes(StandardCharsets.UTF_8));
      assertEquals(ResponseStatus.OK, r.getStatus(), line);
      texts.add(r.getText().toString());
    }
    // The PyTorch reference's captions of the sample images with demo-vicuna's default settings
    // (beam 5, repetition penalty 1.5): the demo model's answers arrive unchanged through Kafka.
    assertEquals(
        java.util.Set.of(
            "a large red circle",
            "a small blue square and a large yellow square",
            "a large green triangle, a small white circle and a small red square",
            "a large white circle, a large green square and a small red circle"),
        texts);
  }

  private static InferenceRequest.Builder request(String id, String instruction) {
    return InferenceRequest.newBuilder()
        .setId(id)
        .setImages(bytes(GoldenCases.bytes("images/rgb.png")))
        .setInstruction(instruction)
        .setMetadata(Map.of("case", "m-" + id))
        .setGeneration(GenerationOptions.newBuilder().setMaxNewTokens(6).setNumBeams(1).build());
  }

  private static List<ImageInput> uri(String uri) {
    return List.of(ImageInput.newBuilder().setUri(uri).build());
  }

  private static List<ImageInput> bytes(byte[] bytes) {
    return List.of(ImageInput.newBuilder().setBytes(ByteBuffer.wrap(bytes)).build());
  }

  private static void add(
      List<ProducerRecord<byte[], byte[]>> records,
      Map<String, String> expected,
      String topic,
      InferenceRequest.Builder request,
      String outcome) {
    InferenceRequest r = request.build();
    records.add(KafkaJobFixture.record(topic, r.getId(), MessageCodec.requests().encode(r)));
    expected.put(r.getId(), outcome);
  }
}
