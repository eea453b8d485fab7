package io.instructblip.job.kafka;

import io.instructblip.job.config.ConfigValues;
import io.instructblip.job.config.KafkaConfigOptions;
import io.instructblip.schema.WireFormat;
import java.time.Duration;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Set;
import org.apache.flink.configuration.ReadableConfig;
import org.apache.flink.connector.base.DeliveryGuarantee;

/**
 * Everything the job needs to know about Kafka: where the broker is, the three topics, how to
 * consume and how to produce. Build with {@link #builder()} (defaults below), or read from a Flink
 * configuration ({@link #fromConfiguration}: the keys of {@link KafkaConfigOptions}) or CLI-style
 * key/values ({@link #fromMap}); docs/kafka.md lists every setting.
 *
 * <pre>{@code
 * KafkaSettings settings = KafkaSettings.builder()
 *     .bootstrapServers("broker:9092")
 *     .requestTopic("instructblip-requests")
 *     .clientProperty("security.protocol", "SSL")
 *     .build();
 * }</pre>
 *
 * @param bootstrapServers Kafka {@code bootstrap.servers}, e.g. {@code host1:9092,host2:9092}
 * @param requestTopic the topic the job reads requests from
 * @param responseTopic the topic the job writes one response per request to
 * @param deadLetterTopic the topic for records that are no readable request
 * @param groupId the consumer group id of the job's source
 * @param startingOffsets where to start reading without a checkpoint
 * @param deliveryGuarantee EXACTLY_ONCE (transactions; consumers must read_committed) or
 *     AT_LEAST_ONCE
 * @param transactionalIdPrefix prefix of the sinks' transactional ids; unique per job on a cluster
 * @param transactionTimeout {@code transaction.timeout.ms} of the sinks' producers; must not exceed
 *     the broker's {@code transaction.max.timeout.ms} (15 min by default)
 * @param responseFormat the wire format of responses (requests are detected per record)
 * @param clientProperties extra Kafka client properties for source and sinks (TLS, SASL, ...)
 */
public record KafkaSettings(
    String bootstrapServers,
    String requestTopic,
    String responseTopic,
    String deadLetterTopic,
    String groupId,
    StartingOffsets startingOffsets,
    DeliveryGuarantee deliveryGuarantee,
    String transactionalIdPrefix,
    Duration transactionTimeout,
    WireFormat responseFormat,
    Map<String, String> clientProperties) {

  public static final String DEFAULT_REQUEST_TOPIC =
      KafkaConfigOptions.REQUEST_TOPIC.defaultValue();
  public static final String DEFAULT_RESPONSE_TOPIC =
      KafkaConfigOptions.RESPONSE_TOPIC.defaultValue();
  public static final String DEFAULT_DEAD_LETTER_TOPIC =
      KafkaConfigOptions.DEAD_LETTER_TOPIC.defaultValue();
  public static final String DEFAULT_GROUP_ID = KafkaConfigOptions.GROUP_ID.defaultValue();
  public static final StartingOffsets DEFAULT_STARTING_OFFSETS =
      KafkaConfigOptions.STARTING_OFFSETS.defaultValue();
  public static final DeliveryGuarantee DEFAULT_DELIVERY_GUARANTEE =
      KafkaConfigOptions.DELIVERY_GUARANTEE.defaultValue();
  public static final String DEFAULT_TRANSACTIONAL_ID_PREFIX =
      KafkaConfigOptions.TRANSACTIONAL_ID_PREFIX.defaultValue();
  public static final Duration DEFAULT_TRANSACTION_TIMEOUT =
      KafkaConfigOptions.TRANSACTION_TIMEOUT.defaultValue();
  public static final WireFormat DEFAULT_RESPONSE_FORMAT =
      KafkaConfigOptions.RESPONSE_FORMAT.defaultValue();

  /** The broker's default {@code transaction.max.timeout.ms}. */
  public static final Duration BROKER_MAX_TRANSACTION_TIMEOUT = Duration.ofMinutes(15);

  /** Prefix of this job's keys in a Flink configuration. */
  public static final String CONFIG_PREFIX = KafkaConfigOptions.PREFIX;

  /** Prefix of a pass-through Kafka client property, e.g. {@code property.security.protocol}. */
  public static final String PROPERTY_PREFIX =
      KafkaConfigOptions.PROPERTY_PREFIX.substring(CONFIG_PREFIX.length());

  // the keys' names without the prefix, as the error messages and the flags name them
  private static final String BOOTSTRAP_SERVERS =
      ConfigValues.nameIn(KafkaConfigOptions.PREFIX, KafkaConfigOptions.BOOTSTRAP_SERVERS);
  private static final String REQUEST_TOPIC =
      ConfigValues.nameIn(KafkaConfigOptions.PREFIX, KafkaConfigOptions.REQUEST_TOPIC);
  private static final String RESPONSE_TOPIC =
      ConfigValues.nameIn(KafkaConfigOptions.PREFIX, KafkaConfigOptions.RESPONSE_TOPIC);
  private static final String DEAD_LETTER_TOPIC =
      ConfigValues.nameIn(KafkaConfigOptions.PREFIX, KafkaConfigOptions.DEAD_LETTER_TOPIC);
  private static final String GROUP_ID =
      ConfigValues.nameIn(KafkaConfigOptions.PREFIX, KafkaConfigOptions.GROUP_ID);
  private static final String STARTING_OFFSETS =
      ConfigValues.nameIn(KafkaConfigOptions.PREFIX, KafkaConfigOptions.STARTING_OFFSETS);
  private static final String DELIVERY_GUARANTEE =
      ConfigValues.nameIn(KafkaConfigOptions.PREFIX, KafkaConfigOptions.DELIVERY_GUARANTEE);
  private static final String TRANSACTIONAL_ID_PREFIX =
      ConfigValues.nameIn(KafkaConfigOptions.PREFIX, KafkaConfigOptions.TRANSACTIONAL_ID_PREFIX);
  private static final String TRANSACTION_TIMEOUT =
      ConfigValues.nameIn(KafkaConfigOptions.PREFIX, KafkaConfigOptions.TRANSACTION_TIMEOUT);
  private static final String RESPONSE_FORMAT =
      ConfigValues.nameIn(KafkaConfigOptions.PREFIX, KafkaConfigOptions.RESPONSE_FORMAT);

  /** Client properties the job sets itself; passing them through would break it. */
  static final Set<String> MANAGED_PROPERTIES =
      Set.of(
          "bootstrap.servers",
          "group.id",
          "key.serializer",
          "value.serializer",
          "key.deserializer",
          "value.deserializer",
          "transactional.id",
          "transaction.timeout.ms");

  public KafkaSettings {
    bootstrapServers = requireText(bootstrapServers, BOOTSTRAP_SERVERS, "e.g. localhost:9092");
    requestTopic = requireText(requestTopic, REQUEST_TOPIC, "the topic requests are written to");
    responseTopic = requireText(responseTopic, RESPONSE_TOPIC, "the topic for responses");
    deadLetterTopic =
        requireText(deadLetterTopic, DEAD_LETTER_TOPIC, "the topic for unreadable records");
    groupId = requireText(groupId, GROUP_ID, "the consumer group of the job");
    Objects.requireNonNull(startingOffsets, STARTING_OFFSETS);
    Objects.requireNonNull(deliveryGuarantee, DELIVERY_GUARANTEE);
    Objects.requireNonNull(transactionTimeout, TRANSACTION_TIMEOUT);
    Objects.requireNonNull(responseFormat, RESPONSE_FORMAT);
    if (requestTopic.equals(responseTopic)
        || requestTopic.equals(deadLetterTopic)
        || responseTopic.equals(deadLetterTopic)) {
      throw new IllegalArgumentException(
          "request, response and dead-letter topics must be three different topics, got "
              + requestTopic
              + ", "
              + responseTopic
              + " and "
              + deadLetterTopic
              + "; set "
              + REQUEST_TOPIC
              + ", "
              + RESPONSE_TOPIC
              + " and "
              + DEAD_LETTER_TOPIC
              + " apart");
    }
    if (deliveryGuarantee == DeliveryGuarantee.NONE) {
      throw new IllegalArgumentException(
          DELIVERY_GUARANTEE
              + " NONE may lose responses; use EXACTLY_ONCE (the default) or AT_LEAST_ONCE");
    }
    if (deliveryGuarantee == DeliveryGuarantee.EXACTLY_ONCE) {
      transactionalIdPrefix =
          requireText(
              transactionalIdPrefix,
              TRANSACTIONAL_ID_PREFIX,
              "EXACTLY_ONCE needs one, unique per job on the Kafka cluster");
    }
    if (transactionTimeout.isNegative()
        || transactionTimeout.isZero()
        || transactionTimeout.compareTo(BROKER_MAX_TRANSACTION_TIMEOUT) > 0) {
      throw new IllegalArgumentException(
          TRANSACTION_TIMEOUT
              + " must be more than 0 and at most "
              + BROKER_MAX_TRANSACTION_TIMEOUT.toMinutes()
              + " min (the broker's default transaction.max.timeout.ms), got "
              + transactionTimeout
              + "; keep it above the checkpoint interval, and raise the broker's"
              + " transaction.max.timeout.ms before going higher");
    }
    clientProperties =
        clientProperties == null ? Map.of() : Map.copyOf(new LinkedHashMap<>(clientProperties));
    for (String key : clientProperties.keySet()) {
      if (MANAGED_PROPERTIES.contains(key)) {
        throw new IllegalArgumentException(
            "Kafka client property "
                + key
                + " is set by the job; use the job's own setting instead (see docs/kafka.md)");
      }
    }
  }

  private static String requireText(String value, String key, String hint) {
    if (value == null || value.isBlank()) {
      throw new IllegalArgumentException(key + " is required (" + hint + ")");
    }
    return value.strip();
  }

  /** A builder with every default set; only the bootstrap servers have none. */
  public static Builder builder() {
    return new Builder();
  }

  /** A builder that starts from these settings. */
  public Builder toBuilder() {
    Builder b = new Builder();
    b.bootstrapServers = bootstrapServers;
    b.requestTopic = requestTopic;
    b.responseTopic = responseTopic;
    b.deadLetterTopic = deadLetterTopic;
    b.groupId = groupId;
    b.startingOffsets = startingOffsets;
    b.deliveryGuarantee = deliveryGuarantee;
    b.transactionalIdPrefix = transactionalIdPrefix;
    b.transactionTimeout = transactionTimeout;
    b.responseFormat = responseFormat;
    b.clientProperties.putAll(clientProperties);
    return b;
  }

  /**
   * Settings from CLI-style key/values: the {@link KafkaConfigOptions} keys without {@code
   * instructblip.kafka.} (e.g. {@code request-topic}) and {@code property.<kafka client property>};
   * as {@link #fromConfiguration}.
   */
  public static KafkaSettings fromMap(Map<String, String> values) {
    return fromConfiguration(ConfigValues.withPrefix(CONFIG_PREFIX, values));
  }

  /**
   * Settings from a Flink configuration: the {@link KafkaConfigOptions} (e.g. {@code
   * instructblip.kafka.request-topic}) and {@code instructblip.kafka.property.<kafka client
   * property>} (e.g. {@code instructblip.kafka.property.security.protocol}); absent keys take their
   * defaults. An unknown key under {@code instructblip.kafka.} is an error, so that a misspelled
   * one does not silently mean "default".
   */
  public static KafkaSettings fromConfiguration(ReadableConfig conf) {
    ConfigValues.rejectUnknown(
        conf,
        List.of(CONFIG_PREFIX),
        KafkaConfigOptions.ALL,
        List.of(KafkaConfigOptions.PROPERTY_PREFIX));
    Builder b =
        builder()
            .requestTopic(conf.get(KafkaConfigOptions.REQUEST_TOPIC))
            .responseTopic(conf.get(KafkaConfigOptions.RESPONSE_TOPIC))
            .deadLetterTopic(conf.get(KafkaConfigOptions.DEAD_LETTER_TOPIC))
            .groupId(conf.get(KafkaConfigOptions.GROUP_ID))
            .startingOffsets(
                ConfigValues.choice(
                    conf, KafkaConfigOptions.STARTING_OFFSETS, List.of(StartingOffsets.values())))
            .deliveryGuarantee(
                ConfigValues.choice(
                    conf,
                    KafkaConfigOptions.DELIVERY_GUARANTEE,
                    List.of(DeliveryGuarantee.EXACTLY_ONCE, DeliveryGuarantee.AT_LEAST_ONCE)))
            .transactionalIdPrefix(conf.get(KafkaConfigOptions.TRANSACTIONAL_ID_PREFIX))
            .transactionTimeout(
                ConfigValues.get(
                    conf, KafkaConfigOptions.TRANSACTION_TIMEOUT, ConfigValues.DURATION))
            .responseFormat(
                ConfigValues.choice(
                    conf, KafkaConfigOptions.RESPONSE_FORMAT, List.of(WireFormat.values())));
    conf.getOptional(KafkaConfigOptions.BOOTSTRAP_SERVERS).ifPresent(b::bootstrapServers);
    conf.toMap()
        .forEach(
            (k, v) -> {
              if (k.startsWith(KafkaConfigOptions.PROPERTY_PREFIX)) {
                b.clientProperty(k.substring(KafkaConfigOptions.PROPERTY_PREFIX.length()), v);
              }
            });
    return b.build();
  }

  /**
   * These settings as {@code instructblip.kafka.*} keys, the inverse of {@link #fromConfiguration}.
   */
  public Map<String, String> toConfigurationMap() {
    Map<String, String> m = new LinkedHashMap<>();
    m.put(KafkaConfigOptions.BOOTSTRAP_SERVERS.key(), bootstrapServers);
    m.put(KafkaConfigOptions.REQUEST_TOPIC.key(), requestTopic);
    m.put(KafkaConfigOptions.RESPONSE_TOPIC.key(), responseTopic);
    m.put(KafkaConfigOptions.DEAD_LETTER_TOPIC.key(), deadLetterTopic);
    m.put(KafkaConfigOptions.GROUP_ID.key(), groupId);
    m.put(KafkaConfigOptions.STARTING_OFFSETS.key(), ConfigValues.name(startingOffsets));
    m.put(KafkaConfigOptions.DELIVERY_GUARANTEE.key(), ConfigValues.name(deliveryGuarantee));
    if (transactionalIdPrefix != null) {
      m.put(KafkaConfigOptions.TRANSACTIONAL_ID_PREFIX.key(), transactionalIdPrefix);
    }
    m.put(KafkaConfigOptions.TRANSACTION_TIMEOUT.key(), transactionTimeout.toMillis() + " ms");
    m.put(KafkaConfigOptions.RESPONSE_FORMAT.key(), ConfigValues.name(responseFormat));
    clientProperties.forEach((k, v) -> m.put(KafkaConfigOptions.PROPERTY_PREFIX + k, v));
    return m;
  }

  /** Builder for {@link KafkaSettings}; every setter rejects null, {@link #build()} validates. */
  public static final class Builder {
    private String bootstrapServers;
    private String requestTopic = DEFAULT_REQUEST_TOPIC;
    private String responseTopic = DEFAULT_RESPONSE_TOPIC;
    private String deadLetterTopic = DEFAULT_DEAD_LETTER_TOPIC;
    private String groupId = DEFAULT_GROUP_ID;
    private StartingOffsets startingOffsets = DEFAULT_STARTING_OFFSETS;
    private DeliveryGuarantee deliveryGuarantee = DEFAULT_DELIVERY_GUARANTEE;
    private String transactionalIdPrefix = DEFAULT_TRANSACTIONAL_ID_PREFIX;
    private Duration transactionTimeout = DEFAULT_TRANSACTION_TIMEOUT;
    private WireFormat responseFormat = DEFAULT_RESPONSE_FORMAT;
    private final Map<String, String> clientProperties = new LinkedHashMap<>();

    private Builder() {}

    public Builder bootstrapServers(String value) {
      bootstrapServers = Objects.requireNonNull(value, BOOTSTRAP_SERVERS);
      return this;
    }

    public Builder requestTopic(String value) {
      requestTopic = Objects.requireNonNull(value, REQUEST_TOPIC);
      return this;
    }

    public Builder responseTopic(String value) {
      responseTopic = Objects.requireNonNull(value, RESPONSE_TOPIC);
      return this;
    }

    public Builder deadLetterTopic(String value) {
      deadLetterTopic = Objects.requireNonNull(value, DEAD_LETTER_TOPIC);
      return this;
    }

    public Builder groupId(String value) {
      groupId = Objects.requireNonNull(value, GROUP_ID);
      return this;
    }

    public Builder startingOffsets(StartingOffsets value) {
      startingOffsets = Objects.requireNonNull(value, STARTING_OFFSETS);
      return this;
    }

    public Builder deliveryGuarantee(DeliveryGuarantee value) {
      deliveryGuarantee = Objects.requireNonNull(value, DELIVERY_GUARANTEE);
      return this;
    }

    public Builder transactionalIdPrefix(String value) {
      transactionalIdPrefix = Objects.requireNonNull(value, TRANSACTIONAL_ID_PREFIX);
      return this;
    }

    public Builder transactionTimeout(Duration value) {
      transactionTimeout = Objects.requireNonNull(value, TRANSACTION_TIMEOUT);
      return this;
    }

    public Builder responseFormat(WireFormat value) {
      responseFormat = Objects.requireNonNull(value, RESPONSE_FORMAT);
      return this;
    }

    /** Adds a Kafka client property for source and sinks, e.g. {@code security.protocol=SSL}. */
    public Builder clientProperty(String key, String value) {
      clientProperties.put(
          Objects.requireNonNull(key, "client property key"),
          Objects.requireNonNull(value, "value of client property " + key));
      return this;
    }

    /** Validates and builds; throws {@link IllegalArgumentException} saying what to fix. */
    public KafkaSettings build() {
      return new KafkaSettings(
          bootstrapServers,
          requestTopic,
          responseTopic,
          deadLetterTopic,
          groupId,
          startingOffsets,
          deliveryGuarantee,
          transactionalIdPrefix,
          transactionTimeout,
          responseFormat,
          clientProperties);
    }
  }
}
