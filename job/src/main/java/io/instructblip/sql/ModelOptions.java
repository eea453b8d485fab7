package io.instructblip.sql;

import io.instructblip.engine.api.GenerationOverrides;
import java.time.Duration;
import java.util.List;
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

  public static final ConfigOption<Integer> MAX_NEW_TOKENS = intOption("max-new-tokens");
  public static final ConfigOption<Integer> MIN_NEW_TOKENS = intOption("min-new-tokens");
  public static final ConfigOption<Integer> NUM_BEAMS = intOption("num-beams");
  public static final ConfigOption<Integer> TOP_K = intOption("top-k");
  public static final ConfigOption<Double> LENGTH_PENALTY = doubleOption("length-penalty");
  public static final ConfigOption<Double> REPETITION_PENALTY = doubleOption("repetition-penalty");
  public static final ConfigOption<Double> TEMPERATURE = doubleOption("temperature");
  public static final ConfigOption<Double> TOP_P = doubleOption("top-p");

  public static final ConfigOption<Boolean> DO_SAMPLE =
      ConfigOptions.key("do-sample")
          .booleanType()
          .noDefaultValue()
          .withDescription("Sample instead of searching; default: the model's.");

  public static final ConfigOption<Long> SEED =
      ConfigOptions.key("seed")
          .longType()
          .noDefaultValue()
          .withDescription("Seed of sampling; default: the model's.");

  /** The generation options, which CONFIG may set per call. */
  static final List<ConfigOption<?>> GENERATION =
      List.of(
          MAX_NEW_TOKENS,
          MIN_NEW_TOKENS,
          NUM_BEAMS,
          TOP_K,
          LENGTH_PENALTY,
          REPETITION_PENALTY,
          TEMPERATURE,
          TOP_P,
          DO_SAMPLE,
          SEED);

  private ModelOptions() {}

  private static ConfigOption<Integer> intOption(String key) {
    return ConfigOptions.key(key)
        .intType()
        .noDefaultValue()
        .withDescription("Generation parameter " + key + "; default: the model's.");
  }

  private static ConfigOption<Double> doubleOption(String key) {
    return ConfigOptions.key(key)
        .doubleType()
        .noDefaultValue()
        .withDescription("Generation parameter " + key + "; default: the model's.");
  }

  /** The generation overrides of {@code model}, with those of {@code call} on top. */
  static GenerationOverrides overrides(ReadableConfig model, ReadableConfig call) {
    return GenerationOverrides.builder()
        .maxNewTokens(pick(MAX_NEW_TOKENS, model, call))
        .minNewTokens(pick(MIN_NEW_TOKENS, model, call))
        .numBeams(pick(NUM_BEAMS, model, call))
        .topK(pick(TOP_K, model, call))
        .lengthPenalty(pick(LENGTH_PENALTY, model, call))
        .repetitionPenalty(pick(REPETITION_PENALTY, model, call))
        .temperature(pick(TEMPERATURE, model, call))
        .topP(pick(TOP_P, model, call))
        .doSample(pick(DO_SAMPLE, model, call))
        .seed(pick(SEED, model, call))
        .build();
  }

  private static <T> T pick(ConfigOption<T> option, ReadableConfig model, ReadableConfig call) {
    T value = call == null ? null : call.getOptional(option).orElse(null);
    return value != null ? value : model.getOptional(option).orElse(null);
  }
}
