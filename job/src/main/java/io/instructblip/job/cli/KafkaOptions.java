package io.instructblip.job.cli;

import io.instructblip.job.kafka.KafkaSettings;
import java.util.LinkedHashMap;
import java.util.Map;
import org.apache.flink.configuration.Configuration;
import picocli.CommandLine.Option;

/**
 * The Kafka flags of the job's commands, as a picocli mixin ({@code @Mixin KafkaOptions kafka;}). A
 * flag that is given overrides the same {@code instructblip.kafka.*} key of the Flink
 * configuration; what neither sets takes the {@link KafkaSettings} default. docs/kafka.md lists
 * them.
 */
public final class KafkaOptions {
  @Option(
      names = "--bootstrap-servers",
      paramLabel = "HOST:PORT[,...]",
      description = "Kafka bootstrap servers.")
  String bootstrapServers;

  @Option(names = "--request-topic", paramLabel = "TOPIC", description = "Request topic.")
  String requestTopic;

  @Option(names = "--response-topic", paramLabel = "TOPIC", description = "Response topic.")
  String responseTopic;

  @Option(
      names = "--dead-letter-topic",
      paramLabel = "TOPIC",
      description = "Topic for records that are no readable request.")
  String deadLetterTopic;

  @Option(names = "--group-id", paramLabel = "ID", description = "Consumer group id.")
  String groupId;

  @Option(
      names = "--starting-offsets",
      paramLabel = "WHERE",
      description = "earliest, latest or committed: where to start without a checkpoint.")
  String startingOffsets;

  @Option(
      names = "--delivery-guarantee",
      paramLabel = "GUARANTEE",
      description = "exactly-once or at-least-once.")
  String deliveryGuarantee;

  @Option(
      names = "--transactional-id-prefix",
      paramLabel = "PREFIX",
      description = "Prefix of the sinks' transactional ids; unique per job on the cluster.")
  String transactionalIdPrefix;

  @Option(
      names = "--transaction-timeout",
      paramLabel = "DURATION",
      description = "transaction.timeout.ms of the sinks, e.g. \"10 min\"; at most 15 min.")
  String transactionTimeout;

  @Option(
      names = "--response-format",
      paramLabel = "FORMAT",
      description =
          "avro, json or registry (Schema Registry framing; needs instructblip.registry.url):"
              + " the wire format of responses.")
  String responseFormat;

  @Option(
      names = "--kafka-property",
      paramLabel = "KEY=VALUE",
      description = "Extra Kafka client property for source and sinks (TLS, SASL); repeatable.")
  Map<String, String> properties = new LinkedHashMap<>();

  /**
   * The settings from {@code configuration}'s {@code instructblip.kafka.*} keys and these flags.
   */
  public KafkaSettings toSettings(Configuration configuration) {
    Map<String, String> values = new LinkedHashMap<>();
    configuration
        .toMap()
        .forEach(
            (k, v) -> {
              if (k.startsWith(KafkaSettings.CONFIG_PREFIX)) {
                values.put(k.substring(KafkaSettings.CONFIG_PREFIX.length()), v);
              }
            });
    put(values, KafkaSettings.BOOTSTRAP_SERVERS, bootstrapServers);
    put(values, KafkaSettings.REQUEST_TOPIC, requestTopic);
    put(values, KafkaSettings.RESPONSE_TOPIC, responseTopic);
    put(values, KafkaSettings.DEAD_LETTER_TOPIC, deadLetterTopic);
    put(values, KafkaSettings.GROUP_ID, groupId);
    put(values, KafkaSettings.STARTING_OFFSETS, startingOffsets);
    put(values, KafkaSettings.DELIVERY_GUARANTEE, deliveryGuarantee);
    put(values, KafkaSettings.TRANSACTIONAL_ID_PREFIX, transactionalIdPrefix);
    put(values, KafkaSettings.TRANSACTION_TIMEOUT, transactionTimeout);
    put(values, KafkaSettings.RESPONSE_FORMAT, responseFormat);
    properties.forEach((k, v) -> values.put(KafkaSettings.PROPERTY_PREFIX + k, v));
    return KafkaSettings.fromMap(values);
  }

  private static void put(Map<String, String> values, String key, String value) {
    if (value != null) {
      values.put(key, value);
    }
  }
}
