package io.instructblip.job.registry;

import java.time.Duration;
import java.util.List;
import org.apache.flink.configuration.ConfigOption;
import org.apache.flink.configuration.ConfigOptions;

/**
 * The {@code instructblip.registry.*} configuration keys: where the Schema Registry is and how to
 * reach it, for Schema Registry framed requests and {@code response-format: registry}. Read them
 * with {@link RegistrySettings#fromConfiguration}; docs/kafka.md explains each.
 */
public final class RegistryOptions {
  /** Prefix of every key here. */
  public static final String PREFIX = "instructblip.registry.";

  public static final ConfigOption<String> URL =
      ConfigOptions.key(PREFIX + "url")
          .stringType()
          .noDefaultValue()
          .withDescription(
              "Base URL of a Confluent-compatible Schema Registry REST API, e.g."
                  + " http://registry:8081 (Confluent, Karapace, Redpanda) or"
                  + " http://apicurio:8080/apis/ccompat/v7 (Apicurio). Without it, Schema Registry"
                  + " framed requests are dead-lettered (UNKNOWN_SCHEMA).");

  public static final ConfigOption<String> USERNAME =
      ConfigOptions.key(PREFIX + "username")
          .stringType()
          .noDefaultValue()
          .withDescription("User name for HTTP basic authentication at the registry.");

  public static final ConfigOption<String> PASSWORD =
      ConfigOptions.key(PREFIX + "password")
          .stringType()
          .noDefaultValue()
          .withDescription("Password for HTTP basic authentication at the registry.");

  public static final ConfigOption<String> TRUSTSTORE_LOCATION =
      ConfigOptions.key(PREFIX + "ssl.truststore.location")
          .stringType()
          .noDefaultValue()
          .withDescription(
              "Trust store (on every TaskManager) with the CA of an https registry; without it"
                  + " the JVM's default trust store is used.");

  public static final ConfigOption<String> TRUSTSTORE_PASSWORD =
      ConfigOptions.key(PREFIX + "ssl.truststore.password")
          .stringType()
          .noDefaultValue()
          .withDescription("Password of the trust store.");

  public static final ConfigOption<String> TRUSTSTORE_TYPE =
      ConfigOptions.key(PREFIX + "ssl.truststore.type")
          .stringType()
          .defaultValue("PKCS12")
          .withDescription("Type of the trust store: PKCS12 or JKS.");

  public static final ConfigOption<String> KEYSTORE_LOCATION =
      ConfigOptions.key(PREFIX + "ssl.keystore.location")
          .stringType()
          .noDefaultValue()
          .withDescription("Key store with the client certificate for mutual TLS, if needed.");

  public static final ConfigOption<String> KEYSTORE_PASSWORD =
      ConfigOptions.key(PREFIX + "ssl.keystore.password")
          .stringType()
          .noDefaultValue()
          .withDescription("Password of the key store (and of its key).");

  public static final ConfigOption<String> KEYSTORE_TYPE =
      ConfigOptions.key(PREFIX + "ssl.keystore.type")
          .stringType()
          .defaultValue("PKCS12")
          .withDescription("Type of the key store: PKCS12 or JKS.");

  public static final ConfigOption<SubjectNameStrategy> SUBJECT_STRATEGY =
      ConfigOptions.key(PREFIX + "subject-strategy")
          .enumType(SubjectNameStrategy.class)
          .defaultValue(SubjectNameStrategy.TOPIC_NAME)
          .withDescription(
              "The subject the response schema is registered under (response-format registry):"
                  + " topic_name (<topic>-value), record_name (the record's full name) or"
                  + " topic_record_name (<topic>-<full name>), as Confluent's strategies.");

  public static final ConfigOption<Duration> REQUEST_TIMEOUT =
      ConfigOptions.key(PREFIX + "request-timeout")
          .durationType()
          .defaultValue(Duration.ofSeconds(5))
          .withDescription("How long one HTTP request to the registry may take.");

  public static final ConfigOption<Duration> MAX_WAIT =
      ConfigOptions.key(PREFIX + "max-wait")
          .durationType()
          .defaultValue(Duration.ofSeconds(30))
          .withDescription(
              "How long to keep retrying (with backoff) a registry that does not answer or"
                  + " answers with a server error, per schema id not yet cached; then the record"
                  + " is dead-lettered with REGISTRY_UNAVAILABLE.");

  /** Every key here, in the README's order. */
  public static final List<ConfigOption<?>> ALL =
      List.of(
          URL,
          USERNAME,
          PASSWORD,
          TRUSTSTORE_LOCATION,
          TRUSTSTORE_PASSWORD,
          TRUSTSTORE_TYPE,
          KEYSTORE_LOCATION,
          KEYSTORE_PASSWORD,
          KEYSTORE_TYPE,
          SUBJECT_STRATEGY,
          REQUEST_TIMEOUT,
          MAX_WAIT);

  private RegistryOptions() {}
}
