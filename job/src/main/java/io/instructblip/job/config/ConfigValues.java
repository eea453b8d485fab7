package io.instructblip.job.config;

import java.util.ArrayList;
import java.util.Collection;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.stream.Collectors;
import org.apache.flink.configuration.ConfigOption;
import org.apache.flink.configuration.Configuration;
import org.apache.flink.configuration.ReadableConfig;

/**
 * Reads the job's typed {@link ConfigOption}s from a Flink configuration, with errors that name the
 * key, the value and what is expected. Flink parses the values ({@link ReadableConfig#get}); this
 * class adds three tolerances the job's documentation has always promised: values may carry
 * surrounding blanks, choices may be written with dashes ({@code exactly-once} for {@code
 * EXACTLY_ONCE}), and lists may be comma-separated as well as in Flink's own forms ({@code a;b},
 * {@code [a, b]}).
 */
public final class ConfigValues {
  /** What an {@code intType()} option expects. */
  public static final String WHOLE_NUMBER = "a whole number (at most " + Integer.MAX_VALUE + ")";

  /** What a {@code longType()} option expects. */
  public static final String LONG_NUMBER = "a whole number";

  /** What a {@code durationType()} option expects. */
  public static final String DURATION = "a duration such as \"10 ms\", \"30 s\" or \"10 min\"";

  /** What a {@code memoryType()} option expects. */
  public static final String SIZE = "a size such as \"512 kb\" or \"20 mb\"";

  private ConfigValues() {}

  /**
   * The value of {@code option} in {@code conf}, else its default.
   *
   * @param expected what a good value looks like, for the error message (e.g. {@link #DURATION})
   * @throws IllegalArgumentException naming the key, the value given and {@code expected}
   */
  public static <T> T get(ReadableConfig conf, ConfigOption<T> option, String expected) {
    return read(conf, option, expected, false);
  }

  /** The value of {@code option} where {@code conf} sets it, as {@link #get}. */
  public static <T> Optional<T> getOptional(
      ReadableConfig conf, ConfigOption<T> option, String expected) {
    try {
      return conf.getOptional(option);
    } catch (IllegalArgumentException e) {
      return Optional.of(read(conf, option, expected, false));
    }
  }

  /**
   * The value of an {@code enumType()} option, which must be one of {@code allowed}; the error
   * lists them as the documentation writes them ({@code exactly-once}).
   */
  public static <E extends Enum<E>> E choice(
      ReadableConfig conf, ConfigOption<E> option, List<E> allowed) {
    String expected = "one of " + names(allowed);
    E value = read(conf, option, expected, true);
    if (!allowed.contains(value)) {
      throw new IllegalArgumentException(
          option.key() + " must be " + expected + ", got \"" + name(value) + "\"");
    }
    return value;
  }

  /**
   * The items of a {@code stringType().asList()} option: Flink's list forms ({@code a;b}, {@code
   * [a, b]} in YAML) with each item also split at commas; blank items are dropped; none if unset.
   */
  public static List<String> list(ReadableConfig conf, ConfigOption<List<String>> option) {
    List<String> out = new ArrayList<>();
    for (String item :
        getOptional(conf, option, "a list such as \"a,b\" or \"a;b\"").orElse(List.of())) {
      for (String part : item.split(",")) {
        if (!part.isBlank()) {
          out.add(part.strip());
        }
      }
    }
    return out;
  }

  /** The allowed values of a choice as the documentation writes them: lower case, dashes. */
  public static String names(List<? extends Enum<?>> values) {
    return values.stream().map(ConfigValues::name).collect(Collectors.joining(", "));
  }

  /** One value of a choice as the documentation writes it, e.g. {@code exactly-once}. */
  public static String name(Enum<?> value) {
    return value.name().toLowerCase(Locale.ROOT).replace('_', '-');
  }

  /** The key of {@code option} without {@code prefix}, e.g. {@code request-topic}. */
  public static String nameIn(String prefix, ConfigOption<?> option) {
    if (!option.key().startsWith(prefix)) {
      throw new IllegalArgumentException(option.key() + " does not start with " + prefix);
    }
    return option.key().substring(prefix.length());
  }

  /**
   * Sets {@code option} to the text of a command-line flag, where the flag was given ({@code flag}
   * not null), over what {@code conf} had: flags win. Flink parses the text when it is read.
   */
  public static void putFlag(Configuration conf, ConfigOption<?> option, Object flag) {
    if (flag != null) {
      conf.setString(option.key(), flag.toString());
    }
  }

  /**
   * A configuration of {@code values} with {@code prefix} put before each key: for the settings'
   * {@code fromMap} methods, which take keys without their group's prefix.
   */
  public static Configuration withPrefix(String prefix, Map<String, String> values) {
    Map<String, String> prefixed = new LinkedHashMap<>();
    values.forEach((k, v) -> prefixed.put(prefix + k, v));
    return Configuration.fromMap(prefixed);
  }

  /**
   * Rejects a key of {@code conf} under one of {@code prefixes} that is none of {@code known} and
   * lies under none of {@code passThrough}: a misspelled key would otherwise silently mean "the
   * default".
   */
  public static void rejectUnknown(
      ReadableConfig conf,
      Collection<String> prefixes,
      Collection<ConfigOption<?>> known,
      Collection<String> passThrough) {
    List<String> keys = known.stream().map(ConfigOption::key).toList();
    for (String key : conf.toMap().keySet()) {
      if (prefixes.stream().anyMatch(key::startsWith)
          && !keys.contains(key)
          && passThrough.stream().noneMatch(p -> key.startsWith(p) && key.length() > p.length())) {
        StringBuilder list = new StringBuilder(String.join(", ", keys));
        passThrough.forEach(p -> list.append(", ").append(p).append("<name>"));
        throw new IllegalArgumentException("unknown setting " + key + "; known: " + list);
      }
    }
  }

  /** Flink's value, else the value stripped (and for a choice, with dashes as underscores). */
  private static <T> T read(
      ReadableConfig conf, ConfigOption<T> option, String expected, boolean choice) {
    IllegalArgumentException e;
    try {
      return conf.get(option);
    } catch (IllegalArgumentException failed) {
      e = failed;
    }
    String raw = conf.toMap().get(option.key());
    if (raw != null) {
      String normalized = choice ? raw.strip().replace('-', '_') : raw.strip();
      if (!normalized.equals(raw)) {
        try {
          return Configuration.fromMap(Map.of(option.key(), normalized)).get(option);
        } catch (IllegalArgumentException ignored) {
          // the message below is about the value as given
        }
      }
    }
    throw new IllegalArgumentException(
        option.key() + " must be " + expected + ", got \"" + raw + "\"", e);
  }
}
