package io.instructblip.tests;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.apicurio.registry.serde.avro.AvroKafkaDeserializer;
import io.apicurio.registry.serde.avro.AvroKafkaSerializer;
import io.instructblip.engine.api.EngineRequest;
import io.instructblip.job.kafka.DeadLetterSerializer;
import io.instructblip.job.kafka.EmbeddedKafka;
import io.instructblip.job.kafka.KafkaSettings;
import io.instructblip.job.registry.RegistrySettings;
import io.instructblip.job.wiring.InstructBlipJob;
import io.instructblip.schema.MessageCodec;
import io.instructblip.schema.WireFormat;
import io.instructblip.schema.avro.InferenceRequest;
import io.instructblip.schema.avro.InferenceResponse;
import io.instructblip.schema.avro.ResponseStatus;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.apache.flink.api.common.JobStatus;
import org.apache.flink.core.execution.JobClient;
import org.apache.flink.streaming.api.environment.StreamExecutionEnvironment;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.header.internals.RecordHeaders;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * Schema Registry framing end to end, against a real registry (Apicurio Registry 2.6's app in a
 * child JVM, in-memory storage), a real KRaft broker and the real job with the tiny fixture model:
 * requests written by Apicurio's off-the-shelf {@code AvroKafkaSerializer} ({@code as-confluent}:
 * 00 + 4-byte content id + Avro) are answered with the reference's tokens; the job, configured with
 * the registry's Confluent-compatible API, writes responses in the same framing with the response
 * schema registered under {@code <topic>-value}, and Apicurio's {@code AvroKafkaDeserializer} reads
 * them; a record with an id the registry does not know is dead-lettered with {@code
 * UNKNOWN_SCHEMA}; single-object Avro and JSON on the same topic are still answered.
 */
class SchemaRegistryITCase {
  private static final String MODEL = "tiny-vicuna";
  private static EmbeddedKafka kafka;
  private static ApicurioRegistryProcess registry;

  @BeforeAll
  static void start() throws Exception {
    kafka = EmbeddedKafka.start();
    registry = ApicurioRegistryProcess.start(Path.of("target", "apicurio-registry-run"));
  }

  @AfterAll
  static void stop() throws Exception {
    if (registry != null) {
      registry.close();
    }
    if (kafka != null) {
      kafka.close();
    }
  }

  @Test
  void answersRequestsFromARegistryAwareSerializerInRegistryFraming() throws Exception {
    KafkaSettings settings =
        KafkaJobFixture.settings(kafka, "registry").toBuilder()
            .responseFormat(WireFormat.REGISTRY)
            .build();
    kafka.createTopics(
        2, settings.requestTopic(), settings.responseTopic(), settings.deadLetterTopic());
    String topic = settings.requestTopic();

    Map<String, String> expected = new HashMap<>();
    List<ProducerRecord<byte[], byte[]>> records = new ArrayList<>();
    try (AvroKafkaSerializer<InferenceRequest> serializer = new AvroKafkaSerializer<>()) {
      serializer.configure(
          Map.of(
              "apicurio.registry.url", registry.coreApiUrl(),
              "apicurio.registry.auto-register", "true",
              "apicurio.registry.as-confluent", "true",
              "apicurio.registry.use-id", "contentId",
              "apicurio.registry.headers.enabled", "false"),
          false);
      for (GoldenCases.Case c : GoldenCases.cases(MODEL, "registry-")) {
        EngineRequest e = c.request();
        InferenceRequest request = c.kafkaRequest().build();
        byte[] value = serializer.serialize(topic, new RecordHeaders(), request);
        assertEquals(0, value[0], "Confluent framing: magic byte 0");
        records.add(KafkaJobFixture.record(topic, e.id(), value));
        expected.put(e.id(), "OK:" + c.expectedTokens());
      }
    }
    GoldenCases.Case first = GoldenCases.cases(MODEL, "plain-").get(0);
    for (WireFormat format : List.of(WireFormat.AVRO, WireFormat.JSON)) {
      String id = "plain-" + format;
      InferenceRequest request = first.kafkaRequest().setId(id).build();
      records.add(
          KafkaJobFixture.record(topic, id, MessageCodec.requests().encode(request, format)));
      expected.put(id, "OK:" + first.expectedTokens());
    }
    byte[] unknownId = {0, 0x7F, 0, 0, 1, 2, 'x'};
    records.add(KafkaJobFixture.record(topic, "unknown-id", unknownId));

    StreamExecutionEnvironment env = KafkaJobFixture.environment();
    new InstructBlipJob(settings, KafkaJobFixture.cpuStages(MODEL), Map.of())
        .withSchemaRegistry(RegistrySettings.of(registry.confluentApiUrl()))
        .addTo(env);
    JobClient job = env.executeAsync("registry");
    try {
      KafkaJobFixture.produce(kafka, topic, records);
      List<ConsumerRecord<byte[], byte[]>> responses =
          KafkaJobFixture.readCommitted(
              kafka,
              settings.responseTopic(),
              expected.size(),
              Duration.ofSeconds(120),
              Duration.ofSeconds(1));
      Map<String, String> actual = new HashMap<>();
      try (AvroKafkaDeserializer<InferenceResponse> deserializer = new AvroKafkaDeserializer<>()) {
        deserializer.configure(
            Map.of(
                "apicurio.registry.url", registry.coreApiUrl(),
                "apicurio.registry.as-confluent", "true",
                "apicurio.registry.use-id", "contentId",
                "apicurio.registry.headers.enabled", "false",
                "apicurio.registry.use-specific-avro-reader", "true"),
            false);
        for (ConsumerRecord<byte[], byte[]> r : responses) {
          assertEquals(0, r.value()[0], "responses in Confluent framing");
          InferenceResponse response =
              deserializer.deserialize(settings.responseTopic(), r.headers(), r.value());
          assertEquals(response.getId(), new String(r.key(), StandardCharsets.UTF_8));
          assertEquals("t-" + response.getId(), KafkaJobFixture.header(r, "trace"));
          actual.put(
              response.getId(),
              response.getStatus() == ResponseStatus.OK
                  ? "OK:" + response.getTokenIds()
                  : response.getStatus() + ":" + response.getError().getCode());
        }
      }
      assertEquals(expected, actual);
      assertEquals(expected.size(), responses.size(), "one response per request");

      List<ConsumerRecord<byte[], byte[]>> dead =
          KafkaJobFixture.readCommitted(
              kafka, settings.deadLetterTopic(), 1, Duration.ofSeconds(20), Duration.ofMillis(300));
      assertEquals(1, dead.size());
      assertEquals(
          "UNKNOWN_SCHEMA", KafkaJobFixture.header(dead.get(0), DeadLetterSerializer.ERROR_CODE));
      assertTrue(
          KafkaJobFixture.header(dead.get(0), DeadLetterSerializer.ERROR_MESSAGE)
              .startsWith(
                  "the schema registry at "
                      + registry.confluentApiUrl()
                      + " has no schema with id 2130706433 (40403: "),
          KafkaJobFixture.header(dead.get(0), DeadLetterSerializer.ERROR_MESSAGE));

      String subjects =
          HttpClient.newHttpClient()
              .send(
                  HttpRequest.newBuilder(URI.create(registry.confluentApiUrl() + "/subjects"))
                      .build(),
                  HttpResponse.BodyHandlers.ofString())
              .body();
      assertTrue(
          subjects.contains("\"" + settings.responseTopic() + "-value\""),
          "response schema registered under the topic's subject: " + subjects);
      assertEquals(JobStatus.RUNNING, job.getJobStatus().get(), "the job keeps running");
    } finally {
      job.cancel().get();
    }
  }
}
