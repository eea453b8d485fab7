package io.instructblip.tests;

import io.instructblip.schema.MessageCodec;
import io.instructblip.schema.MessageFormatException;
import io.instructblip.schema.avro.InferenceResponse;
import io.instructblip.schema.avro.ResponseStatus;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.common.PartitionInfo;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.serialization.ByteArrayDeserializer;

/**
 * Every response a read_committed consumer sees on a topic, read from the start by a background
 * thread, as "id -> outcomes" ({@code OK:[token ids]} or {@code STATUS:CODE}), so a test can wait
 * for answers while it kills and restarts things, and then check each was answered exactly once.
 */
final class ResponseLog implements AutoCloseable {
  private final Thread reader;
  private final Map<String, List<String>> outcomes = new HashMap<>();
  private volatile boolean running = true;
  private volatile RuntimeException failure;

  ResponseLog(Properties kafka, String topic) {
    Properties c = new Properties();
    c.putAll(kafka);
    c.put("isolation.level", "read_committed");
    c.put("enable.auto.commit", "false");
    reader =
        new Thread(
            () -> {
              try (KafkaConsumer<byte[], byte[]> consumer =
                  new KafkaConsumer<>(
                      c, new ByteArrayDeserializer(), new ByteArrayDeserializer())) {
                List<TopicPartition> partitions = new ArrayList<>();
                for (PartitionInfo info : consumer.partitionsFor(topic)) {
                  partitions.add(new TopicPartition(topic, info.partition()));
                }
                consumer.assign(partitions);
                consumer.seekToBeginning(partitions);
                while (running) {
                  for (ConsumerRecord<byte[], byte[]> r : consumer.poll(Duration.ofMillis(100))) {
                    add(MessageCodec.responses().decode(r.value()));
                  }
                }
              } catch (RuntimeException e) {
                failure = e;
              } catch (MessageFormatException e) {
                failure = new IllegalStateException("an unreadable response", e);
              }
            },
            "responses-" + topic);
    reader.setDaemon(true);
    reader.start();
  }

  private synchronized void add(InferenceResponse r) {
    String outcome =
        r.getStatus() == ResponseStatus.OK
            ? "OK:" + r.getTokenIds()
            : r.getStatus() + ":" + r.getError().getCode();
    outcomes.computeIfAbsent(r.getId(), k -> new ArrayList<>()).add(outcome);
  }

  /** Responses seen so far (duplicates counted). */
  synchronized int size() {
    if (failure != null) {
      throw failure;
    }
    return outcomes.values().stream().mapToInt(List::size).sum();
  }

  /** Waits until at least {@code n} responses arrived. */
  void awaitAtLeast(int n, Duration timeout) throws InterruptedException {
    FlinkProcessCluster.awaitTrue(
        n + " responses (have " + size() + ")", timeout, () -> size() >= n);
  }

  /**
   * Waits for the {@code expected} ids and a while longer (so late duplicates would show); returns
   * what went wrong: ids missing, answered more than once, or answered differently.
   */
  Check check(Map<String, String> expected, Duration timeout, Duration settle)
      throws InterruptedException {
    long deadline = System.nanoTime() + timeout.toNanos();
    while (System.nanoTime() < deadline && !answeredAll(expected)) {
      Thread.sleep(100);
    }
    Thread.sleep(settle.toMillis());
    synchronized (this) {
      int lost = 0;
      int duplicated = 0;
      List<String> wrong = new ArrayList<>();
      for (Map.Entry<String, String> e : expected.entrySet()) {
        List<String> got = outcomes.getOrDefault(e.getKey(), List.of());
        if (got.isEmpty()) {
          lost++;
        } else {
          duplicated += got.size() - 1;
          if (!got.get(0).equals(e.getValue())) {
            wrong.add(e.getKey() + ": expected " + e.getValue() + ", got " + got.get(0));
          }
        }
      }
      return new Check(expected.size(), lost, duplicated, wrong);
    }
  }

  private synchronized boolean answeredAll(Map<String, String> expected) {
    return outcomes.keySet().containsAll(expected.keySet());
  }

  /** What {@link #check} found. */
  record Check(int requests, int lost, int duplicated, List<String> wrong) {
    boolean exactlyOnce() {
      return lost == 0 && duplicated == 0 && wrong.isEmpty();
    }
  }

  @Override
  public void close() throws InterruptedException {
    running = false;
    reader.join(5000);
  }
}
