package io.instructblip.job.config;

import static org.apache.flink.configuration.ConfigOptions.key;

import io.instructblip.engine.RequestLimits;
import java.util.List;
import org.apache.flink.configuration.ConfigOption;
import org.apache.flink.configuration.ReadableConfig;

/**
 * The {@code instructblip.limits.*} keys of the engine's {@link RequestLimits}, as Flink options.
 * The engine knows nothing of Flink, so the limits' names, defaults, ceilings and descriptions stay
 * in {@link RequestLimits#KEYS} and the options are made from them here, one per key.
 */
public final class LimitsConfigOptions {
  /** Prefix of every key of this group. */
  public static final String PREFIX = RequestLimits.CONFIG_PREFIX;

  /** One {@code intType()} option per {@link RequestLimits#KEYS}, in the same order. */
  public static final List<ConfigOption<Integer>> LIMITS =
      RequestLimits.KEYS.stream()
          .map(
              k ->
                  key(PREFIX + k.name())
                      .intType()
                      .defaultValue(k.defaultValue())
                      .withDescription(k.description() + " From 1 to " + k.ceiling() + "."))
          .toList();

  /** Every option of this group. */
  public static final List<ConfigOption<?>> ALL = List.copyOf(LIMITS);

  private LimitsConfigOptions() {}

  /**
   * The limits from a Flink configuration; absent keys take their defaults, an unknown key under
   * {@code instructblip.limits.} is an error, a value out of range names its key and range.
   */
  public static RequestLimits fromConfiguration(ReadableConfig conf) {
    ConfigValues.rejectUnknown(conf, List.of(PREFIX), ALL, List.of());
    RequestLimits.Builder b = RequestLimits.builder();
    for (ConfigOption<Integer> option : LIMITS) {
      ConfigValues.getOptional(conf, option, ConfigValues.WHOLE_NUMBER)
          .ifPresent(v -> b.limit(option.key().substring(PREFIX.length()), v));
    }
    return b.build();
  }
}
