package io.instructblip.job.cli;

import io.instructblip.job.pipeline.StageSettings;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Map;
import org.apache.flink.configuration.Configuration;
import picocli.CommandLine.Option;

/**
 * The model and batching flags of the job's commands, as a picocli mixin. A flag that is given
 * overrides the same {@code instructblip.*} key of the Flink configuration (see {@link
 * StageSettings}); what neither sets takes the default.
 */
public final class StageOptions {
  /** The key of the served model's name in a Flink configuration. */
  public static final String MODEL_NAME_KEY = StageSettings.CONFIG_PREFIX + "model.name";

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
    Map<String, String> values = new LinkedHashMap<>(StageSettings.keysOf(configuration));
    put(values, StageSettings.MODEL_DIR, model == null ? null : model.toAbsolutePath().toString());
    if (!values.containsKey(StageSettings.MODEL_DIR) && fallbackModel != null) {
      values.put(StageSettings.MODEL_DIR, fallbackModel.toAbsolutePath().toString());
    }
    put(values, StageSettings.DEVICE, device);
    put(values, StageSettings.THREADS, threads);
    put(values, StageSettings.VISION_BATCH, visionMaxBatch);
    put(values, StageSettings.VISION_WAIT, visionMaxWait);
    put(values, StageSettings.QFORMER_BATCH, qformerMaxBatch);
    put(values, StageSettings.QFORMER_WAIT, qformerMaxWait);
    put(values, StageSettings.MAX_IN_FLIGHT, maxInFlight);
    put(values, StageSettings.LLM_RUNNING, llmMaxRunning);
    put(values, StageSettings.LLM_IN_FLIGHT, llmMaxInFlight);
    put(values, StageSettings.LLM_TOKEN_BUDGET, llmTokenBudget);
    put(values, StageSettings.TIMEOUT, defaultTimeout);
    return StageSettings.fromMap(values);
  }

  /**
   * The served model's name from {@code --model-name} or {@code instructblip.model.name}, or null
   * when neither is set (the job then reads it from the model directory).
   */
  public String modelName(Configuration configuration) {
    return modelName != null ? modelName : configuration.toMap().get(MODEL_NAME_KEY);
  }

  /** Whether {@code --model} was given. */
  public boolean hasModel() {
    return model != null;
  }

  private static void put(Map<String, String> values, String key, Object value) {
    if (value != null) {
      values.put(key, value.toString());
    }
  }
}
