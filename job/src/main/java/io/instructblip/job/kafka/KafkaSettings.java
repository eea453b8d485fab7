package io.instructblip.job.kafka;

import io.instructblip.schema.WireFormat;
import java.time.Duration;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Objects;
import java.util.Set;
import java.util.TreeSet;
import org.apache.flink.configuration.Configuration;
import org.apache.flink.connector.base.DeliveryGuarantee;
import org.apache.flink.util.TimeUtils;

/**
 * Everything the job needs to know about Kafka: where the broker is, the three topics, how to
 * consume and how to produce. Build with {@link #builder()} (defaults below), or parse from
 * CLI-style key/values ({@link #fromMap}) or a Flink {@link Configuration} ({@link
 * #fromConfiguration}); docs/kafka.md lists every setting.
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

  public static final String DEFAULT_REQUEST_TOPIC = "instructblip-requests";
  public static final String DEFAULT_RESPONSE_TOPIC = "instructblip-responses";
  public static final String DEFAULT_DEAD_LETTER_TOPIC = "instructblip-dead-letters";
  public static final String DEFAULT_GROUP_ID = "instructblip";
  public static final StartingOffsets DEFAULT_STARTING_OFFSETS = StartingOffsets.COMMITTED;
  public static final DeliveryGuarantee DEFAULT_DELIVERY_GUARANTEE = DeliveryGuarantee.EXACTLY_ONCE;
  public static final String DEFAULT_TRANSACTIONAL_ID_PREFIX = "instructblip";
  public static final Duration DEFAULT_TRANSACTION_TIMEOUT = Duration.ofMinutes(10);
  public static final WireFormat DEFAULT_RESPONSE_FORMAT = WireFormat.AVRO;

  /** The broker's default {@code transaction.max.timeout.ms}. */
  public static final Duration BROKER_MAX_TRANSACTION_TIMEOUT = Duration.ofMinutes(15);

  /** Prefix of this job's keys in a Flink configuration. */
  public static final String CONFIG_PREFIX = "instructblip.kafka.";

  public static final String BOOTSTRAP_SERVERS = "bootstrap-servers";
  public static final String REQUEST_TOPIC = "request-topic";
  public static final String RESPONSE_TOPIC = "response-topic";
  public static final String DEAD_LETTER_TOPIC = "dead-letter-topic";
  public static final String GROUP_ID = "group-id";
  public static final String STARTING_OFFSETS = "starting-offsets";
  public static final String DELIVERY_GUARANTEE = "delivery-guarantee";
  public static final String TRANSACTIONAL_ID_PREFIX = "transactional-id-prefix";
  public static final String TRANSACTION_TIMEOUT = "transaction-timeout";
  public static final String RESPONSE_FORMAT = "response-format";

  /** Prefix of a pass-through Kafka client property, e.g. {@code property.security.protocol}. */
  public static final String PROPERTY_PREFIX = "property.";

  /** Every key {@link #fromMap} knows (without the {@link #PROPERTY_PREFIX} keys). */
  public static final List<String> KEYS =
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
   * Settings from CLI-style key/values: the keys in {@link #KEYS} (e.g. {@code request-topic}) and
   * {@code property.<kafka client property>}; absent keys take their defaults. An unknown key is an
   * error, so that a misspelled one does not silently mean "default".
   */
  public static KafkaSettings fromMap(Map<String, String> values) {
    Builder b = builder();
    for (Map.Entry<String, String> e : values.entrySet()) {
      String key = e.getKey();
      String value = e.getValue();
      if (key.startsWith(PROPERTY_PREFIX) && key.length() > PROPERTY_PREFIX.length()) {
        b.clientProperty(key.substring(PROPERTY_PREFIX.length()), value);
        continue;
      }
      switch (key) {
        case BOOTSTRAP_SERVERS -> b.bootstrapServers(value);
        case REQUEST_TOPIC -> b.requestTopic(value);
        case RESPONSE_TOPIC -> b.responseTopic(value);
        case DEAD_LETTER_TOPIC -> b.deadLetterTopic(value);
        case GROUP_ID -> b.groupId(value);
        case STARTING_OFFSETS ->
            b.startingOffsets(
                parseEnum(StartingOffsets.class, key, value, StartingOffsets.values()));
        case DELIVERY_GUARANTEE ->
            b.deliveryGuarantee(
                parseEnum(
                    DeliveryGuarantee.class,
                    key,
                    value,
                    new DeliveryGuarantee[] {
                      DeliveryGuarantee.EXACTLY_ONCE, DeliveryGuarantee.AT_LEAST_ONCE
                    }));
        case TRANSACTIONAL_ID_PREFIX -> b.transactionalIdPrefix(value);
        case TRANSACTION_TIMEOUT -> b.transactionTimeout(parseDuration(key, value));
        case RESPONSE_FORMAT ->
            b.responseFormat(parseEnum(WireFormat.class, key, value, WireFormat.values()));
        default ->
            throw new IllegalArgumentException(
                "unknown Kafka setting "
                    + key
                    + "; known: "
                    + String.join(", ", KEYS)
                    + " and "
                    + PROPERTY_PREFIX
                    + "<kafka client property>");
      }
    }
    return b.build();
  }

  /**
   * Settings from a Flink configuration: every key under {@code instructblip.kafka.} (e.g. {@code
   * instructblip.kafka.request-topic}, {@code instructblip.kafka.property.security.protocol}), as
   * in {@link #fromMap}.
   */
  public static KafkaSettings fromConfiguration(Configuration configuration) {
    Map<String, String> values = new LinkedHashMap<>();
    for (Map.Entry<String, String> e : configuration.toMap().entrySet()) {
      if (e.getKey().startsWith(CONFIG_PREFIX)) {
        values.put(e.getKey().substring(CONFIG_PREFIX.length()), e.getValue());
      }
    }
    return fromMap(values);
  }

  /**
   * These settings as {@code instructblip.kafka.*} keys, the inverse of {@link #fromConfiguration}.
   */
  public Map<String, String> toConfigurationMap() {
    Map<String, String> m = new LinkedHashMap<>();
    m.put(CONFIG_PREFIX + BOOTSTRAP_SERVERS, bootstrapServers);
    m.put(CONFIG_PREFIX + REQUEST_TOPIC, requestTopic);
    m.put(CONFIG_PREFIX + RESPONSE_TOPIC, responseTopic);
    m.put(CONFIG_PREFIX + DEAD_LETTER_TOPIC, deadLetterTopic);
    m.put(CONFIG_PREFIX + GROUP_ID, groupId);
    m.put(CONFIG_PREFIX + STARTING_OFFSETS, startingOffsets.name().toLowerCase(Locale.ROOT));
    m.put(CONFIG_PREFIX + DELIVERY_GUARANTEE, deliveryGuarantee.name().toLowerCase(Locale.ROOT));
    if (transactionalIdPrefix != null) {
      m.put(CONFIG_PREFIX + TRANSACTIONAL_ID_PREFIX, transactionalIdPrefix);
    }
    m.put(CONFIG_PREFIX + TRANSACTION_TIMEOUT, transactionTimeout.toMillis() + " ms");
    m.put(CONFIG_PREFIX + RESPONSE_FORMAT, responseFormat.name().toLowerCase(Locale.ROOT));
    clientProperties.forEach((k, v) -> m.put(CONFIG_PREFIX + PROPERTY_PREFIX + k, v));
    return m;
  }

  private static <E extends Enum<E>> E parseEnum(
      Class<E> type, String key, String value, E[] allowed) {
    String wanted = value == null ? "" : value.strip().replace('-', '_').toUpperCase(Locale.ROOT);
    for (E e : allowed) {
      if (e.name().equals(wanted)) {
        return e;
      }
    }
    Set<String> names = new TreeSet<>();
    for (E e : allowed) {
      names.add(e.name().toLowerCase(Locale.ROOT));
    }
    throw new IllegalArgumentException(
        key + " must be one of " + String.join(", ", names) + ", got \"" + value + "\"");
  }

  private static Duration parseDuration(String key, String value) {
    try {
      return TimeUtils.parseDuration(value);
    } catch (RuntimeException e) {
      throw new IllegalArgumentException(
          key
              + " must be a duration such as \"10 min\", \"600 s\" or \"600000 ms\", got \""
              + value
              + "\"",
          e);
    }
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
