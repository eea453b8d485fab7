package io.instructblip.job.wiring;

import io.instructblip.flink.BatchingConfig;
import io.instructblip.flink.ContinuousBatchingConfig;
import io.instructblip.flink.pipeline.EngineSpec;
import io.instructblip.flink.pipeline.LlmFunction;
import io.instructblip.job.config.ConfigValues;
import io.instructblip.job.config.StageConfigOptions;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import org.apache.flink.configuration.ConfigOption;
import org.apache.flink.configuration.ReadableConfig;

/**
 * The model and batching settings of the job: which model directory on which device, and each
 * stage's batching. Read from the {@link StageConfigOptions} of a Flink configuration (CLI flags
 * set the same keys); absent keys take the stage configs' defaults. The README's configuration
 * table lists them.
 *
 * @param engine the model directory, device and ONNX Runtime threads
 * @param vision the {@code vision-encoder} stage's batching
 * @param qformer the {@code qformer} stage's batching
 * @param llm the {@code llm} stage's continuous batching
 * @param llmTokenBudget the tokens the {@code llm} stage's running sequences may reserve in all, or
 *     {@link LlmFunction#NO_TOKEN_BUDGET}
 */
public record StageSettings(
    EngineSpec engine,
    BatchingConfig vision,
    BatchingConfig qformer,
    ContinuousBatchingConfig llm,
    long llmTokenBudget) {

  /** Prefix of every key below in a Flink configuration. */
  public static final String CONFIG_PREFIX = StageConfigOptions.PREFIX;

  // the keys without the prefix, as fromMap takes them
  public static final String MODEL_DIR =
      ConfigValues.nameIn(StageConfigOptions.PREFIX, StageConfigOptions.MODEL_DIR);
  public static final String DEVICE =
      ConfigValues.nameIn(StageConfigOptions.PREFIX, StageConfigOptions.DEVICE);
  public static final String THREADS =
      ConfigValues.nameIn(StageConfigOptions.PREFIX, StageConfigOptions.THREADS);
  public static final String VISION_BATCH =
      ConfigValues.nameIn(StageConfigOptions.PREFIX, StageConfigOptions.VISION_BATCH);
  public static final String VISION_WAIT =
      ConfigValues.nameIn(StageConfigOptions.PREFIX, StageConfigOptions.VISION_WAIT);
  public static final String QFORMER_BATCH =
      ConfigValues.nameIn(StageConfigOptions.PREFIX, StageConfigOptions.QFORMER_BATCH);
  public static final String QFORMER_WAIT =
      ConfigValues.nameIn(StageConfigOptions.PREFIX, StageConfigOptions.QFORMER_WAIT);
  public static final String MAX_IN_FLIGHT =
      ConfigValues.nameIn(StageConfigOptions.PREFIX, StageConfigOptions.MAX_IN_FLIGHT);
  public static final String LLM_RUNNING =
      ConfigValues.nameIn(StageConfigOptions.PREFIX, StageConfigOptions.LLM_RUNNING);
  public static final String LLM_IN_FLIGHT =
      ConfigValues.nameIn(StageConfigOptions.PREFIX, StageConfigOptions.LLM_IN_FLIGHT);
  public static final String LLM_TOKEN_BUDGET =
      ConfigValues.nameIn(StageConfigOptions.PREFIX, StageConfigOptions.LLM_TOKEN_BUDGET);
  public static final String TIMEOUT =
      ConfigValues.nameIn(StageConfigOptions.PREFIX, StageConfigOptions.TIMEOUT);

  /** The prefixes this group owns: an unknown key under one of them (a misspelling) is an error. */
  private static final List<String> OWNED_PREFIXES =
      StageConfigOptions.ALL.stream()
          .map(o -> o.key().substring(0, o.key().indexOf('.', CONFIG_PREFIX.length()) + 1))
          .distinct()
          .toList();

  /** Default device: CUDA where it loads, else the CPU with a warning. */
  public static final String DEFAULT_DEVICE = StageConfigOptions.DEVICE.defaultValue();

  /**
   * Default ONNX Runtime intra-op threads per session: 0, ONNX Runtime's own choice (one per core).
   * Measured on 2 cores with the small presets, it gave the operators more throughput than 1 thread
   * per session, although the stages of a subtask run at once (docs/benchmarks.md).
   */
  public static final int DEFAULT_THREADS = StageConfigOptions.THREADS.defaultValue();

  public StageSettings {
    Objects.requireNonNull(engine, "engine");
    Objects.requireNonNull(vision, "vision");
    Objects.requireNonNull(qformer, "qformer");
    Objects.requireNonNull(llm, "llm");
    if (llmTokenBudget < 1) {
      throw new IllegalArgumentException(
          CONFIG_PREFIX
              + LLM_TOKEN_BUDGET
              + " must be at least 1 (or unset for none), got "
              + llmTokenBudget);
    }
  }

  /** Settings from key/values (keys without the {@code instructblip.} prefix). */
  public static StageSettings fromMap(Map<String, String> values) {
    return fromConfiguration(ConfigValues.withPrefix(CONFIG_PREFIX, values));
  }

  /**
   * Settings from the {@link StageConfigOptions} of a Flink configuration; absent keys take their
   * defaults. An unknown key under {@code instructblip.model.}, {@code .vision.}, {@code
   * .qformer.}, {@code .stages.}, {@code .llm.} or {@code .request.} is an error.
   */
  public static StageSettings fromConfiguration(ReadableConfig conf) {
    ConfigValues.rejectUnknown(conf, OWNED_PREFIXES, StageConfigOptions.ALL, List.of());
    String modelDir = conf.getOptional(StageConfigOptions.MODEL_DIR).orElse("");
    if (modelDir.isBlank()) {
      throw new IllegalArgumentException(
          "no model directory: pass --model DIR (or set "
              + StageConfigOptions.MODEL_DIR.key()
              + ")");
    }
    EngineSpec engine =
        new EngineSpec(
            modelDir.strip(),
            conf.get(StageConfigOptions.DEVICE).strip(),
            whole(conf, StageConfigOptions.THREADS));
    Duration timeout =
        ConfigValues.getOptional(conf, StageConfigOptions.TIMEOUT, ConfigValues.DURATION)
            .orElse(BatchingConfig.DEFAULT_TIMEOUT);
    int inFlight = whole(conf, StageConfigOptions.MAX_IN_FLIGHT);
    BatchingConfig vision =
        microBatching(
            conf,
            StageConfigOptions.VISION_BATCH,
            StageConfigOptions.VISION_WAIT,
            inFlight,
            timeout);
    BatchingConfig qformer =
        microBatching(
            conf,
            StageConfigOptions.QFORMER_BATCH,
            StageConfigOptions.QFORMER_WAIT,
            inFlight,
            timeout);
    ContinuousBatchingConfig llm =
        ContinuousBatchingConfig.builder()
            .maxRunning(whole(conf, StageConfigOptions.LLM_RUNNING))
            .maxInFlight(whole(conf, StageConfigOptions.LLM_IN_FLIGHT))
            .defaultTimeout(timeout)
            .build();
    long budget =
        ConfigValues.getOptional(
                conf, StageConfigOptions.LLM_TOKEN_BUDGET, ConfigValues.LONG_NUMBER)
            .orElse(LlmFunction.NO_TOKEN_BUDGET);
    return new StageSettings(engine, vision, qformer, llm, budget);
  }

  /** A micro-batched stage's settings: its batch size and wait, the shared bound and timeout. */
  private static BatchingConfig microBatching(
      ReadableConfig conf,
      ConfigOption<Integer> batch,
      ConfigOption<Duration> wait,
      int inFlight,
      Duration timeout) {
    return BatchingConfig.builder()
        .maxBatchSize(whole(conf, batch))
        .maxWait(duration(conf, wait))
        .maxInFlight(inFlight)
        .defaultTimeout(timeout)
        .build();
  }

  private static int whole(ReadableConfig conf, ConfigOption<Integer> option) {
    return ConfigValues.get(conf, option, ConfigValues.WHOLE_NUMBER);
  }

  private static Duration duration(ReadableConfig conf, ConfigOption<Duration> option) {
    return ConfigValues.get(conf, option, ConfigValues.DURATION);
  }
}
