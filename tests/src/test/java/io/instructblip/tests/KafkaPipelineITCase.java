package io.instructblip.tests;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.instructblip.job.kafka.DeadLetterSerializer;
import io.instructblip.job.kafka.EmbeddedKafka;
import io.instructblip.job.kafka.KafkaSettings;
import io.instructblip.job.submit.SubmitClient;
import io.instructblip.job.submit.SubmitOptions;
import io.instructblip.job.submit.SubmitResult;
import io.instructblip.schema.MessageCodec;
import io.instructblip.schema.WireFormat;
import io.instructblip.schema.avro.ImageInput;
import io.instructblip.schema.avro.InferenceRequest;
import io.instructblip.schema.avro.InferenceResponse;
import io.instructblip.schema.avro.RequestMode;
import io.instructblip.schema.avro.ResponseStatus;
import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.apache.flink.core.execution.JobClient;
import org.apache.flink.streaming.api.environment.StreamExecutionEnvironment;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * Kafka -> Flink -> Kafka with a real in-process KRaft broker and a Flink MiniCluster: every
 * attributable request is answered exactly once (seen by a read_committed consumer), unreadable
 * records go to the dead-letter topic with their error headers, also across an injected failure and
 * restart from a checkpoint; {@code submit --wait} gets every answer from a running job.
 */
class KafkaPipelineITCase {
  private static final int VALID_AVRO = 20;
  private static final int VALID_JSON = 20;
  private static final int INVALID = 5;
  private static final int MALFORMED_WITH_ID = 3;
  private static final int UNDECODABLE = 4;

  private static EmbeddedKafka kafka;

  @BeforeAll
  static void startKafka() {
    kafka = EmbeddedKafka.start();
  }

  @AfterAll
  static void stopKafka() {
    kafka.close();
  }

  @Test
  void answersEveryAttributableRequestExactlyOnceAndDeadLettersTheRest() throws Exception {
    runBoundedJobAndVerify("mixed", false);
  }

  @Test
  void answersExactlyOnceAcrossAnInjectedFailureAndRestart() throws Exception {
    runBoundedJobAndVerify("failover", true);
    assertTrue(KafkaJobFixture.FAILED.get(), "the failure was injected");
    assertTrue(KafkaJobFixture.RESTORED.get(), "the job restarted from a checkpoint");
  }

  private void runBoundedJobAndVerify(String name, boolean injectFailure) throws Exception {
    KafkaSettings settings = KafkaJobFixture.settings(kafka, name);
    kafka.createTopics(
        2, settings.requestTopic(), settings.responseTopic(), settings.deadLetterTopic());
    Map<String, String> expected = new HashMap<>(); // id -> "OK:text" or "ERROR:code"
    List<ProducerRecord<byte[], byte[]>> records = new ArrayList<>();
    List<byte[]> undecodable = new ArrayList<>();
    String topic = settings.requestTopic();
    for (int i = 0; i < VALID_AVRO + VALID_JSON; i++) {
      String id = name + "-ok-" + i;
      InferenceRequest request = request(id, "question " + i).build();
      WireFormat format = i < VALID_AVRO ? WireFormat.AVRO : WireFormat.JSON;
      records.add(
          KafkaJobFixture.record(topic, id, MessageCodec.requests().encode(request, format)));
      expected.put(id, "OK:echo: question " + i);
    }
    for (int i = 0; i < INVALID; i++) {
      String id = name + "-rank-" + i;
      InferenceRequest request = request(id, "rank " + i).setMode(RequestMode.RANK).build();
      records.add(KafkaJobFixture.record(topic, id, MessageCodec.requests().encode(request)));
      expected.put(id, "ERROR:INVALID_REQUEST");
    }
    for (int i = 0; i < MALFORMED_WITH_ID; i++) {
      String id = name + "-bad-" + i;
      String json = "{\"id\":\"" + id + "\",\"images\":[],\"instruction\":\"x\",\"num_beam\":1}";
      records.add(KafkaJobFixture.record(topic, id, json.getBytes(StandardCharsets.UTF_8)));
      expected.put(id, "ERROR:INVALID_REQUEST");
    }
    for (int i = 0; i < UNDECODABLE; i++) {
      byte[] junk = ("junk " + i).getBytes(StandardCharsets.UTF_8);
      undecodable.add(junk);
      records.add(KafkaJobFixture.record(topic, "junk-" + i, junk));
    }
    KafkaJobFixture.produce(kafka, topic, records);

    if (injectFailure) {
      KafkaJobFixture.armFailure();
    }
    StreamExecutionEnvironment env = KafkaJobFixture.environment();
    KafkaJobFixture.build(env, settings, true);
    long start = System.nanoTime();
    try {
      env.execute(name);
    } finally {
      KafkaJobFixture.disarmFailure();
    }

    List<ConsumerRecord<byte[], byte[]>> responses =
        KafkaJobFixture.readCommitted(
            kafka,
            settings.responseTopic(),
            expected.size(),
            Duration.ofSeconds(20),
            Duration.ofMillis(500));
    Map<String, String> actual = new HashMap<>();
    List<String> ids = new ArrayList<>();
    for (ConsumerRecord<byte[], byte[]> r : responses) {
      InferenceResponse response = MessageCodec.responses().decode(r.value());
      assertEquals(response.getId(), new String(r.key(), StandardCharsets.UTF_8), "key = id");
      ids.add(response.getId());
      actual.put(
          response.getId(),
          response.getStatus() == ResponseStatus.OK
              ? "OK:" + response.getText()
              : "ERROR:" + response.getError().getCode());
      assertEquals(
          "t-" + response.getId(),
          KafkaJobFixture.header(r, "trace"),
          "request headers passed through");
    }
    Map<String, Integer> counts = KafkaJobFixture.countBy(ids);
    counts.forEach((id, n) -> assertEquals(1, n, "responses for " + id));
    assertEquals(expected, actual);

    List<ConsumerRecord<byte[], byte[]>> dead =
        KafkaJobFixture.readCommitted(
            kafka,
            settings.deadLetterTopic(),
            UNDECODABLE,
            Duration.ofSeconds(10),
            Duration.ofMillis(300));
    assertEquals(UNDECODABLE, dead.size());
    List<String> deadValues = new ArrayList<>();
    for (ConsumerRecord<byte[], byte[]> r : dead) {
      deadValues.add(new String(r.value(), StandardCharsets.UTF_8));
      assertEquals("UNDECODABLE", KafkaJobFixture.header(r, DeadLetterSerializer.ERROR_CODE));
      assertTrue(
          KafkaJobFixture.header(r, DeadLetterSerializer.ERROR_MESSAGE)
              .startsWith("message is neither"));
      assertEquals(topic, KafkaJobFixture.header(r, DeadLetterSerializer.SOURCE_TOPIC));
      assertTrue(KafkaJobFixture.header(r, DeadLetterSerializer.SOURCE_OFFSET).matches("\\d+"));
      assertTrue(KafkaJobFixture.header(r, DeadLetterSerializer.SOURCE_PARTITION).matches("[01]"));
      assertEquals(
          "t-" + new String(r.key(), StandardCharsets.UTF_8),
          KafkaJobFixture.header(r, "trace"),
          "original headers");
    }
    deadValues.sort(null);
    List<String> expectedDead = new ArrayList<>();
    undecodable.forEach(b -> expectedDead.add(new String(b, StandardCharsets.UTF_8)));
    assertEquals(expectedDead, deadValues);
    System.err.printf(
        "%s: %d responses, %d dead letters, job %d ms%n",
        name,
        responses.size(),
        dead.size(),
        Duration.ofNanos(System.nanoTime() - start).toMillis());
  }

  @Test
  void submitWaitsForEveryAnswerFromARunningJob() throws Exception {
    KafkaSettings settings = KafkaJobFixture.settings(kafka, "submit");
    kafka.createTopics(
        2, settings.requestTopic(), settings.responseTopic(), settings.deadLetterTopic());
    StreamExecutionEnvironment env = KafkaJobFixture.environment();
    KafkaJobFixture.build(env, settings, false);
    JobClient job = env.executeAsync("submit");
    try {
      SubmitOptions.Builder options =
          SubmitOptions.builder()
              .bootstrapServers(kafka.bootstrapServers())
              .requestTopic(settings.requestTopic())
              .responseTopic(settings.responseTopic())
              .instruction("What is this?")
              .format(WireFormat.JSON)
              .waitForResponses(true)
              .timeout(Duration.ofSeconds(60));
      for (int i = 0; i < 12; i++) {
        options.image("file:///data/images/" + i + ".jpg");
      }
      ByteArrayOutputStream out = new ByteArrayOutputStream();
      ByteArrayOutputStream err = new ByteArrayOutputStream();
      SubmitResult result =
          new SubmitClient(options.build(), new PrintStream(out, true), new PrintStream(err, true))
              .run();
      assertTrue(result.allAnswered(), err.toString(StandardCharsets.UTF_8));
      assertEquals(12, result.responses().size());
      for (InferenceResponse response : result.responses().values()) {
        assertEquals(ResponseStatus.OK, response.getStatus());
        assertEquals("echo: What is this?", response.getText());
      }
      String[] lines = out.toString(StandardCharsets.UTF_8).split("\n");
      assertEquals(12, lines.length);
      assertTrue(err.toString(StandardCharsets.UTF_8).contains("12/12"), "progress bar");
    } finally {
      job.cancel().get();
    }
  }

  private static InferenceRequest.Builder request(String id, String instruction) {
    return InferenceRequest.newBuilder()
        .setId(id)
        .setImages(List.of(ImageInput.newBuilder().setUri("file:///data/" + id + ".jpg").build()))
        .setInstruction(instruction);
  }
}
