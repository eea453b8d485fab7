package io.instructblip.job.config;

import static org.apache.flink.configuration.ConfigOptions.key;

import io.instructblip.flink.BatchingConfig;
import io.instructblip.flink.ContinuousBatchingConfig;
import java.time.Duration;
import java.util.List;
import org.apache.flink.configuration.ConfigOption;

/**
 * The model and batching keys of {@link io.instructblip.job.wiring.StageSettings} (and the served
 * model's name): typed, with their defaults (the stage configs' own) and descriptions.
 */
public final class StageConfigOptions {
  /** Prefix of every key of this group. */
  public static final String PREFIX = "instructblip.";

  public static final ConfigOption<String> MODEL_DIR =
      key(PREFIX + "model.dir")
          .stringType()
          .noDefaultValue()
          .withDescription("The model directory, a path on the TaskManagers (required).");

  public static final ConfigOption<String> MODEL_NAME =
      key(PREFIX + "model.name")
          .stringType()
          .noDefaultValue()
          .withDescription(
              "The served model's name (its manifest's name); set, the submitting machine needs"
                  + " no copy of the model. Default: read from the model directory.");

  public static final ConfigOption<String> DEVICE =
      key(PREFIX + "model.device")
          .stringType()
          .defaultValue("auto")
          .withDescription(
              "cpu, cuda, cuda:N or auto (CUDA where it loads, else the CPU with a warning).");

  public static final ConfigOption<Integer> THREADS =
      key(PREFIX + "model.intra-op-threads")
          .intType()
          .defaultValue(0)
          .withDescription(
              "ONNX Runtime intra-op threads per session, 0 (ONNX Runtime's choice) to 256.");

  public static final ConfigOption<Integer> VISION_BATCH =
      key(PREFIX + "vision.max-batch-size")
          .intType()
          .defaultValue(BatchingConfig.DEFAULT_MAX_BATCH_SIZE)
          .withDescription("vision-encoder: a batch leaves when this full.");

  public static final ConfigOption<Duration> VISION_WAIT =
      key(PREFIX + "vision.max-wait")
          .durationType()
          .defaultValue(BatchingConfig.DEFAULT_MAX_WAIT)
          .withDescription("vision-encoder: ... or when its oldest request waited this long.");

  public static final ConfigOption<Integer> QFORMER_BATCH =
      key(PREFIX + "qformer.max-batch-size")
          .intType()
          .defaultValue(BatchingConfig.DEFAULT_MAX_BATCH_SIZE)
          .withDescription("qformer: a batch leaves when this full.");

  public static final ConfigOption<Duration> QFORMER_WAIT =
      key(PREFIX + "qformer.max-wait")
          .durationType()
          .defaultValue(BatchingConfig.DEFAULT_MAX_WAIT)
          .withDescription("qformer: ... or when its oldest request waited this long.");

  public static final ConfigOption<Integer> MAX_IN_FLIGHT =
      key(PREFIX + "stages.max-in-flight")
          .intType()
          .defaultValue(BatchingConfig.DEFAULT_MAX_IN_FLIGHT)
          .withDescription("vision-encoder / qformer: requests held per subtask.");

  public static final ConfigOption<Integer> LLM_RUNNING =
      key(PREFIX + "llm.max-running")
          .intType()
          .defaultValue(ContinuousBatchingConfig.DEFAULT_MAX_RUNNING)
          .withDescription("llm: sequences decoding at once (continuous batching).");

  public static final ConfigOption<Integer> LLM_IN_FLIGHT =
      key(PREFIX + "llm.max-in-flight")
          .intType()
          .defaultValue(ContinuousBatchingConfig.DEFAULT_MAX_IN_FLIGHT)
          .withDescription("llm: requests held per subtask.");

  public static final ConfigOption<Long> LLM_TOKEN_BUDGET =
      key(PREFIX + "llm.token-budget")
          .longType()
          .noDefaultValue()
          .withDescription(
              "llm: tokens the running sequences may reserve in all (rows x (prompt +"
                  + " max_new_tokens)); bounds the KV cache. Default: no budget.");

  public static final ConfigOption<Duration> TIMEOUT =
      key(PREFIX + "request.default-timeout")
          .durationType()
          .noDefaultValue()
          .withDescription("Deadline of requests without deadline_ms. Default: none.");

  /** Every option of this group, in the documentation's order. */
  public static final List<ConfigOption<?>> ALL =
      List.of(
          MODEL_DIR,
          MODEL_NAME,
          DEVICE,
          THREADS,
          VISION_BATCH,
          VISION_WAIT,
          QFORMER_BATCH,
          QFORMER_WAIT,
          MAX_IN_FLIGHT,
          LLM_RUNNING,
          LLM_IN_FLIGHT,
          LLM_TOKEN_BUDGET,
          TIMEOUT);

  private StageConfigOptions() {}
}
