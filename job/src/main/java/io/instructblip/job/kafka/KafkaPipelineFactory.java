package io.instructblip.job.kafka;

import io.instructblip.job.registry.RegistrySettings;
import java.util.Objects;
import java.util.Properties;
import org.apache.flink.connector.base.DeliveryGuarantee;
import org.apache.flink.connector.kafka.sink.KafkaRecordSerializationSchema;
import org.apache.flink.connector.kafka.sink.KafkaSink;
import org.apache.flink.connector.kafka.source.KafkaSource;
import org.apache.flink.connector.kafka.source.KafkaSourceBuilder;
import org.apache.flink.connector.kafka.source.enumerator.initializer.OffsetsInitializer;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.OffsetResetStrategy;
import org.apache.kafka.clients.producer.ProducerConfig;

/**
 * Builds the job's Kafka source and sinks from {@link KafkaSettings}.
 *
 * <ul>
 *   <li>{@link #requestSource()}: every record of the request topic as a {@link RawRecord}; never
 *       fails on a bad record. Reads with {@code isolation.level=read_committed}, so requests from
 *       transactional producers count only once committed.
 *   <li>{@link #responseSink()}: responses keyed by request id.
 *   <li>{@link #deadLetterSink()}: unreadable records with their error in headers.
 * </ul>
 *
 * <p>With EXACTLY_ONCE both sinks write in Kafka transactions committed on Flink checkpoints
 * (transactional ids {@code <prefix>-responses-*} and {@code <prefix>-dead-letters-*}): records
 * appear to {@code read_committed} consumers only after the checkpoint that covers them, so the job
 * needs checkpointing enabled, and consumers of the response and dead-letter topics must set {@code
 * isolation.level=read_committed} (a {@code read_uncommitted} consumer also sees records of aborted
 * transactions, i.e. duplicates after a restart).
 *
 * <pre>{@code
 * KafkaPipelineFactory kafka = new KafkaPipelineFactory(settings);
 * DataStream<RawRecord> raw = env.fromSource(kafka.requestSource(), noWatermarks(), "requests");
 * responses.sinkTo(kafka.responseSink());
 * deadLetters.sinkTo(kafka.deadLetterSink());
 * }</pre>
 */
public final class KafkaPipelineFactory {
  private final KafkaSettings settings;

  public KafkaPipelineFactory(KafkaSettings settings) {
    this.settings = Objects.requireNonNull(settings, "settings");
  }

  /** The settings this factory builds from. */
  public KafkaSettings settings() {
    return settings;
  }

  /** The request source, unbounded. */
  public KafkaSource<RawRecord> requestSource() {
    return requestSourceBuilder().build();
  }

  /**
   * A source builder with everything set, for callers that add more (e.g. {@code
   * setBounded(OffsetsInitializer.latest())} for a bounded run).
   */
  public KafkaSourceBuilder<RawRecord> requestSourceBuilder() {
    Properties props = new Properties();
    props.put(ConsumerConfig.ISOLATION_LEVEL_CONFIG, "read_committed");
    props.putAll(settings.clientProperties());
    return KafkaSource.<RawRecord>builder()
        .setBootstrapServers(settings.bootstrapServers())
        .setTopics(settings.requestTopic())
        .setGroupId(settings.groupId())
        .setStartingOffsets(startingOffsets(settings.startingOffsets()))
        .setDeserializer(new RawRecordDeserializer())
        .setProperties(props);
  }

  @SuppressWarnings("deprecation") // the connector's API still takes Kafka's OffsetResetStrategy
  static OffsetsInitializer startingOffsets(StartingOffsets offsets) {
    return switch (offsets) {
      case EARLIEST -> OffsetsInitializer.earliest();
      case LATEST -> OffsetsInitializer.latest();
      case COMMITTED -> OffsetsInitializer.committedOffsets(OffsetResetStrategy.EARLIEST);
    };
  }

  /** The response sink. */
  public KafkaSink<ResponseEnvelope> responseSink() {
    return responseSink(null);
  }

  /**
   * The response sink, writing Schema Registry framing with {@code registry} when the response
   * format is {@code registry}.
   *
   * @param registry the Schema Registry, or null when none is configured
   */
  public KafkaSink<ResponseEnvelope> responseSink(RegistrySettings registry) {
    return sink(
        new ResponseSerializer(
            settings.responseTopic(), settings.responseFormat(), maxRecordBytes(), registry),
        "responses");
  }

  /**
   * The sink producer's {@code max.request.size} (the client properties', else Kafka's default):
   * responses larger than this are answered with a short error instead ({@link
   * ResponseSerializer}).
   */
  public int maxRecordBytes() {
    Object value = producerProperties().get(ProducerConfig.MAX_REQUEST_SIZE_CONFIG);
    if (value == null) {
      return ResponseSerializer.DEFAULT_MAX_RECORD_BYTES;
    }
    try {
      return Integer.parseInt(value.toString().trim());
    } catch (NumberFormatException e) {
      throw new IllegalArgumentException(
          "Kafka property max.request.size must be an integer number of bytes, got \""
              + value
              + "\"",
          e);
    }
  }

  /** The dead-letter sink. */
  public KafkaSink<DeadLetter> deadLetterSink() {
    return sink(
        new DeadLetterSerializer(settings.deadLetterTopic(), maxRecordBytes()), "dead-letters");
  }

  /** The producer properties both sinks use (client properties plus transaction timeout). */
  public Properties producerProperties() {
    Properties props = new Properties();
    props.putAll(settings.clientProperties());
    props.put(
        ProducerConfig.TRANSACTION_TIMEOUT_CONFIG,
        Long.toString(settings.transactionTimeout().toMillis()));
    return props;
  }

  private <T> KafkaSink<T> sink(KafkaRecordSerializationSchema<T> serializer, String role) {
    var builder =
        KafkaSink.<T>builder()
            .setBootstrapServers(settings.bootstrapServers())
            .setRecordSerializer(serializer)
            .setDeliveryGuarantee(settings.deliveryGuarantee())
            .setKafkaProducerConfig(producerProperties());
    if (settings.deliveryGuarantee() == DeliveryGuarantee.EXACTLY_ONCE) {
      // Two exactly-once sinks in one job need distinct prefixes, or they fence each other.
      builder.setTransactionalIdPrefix(settings.transactionalIdPrefix() + "-" + role);
    }
    return builder.build();
  }
}
