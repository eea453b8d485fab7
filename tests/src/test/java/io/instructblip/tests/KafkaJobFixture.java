package io.instructblip.tests;

import io.instructblip.job.kafka.DeadLetter;
import io.instructblip.job.kafka.EmbeddedKafka;
import io.instructblip.job.kafka.KafkaPipelineFactory;
import io.instructblip.job.kafka.KafkaSettings;
import io.instructblip.job.kafka.RawRecord;
import io.instructblip.job.kafka.RequestEnvelope;
import io.instructblip.job.kafka.ResponseEnvelope;
import io.instructblip.job.kafka.StartingOffsets;
import io.instructblip.job.parse.ParseRequests;
import io.instructblip.job.pipeline.StageSettings;
import io.instructblip.schema.avro.FinishReason;
import io.instructblip.schema.avro.InferenceRequest;
import io.instructblip.schema.avro.InferenceResponse;
import io.instructblip.schema.avro.ResponseStatus;
import io.instructblip.schema.avro.StageTimings;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;
import org.apache.flink.api.common.eventtime.WatermarkStrategy;
import org.apache.flink.api.common.functions.RichMapFunction;
import org.apache.flink.api.common.state.CheckpointListener;
import org.apache.flink.configuration.Configuration;
import org.apache.flink.configuration.RestartStrategyOptions;
import org.apache.flink.connector.kafka.source.KafkaSourceBuilder;
import org.apache.flink.connector.kafka.source.enumerator.initializer.OffsetsInitializer;
import org.apache.flink.runtime.state.FunctionInitializationContext;
import org.apache.flink.runtime.state.FunctionSnapshotContext;
import org.apache.flink.streaming.api.checkpoint.CheckpointedFunction;
import org.apache.flink.streaming.api.datastream.DataStream;
import org.apache.flink.streaming.api.datastream.SingleOutputStreamOperator;
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
 * A stand-in for the real job, wired exactly as the real one is at its Kafka ends: Kafka source ->
 * {@link ParseRequests} -> a map that answers every valid request with an OK response echoing the
 * instruction -> response sink (with the parser's error responses); dead letters -> dead-letter
 * sink. Plus helpers to seed and read topics.
 */
final class KafkaJobFixture {
  /** Armed: {@link EchoAnswer} slows down and throws once, after a checkpoint that has answers. */
  static final AtomicBoolean FAILURE_ARMED = new AtomicBoolean();

  static final AtomicBoolean CHECKPOINTED = new AtomicBoolean();
  static final AtomicBoolean FAILED = new AtomicBoolean();
  static final AtomicBoolean RESTORED = new AtomicBoolean();
  private static final AtomicLong ANSWERED = new AtomicLong();
  private static final AtomicLong ANSWERED_WHEN_ARMED = new AtomicLong();

  /** Makes the next job fail once, after its first checkpoint that covers some answers. */
  static void armFailure() {
    ANSWERED_WHEN_ARMED.set(ANSWERED.get());
    CHECKPOINTED.set(false);
    FAILED.set(false);
    RESTORED.set(false);
    FAILURE_ARMED.set(true);
  }

  static void disarmFailure() {
    FAILURE_ARMED.set(false);
  }

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

  /** Adds the stand-in job to {@code env}; a bounded job reads up to the end offsets at start. */
  static void build(StreamExecutionEnvironment env, KafkaSettings settings, boolean bounded) {
    KafkaPipelineFactory kafka = new KafkaPipelineFactory(settings);
    KafkaSourceBuilder<RawRecord> source =
        kafka.requestSourceBuilder().setProperty("commit.offsets.on.checkpoint", "false");
    if (bounded) {
      source.setBounded(OffsetsInitializer.latest());
    }
    DataStream<RawRecord> raw =
        env.fromSource(source.build(), WatermarkStrategy.noWatermarks(), "requests");
    SingleOutputStreamOperator<RequestEnvelope> requests =
        raw.process(new ParseRequests()).name("parse");
    DataStream<ResponseEnvelope> answers = requests.map(new EchoAnswer()).name("echo");
    answers
        .union(requests.getSideOutput(ParseRequests.ERROR_RESPONSES))
        .sinkTo(kafka.responseSink())
        .name("responses");
    DataStream<DeadLetter> deadLetters = requests.getSideOutput(ParseRequests.DEAD_LETTERS);
    deadLetters.sinkTo(kafka.deadLetterSink()).name("dead-letters");
  }

  /**
   * Answers a request with OK and the text {@code "echo: " + instruction}; when a failure is armed,
   * throws once after a completed checkpoint, and notes whether it was restored from one.
   */
  static final class EchoAnswer extends RichMapFunction<RequestEnvelope, ResponseEnvelope>
      implements CheckpointListener, CheckpointedFunction {
    private static final long serialVersionUID = 1L;

    @Override
    public ResponseEnvelope map(RequestEnvelope envelope) throws Exception {
      ANSWERED.incrementAndGet();
      if (FAILURE_ARMED.get()) {
        if (CHECKPOINTED.get()) {
          if (FAILED.compareAndSet(false, true)) {
            throw new IllegalStateException("injected failure");
          }
        } else {
          Thread.sleep(50); // keep records back until a checkpoint covers some answers
        }
      }
      InferenceRequest request = envelope.request();
      return envelope.answer(
          InferenceResponse.newBuilder()
              .setId(request.getId())
              .setStatus(ResponseStatus.OK)
              .setText("echo: " + request.getInstruction())
              .setFinishReason(FinishReason.EOS)
              .setTimings(StageTimings.newBuilder().build())
              .setMetadata(request.getMetadata())
              .setCompletedAtMs(System.currentTimeMillis())
              .build());
    }

    @Override
    public void notifyCheckpointComplete(long checkpointId) {
      if (FAILURE_ARMED.get() && ANSWERED.get() > ANSWERED_WHEN_ARMED.get()) {
        CHECKPOINTED.set(true);
      }
    }

    @Override
    public void snapshotState(FunctionSnapshotContext context) {}

    @Override
    public void initializeState(FunctionInitializationContext context) {
      if (context.isRestored()) {
        RESTORED.set(true);
      }
    }
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
