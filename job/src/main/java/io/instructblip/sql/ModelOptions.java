package io.instructblip.sql;

import io.instructblip.engine.api.GenerationOverrides;
import io.instructblip.engine.api.GenerationParameter;
import java.time.Duration;
import java.util.Collections;
import java.util.EnumMap;
import java.util.List;
import java.util.Map;
import org.apache.flink.configuration.ConfigOption;
import org.apache.flink.configuration.ConfigOptions;
import org.apache.flink.configuration.ReadableConfig;

/**
 * The options of an {@code instructblip} model: the {@code WITH (...)} keys of {@code CREATE MODEL}
 * and, for the generation options, also the per-call {@code CONFIG => MAP[...]} of {@code
 * ML_PREDICT} (which wins). docs/sql.md explains each.
 */
public final class ModelOptions {
  public static final ConfigOption<String> MODEL_DIR =
      ConfigOptions.key("model.dir")
          .stringType()
          .noDefaultValue()
          .withDescription("Model directory (docs/model-format.md), a path on every TaskManager.");

  public static final ConfigOption<String> DEVICE =
      ConfigOptions.key("device")
          .stringType()
          .defaultValue("auto")
          .withDescription("cpu, cuda, cuda:N or auto (CUDA where it loads, else CPU).");

  public static final ConfigOption<Integer> INTRA_OP_THREADS =
      ConfigOptions.key("intra-op-threads")
          .intType()
          .defaultValue(0)
          .withDescription("Intra-op threads per ONNX Runtime session; 0: ONNX Runtime's choice.");

  public static final ConfigOption<Integer> MAX_BATCH_ROWS =
      ConfigOptions.key("max-batch-rows")
          .intType()
          .defaultValue(8)
          .withDescription(
              "Most rows one engine call takes; rows from every subtask on the TaskManager that"
                  + " share the model are batched together.");

  public static final ConfigOption<Duration> MAX_BATCH_WAIT =
      ConfigOptions.key("max-batch-wait")
          .durationType()
          .defaultValue(Duration.ofMillis(10))
          .withDescription("How long a batch waits for more rows before it runs.");

  public static final ConfigOption<List<String>> ALLOWED_FILE_ROOTS =
      ConfigOptions.key("image.allowed-file-roots")
          .stringType()
          .asList()
          .defaultValues()
          .withDescription(
              "Folders a file: URI in an image URI column must lie in; none: URI columns are"
                  + " refused (IMAGE_URI_FORBIDDEN).");

  /**
   * The generation options, which CONFIG may set per call: one per {@link GenerationParameter},
   * keyed by its dashed name ({@code max-new-tokens}, ...), in the specification's order.
   */
  static final Map<GenerationParameter, ConfigOption<?>> GENERATION = generationOptions();

  private ModelOptions() {}

  private static Map<GenerationParameter, ConfigOption<?>> generationOptions() {
    Map<GenerationParameter, ConfigOption<?>> options = new EnumMap<>(GenerationParameter.class);
    for (GenerationParameter p : GenerationParameter.values()) {
      ConfigOptions.OptionBuilder key = ConfigOptions.key(p.dashedKey());
      ConfigOption<?> option =
          switch (p.type()) {
            case INT -> key.intType().noDefaultValue();
            case LONG -> key.longType().noDefaultValue();
            case DOUBLE -> key.doubleType().noDefaultValue();
            case BOOLEAN -> key.booleanType().noDefaultValue();
          };
      options.put(p, option.withDescription(p.documentation()));
    }
    return Collections.unmodifiableMap(options);
  }

  /** The generation overrides of {@code model}, with those of {@code call} on top. */
  static GenerationOverrides overrides(ReadableConfig model, ReadableConfig call) {
    return GenerationOverrides.of(p -> pick(GENERATION.get(p), model, call));
  }

  private static <T> T pick(ConfigOption<T> option, ReadableConfig model, ReadableConfig call) {
    T value = call == null ? null : call.getOptional(option).orElse(null);
    return value != null ? value : model.getOptional(option).orElse(null);
  }
}
