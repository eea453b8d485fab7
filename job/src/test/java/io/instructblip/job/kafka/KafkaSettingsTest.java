package io.instructblip.job.kafka;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.instructblip.schema.WireFormat;
import java.time.Duration;
import java.util.LinkedHashMap;
import java.util.Map;
import org.apache.flink.configuration.Configuration;
import org.apache.flink.connector.base.DeliveryGuarantee;
import org.junit.jupiter.api.Test;

class KafkaSettingsTest {

  @Test
  void defaults() {
    KafkaSettings s = KafkaSettings.builder().bootstrapServers("b:9092").build();
    assertEquals("b:9092", s.bootstrapServers());
    assertEquals("instructblip-requests", s.requestTopic());
    assertEquals("instructblip-responses", s.responseTopic());
    assertEquals("instructblip-dead-letters", s.deadLetterTopic());
    assertEquals("instructblip", s.groupId());
    assertEquals(StartingOffsets.COMMITTED, s.startingOffsets());
    assertEquals(DeliveryGuarantee.EXACTLY_ONCE, s.deliveryGuarantee());
    assertEquals("instructblip", s.transactionalIdPrefix());
    assertEquals(Duration.ofMinutes(10), s.transactionTimeout());
    assertEquals(WireFormat.AVRO, s.responseFormat());
    assertEquals(Map.of(), s.clientProperties());
  }

  @Test
  void parsesCliStyleKeyValues() {
    Map<String, String> m = new LinkedHashMap<>();
    m.put("bootstrap-servers", " h1:9092,h2:9092 ");
    m.put("request-topic", "in");
    m.put("response-topic", "out");
    m.put("dead-letter-topic", "dlq");
    m.put("group-id", "g");
    m.put("starting-offsets", "latest");
    m.put("delivery-guarantee", "at-least-once");
    m.put("transactional-id-prefix", "p");
    m.put("transaction-timeout", "5 min");
    m.put("response-format", "json");
    m.put("property.security.protocol", "SSL");
    KafkaSettings s = KafkaSettings.fromMap(m);
    assertEquals("h1:9092,h2:9092", s.bootstrapServers());
    assertEquals("in", s.requestTopic());
    assertEquals("out", s.responseTopic());
    assertEquals("dlq", s.deadLetterTopic());
    assertEquals("g", s.groupId());
    assertEquals(StartingOffsets.LATEST, s.startingOffsets());
    assertEquals(DeliveryGuarantee.AT_LEAST_ONCE, s.deliveryGuarantee());
    assertEquals("p", s.transactionalIdPrefix());
    assertEquals(Duration.ofMinutes(5), s.transactionTimeout());
    assertEquals(WireFormat.JSON, s.responseFormat());
    assertEquals(Map.of("security.protocol", "SSL"), s.clientProperties());
  }

  @Test
  void roundTripsThroughAFlinkConfiguration() {
    KafkaSettings s =
        KafkaSettings.builder()
            .bootstrapServers("b:1")
            .groupId("g2")
            .transactionTimeout(Duration.ofSeconds(90))
            .clientProperty("sasl.mechanism", "PLAIN")
            .build();
    Configuration conf = Configuration.fromMap(s.toConfigurationMap());
    conf.setString("unrelated.key", "x");
    assertEquals(s, KafkaSettings.fromConfiguration(conf));
    assertEquals("b:1", s.toConfigurationMap().get("instructblip.kafka.bootstrap-servers"));
    assertEquals("PLAIN", s.toConfigurationMap().get("instructblip.kafka.property.sasl.mechanism"));
  }

  @Test
  void rejectsWithMessagesThatSayWhatToDo() {
    assertMessage(
        "bootstrap-servers is required (e.g. localhost:9092)",
        () -> KafkaSettings.builder().build());
    assertMessage(
        "unknown setting instructblip.kafka.request-topics; known:"
            + " instructblip.kafka.bootstrap-servers, instructblip.kafka.request-topic,"
            + " instructblip.kafka.response-topic, instructblip.kafka.dead-letter-topic,"
            + " instructblip.kafka.group-id, instructblip.kafka.starting-offsets,"
            + " instructblip.kafka.delivery-guarantee, instructblip.kafka.transactional-id-prefix,"
            + " instructblip.kafka.transaction-timeout, instructblip.kafka.response-format,"
            + " instructblip.kafka.property.<name>",
        () -> KafkaSettings.fromMap(Map.of("bootstrap-servers", "b:1", "request-topics", "x")));
    assertTrue(
        assertThrows(
                IllegalArgumentException.class,
                () -> KafkaSettings.fromMap(Map.of("bootstrap-servers", "b:1", "property.", "x")))
            .getMessage()
            .startsWith("unknown setting instructblip.kafka.property.; known:"));
    assertMessage(
        "instructblip.kafka.starting-offsets must be one of earliest, latest, committed, got"
            + " \"newest\"",
        () ->
            KafkaSettings.fromMap(
                Map.of("bootstrap-servers", "b:1", "starting-offsets", "newest")));
    assertMessage(
        "instructblip.kafka.delivery-guarantee must be one of exactly-once, at-least-once, got"
            + " \"none\"",
        () ->
            KafkaSettings.fromMap(
                Map.of("bootstrap-servers", "b:1", "delivery-guarantee", "none")));
    assertMessage(
        "transaction-timeout must be more than 0 and at most 15 min (the broker's default"
            + " transaction.max.timeout.ms), got PT1H; keep it above the checkpoint interval, and"
            + " raise the broker's transaction.max.timeout.ms before going higher",
        () ->
            KafkaSettings.builder()
                .bootstrapServers("b:1")
                .transactionTimeout(Duration.ofHours(1))
                .build());
    assertMessage(
        "request, response and dead-letter topics must be three different topics, got t,"
            + " instructblip-responses and t; set request-topic, response-topic and"
            + " dead-letter-topic apart",
        () ->
            KafkaSettings.builder()
                .bootstrapServers("b:1")
                .requestTopic("t")
                .deadLetterTopic("t")
                .build());
    assertMessage(
        "transactional-id-prefix is required (EXACTLY_ONCE needs one, unique per job on the Kafka"
            + " cluster)",
        () -> KafkaSettings.builder().bootstrapServers("b:1").transactionalIdPrefix("").build());
    assertMessage(
        "Kafka client property transactional.id is set by the job; use the job's own setting"
            + " instead (see docs/kafka.md)",
        () ->
            KafkaSettings.builder()
                .bootstrapServers("b:1")
                .clientProperty("transactional.id", "x")
                .build());
    assertMessage(
        "instructblip.kafka.transaction-timeout must be a duration such as \"10 ms\", \"30 s\" or"
            + " \"10 min\", got \"ten minutes\"",
        () ->
            KafkaSettings.fromMap(
                Map.of("bootstrap-servers", "b:1", "transaction-timeout", "ten minutes")));
  }

  @Test
  void atLeastOnceNeedsNoTransactionalIdPrefix() {
    KafkaSettings s =
        KafkaSettings.builder()
            .bootstrapServers("b:1")
            .deliveryGuarantee(DeliveryGuarantee.AT_LEAST_ONCE)
            .transactionalIdPrefix("")
            .build();
    assertEquals(DeliveryGuarantee.AT_LEAST_ONCE, s.deliveryGuarantee());
  }

  private static void assertMessage(String expected, Runnable action) {
    IllegalArgumentException e = assertThrows(IllegalArgumentException.class, action::run);
    assertEquals(expected, e.getMessage());
  }
}
