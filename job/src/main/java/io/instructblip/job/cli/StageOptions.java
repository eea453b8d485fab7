package io.instructblip.job.cli;

import io.instructblip.job.config.ConfigValues;
import io.instructblip.job.config.StageConfigOptions;
import io.instructblip.job.wiring.StageSettings;
import java.nio.file.Path;
import org.apache.flink.configuration.Configuration;
import picocli.CommandLine.Option;

/**
 * The model and batching flags of the job's commands, as a picocli mixin. A flag that is given
 * overrides the same {@code instructblip.*} key of the Flink configuration (see {@link
 * StageConfigOptions}); what neither sets takes the default.
 */
public final class StageOptions {
  @Option(names = "--model", paramLabel = "DIR", description = "Model directory.")
  Path model;

  @Option(
      names = "--model-name",
      paramLabel = "NAME",
      description =
          "The served model's name (its manifest's name); given, the submitting machine needs no"
              + " copy of the model (key instructblip.model.name).")
  String modelName;

  @Option(names = "--device", description = "cpu, cuda, cuda:N or auto (default auto).")
  String device;

  @Option(
      names = "--threads",
      description = "ONNX Runtime intra-op threads per session (default 0: its own choice).")
  Integer threads;

  @Option(names = "--vision-max-batch", description = "vision-encoder: max batch size (8).")
  Integer visionMaxBatch;

  @Option(names = "--vision-max-wait", description = "vision-encoder: max wait, e.g. \"10 ms\".")
  String visionMaxWait;

  @Option(names = "--qformer-max-batch", description = "qformer: max batch size (8).")
  Integer qformerMaxBatch;

  @Option(names = "--qformer-max-wait", description = "qformer: max wait, e.g. \"10 ms\".")
  String qformerMaxWait;

  @Option(names = "--max-in-flight", description = "vision/qformer: requests per subtask (64).")
  Integer maxInFlight;

  @Option(names = "--llm-max-running", description = "llm: sequences decoding at once (8).")
  Integer llmMaxRunning;

  @Option(names = "--llm-max-in-flight", description = "llm: requests per subtask (32).")
  Integer llmMaxInFlight;

  @Option(
      names = "--llm-token-budget",
      description =
          "llm: tokens (prompt + max_new_tokens per row) the running sequences may reserve in all"
              + " (default: no budget).")
  Long llmTokenBudget;

  @Option(
      names = "--default-timeout",
      description = "Deadline of requests without deadline_ms, e.g. \"60 s\" (default: none).")
  String defaultTimeout;

  /** The settings from {@code configuration} and these flags; {@code model} if none is set. */
  public StageSettings toSettings(Configuration configuration, Path fallbackModel) {
    Configuration conf = new Configuration(configuration);
    if (model != null) {
      conf.set(StageConfigOptions.MODEL_DIR, model.toAbsolutePath().toString());
    } else if (!conf.contains(StageConfigOptions.MODEL_DIR) && fallbackModel != null) {
      conf.set(StageConfigOptions.MODEL_DIR, fallbackModel.toAbsolutePath().toString());
    }
    ConfigValues.putFlag(conf, StageConfigOptions.DEVICE, device);
    ConfigValues.putFlag(conf, StageConfigOptions.THREADS, threads);
    ConfigValues.putFlag(conf, StageConfigOptions.VISION_BATCH, visionMaxBatch);
    ConfigValues.putFlag(conf, StageConfigOptions.VISION_WAIT, visionMaxWait);
    ConfigValues.putFlag(conf, StageConfigOptions.QFORMER_BATCH, qformerMaxBatch);
    ConfigValues.putFlag(conf, StageConfigOptions.QFORMER_WAIT, qformerMaxWait);
    ConfigValues.putFlag(conf, StageConfigOptions.MAX_IN_FLIGHT, maxInFlight);
    ConfigValues.putFlag(conf, StageConfigOptions.LLM_RUNNING, llmMaxRunning);
    ConfigValues.putFlag(conf, StageConfigOptions.LLM_IN_FLIGHT, llmMaxInFlight);
    ConfigValues.putFlag(conf, StageConfigOptions.LLM_TOKEN_BUDGET, llmTokenBudget);
    ConfigValues.putFlag(conf, StageConfigOptions.TIMEOUT, defaultTimeout);
    return StageSettings.fromConfiguration(conf);
  }

  /**
   * The served model's name from {@code --model-name} or {@code instructblip.model.name}, or null
   * when neither is set (the job then reads it from the model directory).
   */
  public String modelName(Configuration configuration) {
    return modelName != null
        ? modelName
        : configuration.getOptional(StageConfigOptions.MODEL_NAME).orElse(null);
  }

  /** Whether {@code --model} was given. */
  public boolean hasModel() {
    return model != null;
  }
}
