package io.instructblip.job.config;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.instructblip.engine.RequestLimits;
import io.instructblip.job.kafka.KafkaSettings;
import io.instructblip.job.kafka.StartingOffsets;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.apache.flink.configuration.ConfigOption;
import org.apache.flink.configuration.Configuration;
import org.apache.flink.connector.base.DeliveryGuarantee;
import org.junit.jupiter.api.Test;

/**
 * The registry of options against the documentation: every declared key is in the README's
 * configuration table with its default, and every {@code instructblip.*} key there is declared; the
 * tables of docs/kafka.md name only declared keys, with their defaults. And the value forms the
 * documentation promises are read as such.
 */
class InstructBlipOptionsTest {
  private static final Pattern KEY = Pattern.compile("`(instructblip\\.[a-z0-9.<>A-Z-]+)`");

  /** The {@code instructblip.*} keys of a markdown file's tables, each with its default cell. */
  private static Map<String, String> documented(String file) throws IOException {
    Map<String, String> keys = new LinkedHashMap<>();
    for (String line : Files.readAllLines(Path.of("..", file))) {
      if (!line.startsWith("|")) {
        continue;
      }
      String[] cells = line.split("\\|");
      for (int i = 1; i < cells.length - 1; i++) {
        Matcher m = KEY.matcher(cells[i].strip());
        if (m.matches()) {
          String previous = keys.put(m.group(1), cells[i + 1].strip());
          assertNull(previous, file + " documents " + m.group(1) + " twice");
          break;
        }
      }
    }
    return keys;
  }

  @Test
  void theReadmeTableHasEveryKeyAndNoOther() throws IOException {
    Map<String, String> readme = documented("README.md");
    Set<String> declared = new TreeSet<>();
    InstructBlipOptions.all().forEach(o -> declared.add(o.key()));
    Set<String> missing = new TreeSet<>(declared);
    missing.removeAll(readme.keySet());
    assertEquals(Set.of(), missing, "declared keys missing from the README's table");
    Set<String> unknown = new TreeSet<>();
    for (String key : readme.keySet()) {
      if (!InstructBlipOptions.isKnown(key)) {
        unknown.add(key);
      }
    }
    assertEquals(Set.of(), unknown, "README keys that no option declares");
    for (String prefix : InstructBlipOptions.passThroughPrefixes()) {
      assertTrue(
          readme.keySet().stream().anyMatch(k -> k.startsWith(prefix)),
          "the README documents " + prefix + "...");
    }
  }

  @Test
  void theDocumentedDefaultsAreTheDeclaredOnes() throws IOException {
    List<String> wrong = new ArrayList<>();
    for (String file : List.of("README.md", "docs/kafka.md")) {
      Map<String, String> docs = documented(file);
      for (ConfigOption<?> option : InstructBlipOptions.all()) {
        String cell = docs.get(option.key());
        if (cell != null && !documentsDefault(option, cell)) {
          wrong.add(file + ": " + option.key() + " documents " + cell);
        }
      }
      for (String key : docs.keySet()) {
        assertTrue(InstructBlipOptions.isKnown(key), file + " documents " + key + ", no option");
      }
    }
    assertEquals(List.of(), wrong);
  }

  /**
   * Whether a table's default cell says what {@code option} declares: a value in backticks first
   * (read as the option reads it) where it has a default, else no such value ("none",
   * "(required)").
   */
  private static boolean documentsDefault(ConfigOption<?> option, String cell) {
    if (!option.hasDefaultValue()) {
      return !cell.startsWith("`");
    }
    if (!cell.startsWith("`")) {
      return false;
    }
    String value = cell.substring(1, cell.indexOf('`', 1));
    Object declared = option.defaultValue();
    if (declared instanceof Enum<?> e) {
      return ConfigValues.name(e).equals(value);
    }
    Configuration conf = Configuration.fromMap(Map.of(option.key(), value));
    return declared.equals(ConfigValues.get(conf, option, "the declared type"));
  }

  @Test
  void keysAreUniqueAndEachHasADescription() {
    Set<String> keys = new HashSet<>();
    for (ConfigOption<?> option : InstructBlipOptions.all()) {
      assertTrue(keys.add(option.key()), option.key() + " declared twice");
      assertTrue(option.key().startsWith("instructblip."), option.key());
      assertFalse(option.description().getBlocks().isEmpty(), option.key() + " has no text");
    }
    assertEquals(RequestLimits.KEYS.size(), LimitsConfigOptions.ALL.size());
  }

  @Test
  void theValueFormsTheDocumentationPromisesAreRead() {
    Configuration conf =
        Configuration.fromMap(
            Map.of(
                "instructblip.kafka.bootstrap-servers", "b:1",
                "instructblip.kafka.delivery-guarantee", "at-least-once",
                "instructblip.kafka.starting-offsets", " Earliest ",
                "instructblip.kafka.transaction-timeout", "PT90S",
                "instructblip.images.allowed-schemes", "file, https;s3",
                "instructblip.images.allowed-hosts", "[a.example, b.example]",
                "instructblip.images.fetch-threads", " 4 "));
    KafkaSettings kafka = KafkaSettings.fromConfiguration(conf);
    assertEquals(DeliveryGuarantee.AT_LEAST_ONCE, kafka.deliveryGuarantee());
    assertEquals(StartingOffsets.EARLIEST, kafka.startingOffsets());
    assertEquals(Duration.ofSeconds(90), kafka.transactionTimeout());
    assertEquals(
        List.of("file", "https", "s3"),
        ConfigValues.list(conf, ImageConfigOptions.ALLOWED_SCHEMES));
    assertEquals(
        List.of("a.example", "b.example"),
        ConfigValues.list(conf, ImageConfigOptions.ALLOWED_HOSTS));
    assertEquals(
        4, ConfigValues.get(conf, ImageConfigOptions.FETCH_THREADS, ConfigValues.WHOLE_NUMBER));
  }

  @Test
  void limitsAreReadAsTypedOptionsAndCheckedByTheEngine() {
    RequestLimits limits =
        LimitsConfigOptions.fromConfiguration(
            Configuration.fromMap(Map.of("instructblip.limits.num-beams-max", "8")));
    assertEquals(8, limits.maxNumBeams());
    assertEquals(RequestLimits.defaults().maxTopK(), limits.maxTopK());
    assertEquals(
        "instructblip.limits.uri-max-chars must be a whole number (at most 2147483647), got"
            + " \"a lot\"",
        assertThrows(
                IllegalArgumentException.class,
                () ->
                    LimitsConfigOptions.fromConfiguration(
                        Configuration.fromMap(
                            Map.of("instructblip.limits.uri-max-chars", "a lot"))))
            .getMessage());
    assertEquals(
        "instructblip.limits.num-beams-max must be between 1 and 64, got 100",
        assertThrows(
                IllegalArgumentException.class,
                () ->
                    LimitsConfigOptions.fromConfiguration(
                        Configuration.fromMap(Map.of("instructblip.limits.num-beams-max", "100"))))
            .getMessage());
    assertTrue(
        assertThrows(
                IllegalArgumentException.class,
                () ->
                    LimitsConfigOptions.fromConfiguration(
                        Configuration.fromMap(Map.of("instructblip.limits.beams", "2"))))
            .getMessage()
            .startsWith(
                "unknown setting instructblip.limits.beams; known: instructblip.limits.id-max-chars,"));
  }
}
