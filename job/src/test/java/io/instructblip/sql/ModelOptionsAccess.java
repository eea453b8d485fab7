package io.instructblip.sql;

import io.instructblip.engine.api.GenerationOverrides;
import java.util.List;
import java.util.Map;
import org.apache.flink.configuration.ConfigOption;
import org.apache.flink.configuration.Configuration;

/** Test access to the package-private generation options of {@link ModelOptions}. */
public final class ModelOptionsAccess {
  private ModelOptionsAccess() {}

  /** The keys of the generation options, in order. */
  public static List<String> generationKeys() {
    return ModelOptions.GENERATION.values().stream().map(ConfigOption::key).toList();
  }

  /** The overrides of a model created with {@code options} (as strings, as in WITH (...)). */
  public static GenerationOverrides overrides(Map<String, String> options) {
    return ModelOptions.overrides(Configuration.fromMap(options), null);
  }
}
