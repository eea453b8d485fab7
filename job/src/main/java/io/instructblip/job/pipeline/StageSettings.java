package io.instructblip.job.pipeline;

import io.instructblip.flink.BatchingConfig;
import io.instructblip.flink.ContinuousBatchingConfig;
import io.instructblip.flink.pipeline.EngineSpec;
import io.instructblip.flink.pipeline.LlmFunction;
import java.time.Duration;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import org.apache.flink.configuration.Configuration;
import org.apache.flink.util.TimeUtils;

/**
 * The model and batching settings of the job: which model directory on which device, and each
 * stage's batching. Read from {@code instructblip.*} keys (a Flink configuration or CLI flags with
 * the same names); absent keys take the stage configs' defaults. The README's configuration table
 * lists them.
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
  public static final String CONFIG_PREFIX = "instructblip.";

  public static final String MODEL_DIR = "model.dir";
  public static final String DEVICE = "model.device";
  public static final String THREADS = "model.intra-op-threads";
  public static final String VISION_BATCH = "vision.max-batch-size";
  public static final String VISION_WAIT = "vision.max-wait";
  public static final String QFORMER_BATCH = "qformer.max-batch-size";
  public static final String QFORMER_WAIT = "qformer.max-wait";
  public static final String MAX_IN_FLIGHT = "stages.max-in-flight";
  public static final String LLM_RUNNING = "llm.max-running";
  public static final String LLM_IN_FLIGHT = "llm.max-in-flight";
  public static final String LLM_TOKEN_BUDGET = "llm.token-budget";
  public static final String TIMEOUT = "request.default-timeout";

  /** Every key this record reads. */
  public static final List<String> KEYS =
      List.of(
          MODEL_DIR,
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

  /** Default device: CUDA where it loads, else the CPU with a warning. */
  public static final String DEFAULT_DEVICE = "auto";

  /**
   * Default ONNX Runtime intra-op threads per session: 0, ONNX Runtime's own choice (one per core).
   * Measured on 2 cores with the small presets, it gave the operators more throughput than 1 thread
   * per session, although the stages of a subtask run at once (docs/benchmarks.md).
   */
  public static final int DEFAULT_THREADS = 0;

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
    for (String key : values.keySet()) {
      if (!KEYS.contains(key)) {
        throw new IllegalArgumentException(
            "unknown setting " + CONFIG_PREFIX + key + "; known: " + String.join(", ", KEYS));
      }
    }
    String modelDir = values.get(MODEL_DIR);
    if (modelDir == null || modelDir.isBlank()) {
      throw new IllegalArgumentException(
          "no model directory: pass --model DIR (or set " + CONFIG_PREFIX + MODEL_DIR + ")");
    }
    EngineSpec engine =
        new EngineSpec(
            modelDir,
            values.getOrDefault(DEVICE, DEFAULT_DEVICE),
            integer(values, THREADS, DEFAULT_THREADS));
    Duration timeout = duration(values, TIMEOUT, BatchingConfig.DEFAULT_TIMEOUT);
    int inFlight = integer(values, MAX_IN_FLIGHT, BatchingConfig.DEFAULT_MAX_IN_FLIGHT);
    BatchingConfig vision =
        BatchingConfig.builder()
            .maxBatchSize(integer(values, VISION_BATCH, BatchingConfig.DEFAULT_MAX_BATCH_SIZE))
            .maxWait(duration(values, VISION_WAIT, BatchingConfig.DEFAULT_MAX_WAIT))
            .maxInFlight(inFlight)
            .defaultTimeout(timeout)
            .build();
    BatchingConfig qformer =
        BatchingConfig.builder()
            .maxBatchSize(integer(values, QFORMER_BATCH, BatchingConfig.DEFAULT_MAX_BATCH_SIZE))
            .maxWait(duration(values, QFORMER_WAIT, BatchingConfig.DEFAULT_MAX_WAIT))
            .maxInFlight(inFlight)
            .defaultTimeout(timeout)
            .build();
    ContinuousBatchingConfig llm =
        ContinuousBatchingConfig.builder()
            .maxRunning(integer(values, LLM_RUNNING, ContinuousBatchingConfig.DEFAULT_MAX_RUNNING))
            .maxInFlight(
                integer(values, LLM_IN_FLIGHT, ContinuousBatchingConfig.DEFAULT_MAX_IN_FLIGHT))
            .defaultTimeout(timeout)
            .build();
    return new StageSettings(
        engine, vision, qformer, llm, whole(values, LLM_TOKEN_BUDGET, LlmFunction.NO_TOKEN_BUDGET));
  }

  /** Settings from a Flink configuration's {@code instructblip.*} keys of this record. */
  public static Map<String, String> keysOf(Configuration configuration) {
    Map<String, String> values = new LinkedHashMap<>();
    configuration
        .toMap()
        .forEach(
            (k, v) -> {
              if (k.startsWith(CONFIG_PREFIX)
                  && KEYS.contains(k.substring(CONFIG_PREFIX.length()))) {
                values.put(k.substring(CONFIG_PREFIX.length()), v);
              }
            });
    return values;
  }

  private static int integer(Map<String, String> values, String key, int fallback) {
    long v = whole(values, key, fallback);
    if (v != (int) v) {
      throw new IllegalArgumentException(CONFIG_PREFIX + key + " is too large: " + v);
    }
    return (int) v;
  }

  private static long whole(Map<String, String> values, String key, long fallback) {
    String v = values.get(key);
    try {
      return v == null ? fallback : Long.parseLong(v.strip());
    } catch (NumberFormatException e) {
      throw new IllegalArgumentException(
          CONFIG_PREFIX + key + " must be a whole number, got \"" + v + "\"", e);
    }
  }

  private static Duration duration(Map<String, String> values, String key, Duration fallback) {
    String v = values.get(key);
    try {
      return v == null ? fallback : TimeUtils.parseDuration(v);
    } catch (IllegalArgumentException e) {
      throw new IllegalArgumentException(
          CONFIG_PREFIX + key + " must be a duration like \"10 ms\" or \"2 s\", got \"" + v + "\"",
          e);
    }
  }
}
