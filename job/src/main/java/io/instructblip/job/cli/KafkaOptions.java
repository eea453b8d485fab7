package io.instructblip.job.cli;

import io.instructblip.job.config.ConfigValues;
import io.instructblip.job.config.KafkaConfigOptions;
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
   * The settings from {@code configuration}'s {@code instructblip.kafka.*} keys with these flags on
   * top.
   */
  public KafkaSettings toSettings(Configuration configuration) {
    Configuration conf = new Configuration(configuration);
    ConfigValues.putFlag(conf, KafkaConfigOptions.BOOTSTRAP_SERVERS, bootstrapServers);
    ConfigValues.putFlag(conf, KafkaConfigOptions.REQUEST_TOPIC, requestTopic);
    ConfigValues.putFlag(conf, KafkaConfigOptions.RESPONSE_TOPIC, responseTopic);
    ConfigValues.putFlag(conf, KafkaConfigOptions.DEAD_LETTER_TOPIC, deadLetterTopic);
    ConfigValues.putFlag(conf, KafkaConfigOptions.GROUP_ID, groupId);
    ConfigValues.putFlag(conf, KafkaConfigOptions.STARTING_OFFSETS, startingOffsets);
    ConfigValues.putFlag(conf, KafkaConfigOptions.DELIVERY_GUARANTEE, deliveryGuarantee);
    ConfigValues.putFlag(conf, KafkaConfigOptions.TRANSACTIONAL_ID_PREFIX, transactionalIdPrefix);
    ConfigValues.putFlag(conf, KafkaConfigOptions.TRANSACTION_TIMEOUT, transactionTimeout);
    ConfigValues.putFlag(conf, KafkaConfigOptions.RESPONSE_FORMAT, responseFormat);
    properties.forEach((k, v) -> conf.setString(KafkaConfigOptions.PROPERTY_PREFIX + k, v));
    return KafkaSettings.fromConfiguration(conf);
  }
}
