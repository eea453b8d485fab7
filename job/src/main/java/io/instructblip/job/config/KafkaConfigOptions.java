package io.instructblip.job.config;

import static org.apache.flink.configuration.ConfigOptions.key;

import io.instructblip.job.kafka.StartingOffsets;
import io.instructblip.schema.WireFormat;
import java.time.Duration;
import java.util.List;
import org.apache.flink.configuration.ConfigOption;
import org.apache.flink.connector.base.DeliveryGuarantee;

/**
 * The {@code instructblip.kafka.*} keys of {@link io.instructblip.job.kafka.KafkaSettings}: typed,
 * with their defaults and descriptions; plus the pass-through prefix {@value #PROPERTY_PREFIX} for
 * Kafka client properties.
 */
public final class KafkaConfigOptions {
  /** Prefix of every key of this group. */
  public static final String PREFIX = "instructblip.kafka.";

  /** Prefix of a pass-through Kafka client property, e.g. {@code ...property.security.protocol}. */
  public static final String PROPERTY_PREFIX = PREFIX + "property.";

  public static final ConfigOption<String> BOOTSTRAP_SERVERS =
      key(PREFIX + "bootstrap-servers")
          .stringType()
          .noDefaultValue()
          .withDescription("Kafka bootstrap.servers, e.g. broker1:9092,broker2:9092 (required).");

  public static final ConfigOption<String> REQUEST_TOPIC =
      key(PREFIX + "request-topic")
          .stringType()
          .defaultValue("instructblip-requests")
          .withDescription("The topic the job reads requests from.");

  public static final ConfigOption<String> RESPONSE_TOPIC =
      key(PREFIX + "response-topic")
          .stringType()
          .defaultValue("instructblip-responses")
          .withDescription("The topic the job writes one response per request to.");

  public static final ConfigOption<String> DEAD_LETTER_TOPIC =
      key(PREFIX + "dead-letter-topic")
          .stringType()
          .defaultValue("instructblip-dead-letters")
          .withDescription("The topic for records that are no readable request.");

  public static final ConfigOption<String> GROUP_ID =
      key(PREFIX + "group-id")
          .stringType()
          .defaultValue("instructblip")
          .withDescription("The consumer group of the job's source.");

  public static final ConfigOption<StartingOffsets> STARTING_OFFSETS =
      key(PREFIX + "starting-offsets")
          .enumType(StartingOffsets.class)
          .defaultValue(StartingOffsets.COMMITTED)
          .withDescription(
              "earliest, latest or committed: where to start reading without a checkpoint.");

  public static final ConfigOption<DeliveryGuarantee> DELIVERY_GUARANTEE =
      key(PREFIX + "delivery-guarantee")
          .enumType(DeliveryGuarantee.class)
          .defaultValue(DeliveryGuarantee.EXACTLY_ONCE)
          .withDescription(
              "exactly-once (Kafka transactions; consumers read_committed) or at-least-once.");

  public static final ConfigOption<String> TRANSACTIONAL_ID_PREFIX =
      key(PREFIX + "transactional-id-prefix")
          .stringType()
          .defaultValue("instructblip")
          .withDescription("Prefix of the sinks' transactional ids; unique per job on a cluster.");

  public static final ConfigOption<Duration> TRANSACTION_TIMEOUT =
      key(PREFIX + "transaction-timeout")
          .durationType()
          .defaultValue(Duration.ofMinutes(10))
          .withDescription(
              "transaction.timeout.ms of the sinks' producers; at most the broker's"
                  + " transaction.max.timeout.ms (15 min by default).");

  public static final ConfigOption<WireFormat> RESPONSE_FORMAT =
      key(PREFIX + "response-format")
          .enumType(WireFormat.class)
          .defaultValue(WireFormat.AVRO)
          .withDescription("avro or json: the wire format of responses.");

  /** Every option of this group, in the documentation's order. */
  public static final List<ConfigOption<?>> ALL =
      List.of(
          BOOTSTRAP_SERVERS,
          REQUEST_TOPIC,
          RESPONSE_TOPIC,
          DEAD_LETTER_TOPIC,
          GROUP_ID,
          STARTING_OFFSETS,
          DELIVERY_GUARANTEE,
          TRANSACTIONAL_ID_PREFIX,
          TRANSACTION_TIMEOUT,
          RESPONSE_FORMAT);

  private KafkaConfigOptions() {}
}
