package io.instructblip.job.kafka;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.net.ServerSocket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Properties;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.serialization.ByteArrayDeserializer;
import org.apache.kafka.common.serialization.ByteArraySerializer;
import org.junit.jupiter.api.Test;

class EmbeddedKafkaITCase {

  @Test
  void producesAndConsumesRightAfterCreatingTopics() throws Exception {
    Path dataDir;
    try (EmbeddedKafka kafka = EmbeddedKafka.start()) {
      dataDir = kafka.dataDirectory();
      assertTrue(kafka.bootstrapServers().startsWith("localhost:"), kafka.bootstrapServers());
      roundTrip(kafka);
      assertTrue(Files.isDirectory(dataDir));
    }
    assertFalse(Files.exists(dataDir), "data folder removed on close");
  }

  @Test
  void clientsBootstrapThroughAFixedPort() throws Exception {
    int port;
    try (ServerSocket free = new ServerSocket(0)) {
      port = free.getLocalPort();
    }
    try (EmbeddedKafka kafka = EmbeddedKafka.start(port)) {
      assertEquals("localhost:" + port, kafka.bootstrapServers());
      roundTrip(kafka);
    }
  }

  /** Creates topics, produces ten records and reads them back, all through bootstrapServers(). */
  private static void roundTrip(EmbeddedKafka kafka) throws Exception {
    kafka.createTopics(2, "a", "b");
    kafka.createTopics(2, "a"); // existing: no error
    Properties p = kafka.clientProperties();
    p.put("max.in.flight.requests.per.connection", "1");
    try (KafkaProducer<byte[], byte[]> producer =
        new KafkaProducer<>(p, new ByteArraySerializer(), new ByteArraySerializer())) {
      for (int i = 0; i < 10; i++) {
        producer.send(new ProducerRecord<>("a", bytes("k" + i), bytes("v" + i))).get();
      }
    }
    Properties c = kafka.clientProperties();
    List<String> values = new ArrayList<>();
    try (KafkaConsumer<byte[], byte[]> consumer =
        new KafkaConsumer<>(c, new ByteArrayDeserializer(), new ByteArrayDeserializer())) {
      List<TopicPartition> partitions =
          List.of(new TopicPartition("a", 0), new TopicPartition("a", 1));
      consumer.assign(partitions);
      consumer.seekToBeginning(partitions);
      long deadline = System.nanoTime() + Duration.ofSeconds(20).toNanos();
      while (values.size() < 10 && System.nanoTime() < deadline) {
        for (ConsumerRecord<byte[], byte[]> r : consumer.poll(Duration.ofMillis(200))) {
          values.add(new String(r.value(), StandardCharsets.UTF_8));
        }
      }
    }
    values.sort(null);
    assertEquals(List.of("v0", "v1", "v2", "v3", "v4", "v5", "v6", "v7", "v8", "v9"), values);
  }

  private static byte[] bytes(String s) {
    return s.getBytes(StandardCharsets.UTF_8);
  }
}
