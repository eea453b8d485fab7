package io.instructblip.job.config;

import io.instructblip.job.registry.RegistryOptions;
import java.util.List;
import java.util.stream.Stream;
import org.apache.flink.configuration.ConfigOption;

/**
 * Every {@code instructblip.*} configuration key of the job, in one registry: the options of each
 * settings group ({@link StageConfigOptions}, {@link KafkaConfigOptions}, {@link
 * ImageConfigOptions}, {@link LimitsConfigOptions}, {@link RegistryOptions}) and the prefixes whose
 * keys pass through to a client (Kafka client properties). The README's configuration table is
 * checked against it ({@code InstructBlipOptionsTest}), and so are the deploy files' settings.
 */
public final class InstructBlipOptions {
  private InstructBlipOptions() {}

  /** Every declared option, in the README's order. */
  public static List<ConfigOption<?>> all() {
    return Stream.of(
            StageConfigOptions.ALL,
            KafkaConfigOptions.ALL,
            ImageConfigOptions.ALL,
            LimitsConfigOptions.ALL,
            RegistryOptions.ALL)
        .flatMap(List::stream)
        .toList();
  }

  /** Prefixes under which any name is a setting, e.g. {@code instructblip.kafka.property.}. */
  public static List<String> passThroughPrefixes() {
    return List.of(KafkaConfigOptions.PROPERTY_PREFIX);
  }

  /** Whether {@code key} is a declared option or lies under a {@link #passThroughPrefixes()}. */
  public static boolean isKnown(String key) {
    return all().stream().anyMatch(o -> o.key().equals(key))
        || passThroughPrefixes().stream()
            .anyMatch(p -> key.startsWith(p) && key.length() > p.length());
  }
}
