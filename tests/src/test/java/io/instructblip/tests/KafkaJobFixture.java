package io.instructblip.tests;

import io.instructblip.job.kafka.EmbeddedKafka;
import io.instructblip.job.kafka.KafkaSettings;
import io.instructblip.job.kafka.StartingOffsets;
import io.instructblip.job.wiring.StageSettings;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.concurrent.ExecutionException;
import org.apache.flink.configuration.Configuration;
import org.apache.flink.configuration.RestartStrategyOptions;
import org.apache.flink.streaming.api.environment.StreamExecutionEnvironment;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.PartitionInfo;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.header.Header;
import org.apache.kafka.common.serialization.ByteArrayDeserializer;
import org.apache.kafka.common.serialization.ByteArraySerializer;

/**
 * Helpers for the Kafka job's integration tests: settings, the environment, seeding and reading
 * topics.
 */
final class KafkaJobFixture {
  private KafkaJobFixture() {}

  static KafkaSettings settings(EmbeddedKafka kafka, String name) {
    return KafkaSettings.builder()
        .bootstrapServers(kafka.bootstrapServers())
        .requestTopic(name + "-requests")
        .responseTopic(name + "-responses")
        .deadLetterTopic(name + "-dead-letters")
        .groupId(name)
        .transactionalIdPrefix(name)
        .startingOffsets(StartingOffsets.EARLIEST)
        .transactionTimeout(Duration.ofMinutes(1))
        .build();
  }

  /** The stages of the tiny fixture model {@code model} on one CPU thread, batches waiting 5 ms. */
  static StageSettings cpuStages(String model) {
    return StageSettings.fromMap(
        Map.of(
            StageSettings.MODEL_DIR, GoldenCases.model(model).toString(),
            StageSettings.DEVICE, "cpu",
            StageSettings.THREADS, "1",
            StageSettings.VISION_WAIT, "5 ms",
            StageSettings.QFORMER_WAIT, "5 ms"));
  }

  static StreamExecutionEnvironment environment() {
    Configuration conf = new Configuration();
    conf.set(RestartStrategyOptions.RESTART_STRATEGY, "fixed-delay");
    conf.set(RestartStrategyOptions.RESTART_STRATEGY_FIXED_DELAY_ATTEMPTS, 3);
    conf.set(RestartStrategyOptions.RESTART_STRATEGY_FIXED_DELAY_DELAY, Duration.ofMillis(200));
    StreamExecutionEnvironment env = StreamExecutionEnvironment.createLocalEnvironment(2, conf);
    env.enableCheckpointing(300);
    return env;
  }

  /** Writes records one at a time, checking each, so none is lost on a fresh topic. */
  static void produce(
      EmbeddedKafka kafka, String topic, List<ProducerRecord<byte[], byte[]>> records)
      throws InterruptedException, ExecutionException {
    Properties p = kafka.clientProperties();
    p.put("max.in.flight.requests.per.connection", "1");
    p.put("acks", "all");
    try (KafkaProducer<byte[], byte[]> producer =
        new KafkaProducer<>(p, new ByteArraySerializer(), new ByteArraySerializer())) {
      List<java.util.concurrent.Future<?>> sends = new ArrayList<>();
      for (ProducerRecord<byte[], byte[]> r : records) {
        sends.add(producer.send(r));
      }
      producer.flush();
      for (var send : sends) {
        send.get();
      }
    }
  }

  /**
   * Reads {@code topic} from the start with read_committed until {@code expected} records arrived
   * and then for a further {@code settle}, so that duplicates would show.
   */
  static List<ConsumerRecord<byte[], byte[]>> readCommitted(
      EmbeddedKafka kafka, String topic, int expected, Duration timeout, Duration settle) {
    Properties c = kafka.clientProperties();
    c.put("isolation.level", "read_committed");
    c.put("enable.auto.commit", "false");
    List<ConsumerRecord<byte[], byte[]>> out = new ArrayList<>();
    try (KafkaConsumer<byte[], byte[]> consumer =
        new KafkaConsumer<>(c, new ByteArrayDeserializer(), new ByteArrayDeserializer())) {
      List<TopicPartition> partitions = new ArrayList<>();
      for (PartitionInfo info : consumer.partitionsFor(topic)) {
        partitions.add(new TopicPartition(topic, info.partition()));
      }
      consumer.assign(partitions);
      consumer.seekToBeginning(partitions);
      long deadline = System.nanoTime() + timeout.toNanos();
      long settleUntil = Long.MAX_VALUE;
      while (System.nanoTime() < Math.min(deadline, settleUntil)) {
        for (ConsumerRecord<byte[], byte[]> r : consumer.poll(Duration.ofMillis(100))) {
          out.add(r);
        }
        if (out.size() >= expected && settleUntil == Long.MAX_VALUE) {
          settleUntil = System.nanoTime() + settle.toNanos();
        }
      }
    }
    return out;
  }

  /** A request record with a {@code trace} header ({@code "t-" + key}), to check pass-through. */
  static ProducerRecord<byte[], byte[]> record(String topic, String key, byte[] value) {
    ProducerRecord<byte[], byte[]> r =
        new ProducerRecord<>(topic, key.getBytes(StandardCharsets.UTF_8), value);
    r.headers().add("trace", ("t-" + key).getBytes(StandardCharsets.UTF_8));
    return r;
  }

  /** A header's value as UTF-8, or null. */
  static String header(ConsumerRecord<byte[], byte[]> r, String key) {
    Header h = r.headers().lastHeader(key);
    return h == null ? null : new String(h.value(), StandardCharsets.UTF_8);
  }

  static Map<String, Integer> countBy(List<String> keys) {
    Map<String, Integer> counts = new HashMap<>();
    keys.forEach(k -> counts.merge(k, 1, Integer::sum));
    return counts;
  }
}
