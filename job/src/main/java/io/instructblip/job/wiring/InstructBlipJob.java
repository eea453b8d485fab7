package io.instructblip.job.wiring;

import io.instructblip.engine.RequestLimits;
import io.instructblip.flink.pipeline.StageAnswer;
import io.instructblip.job.kafka.DeadLetter;
import io.instructblip.job.kafka.KafkaPipelineFactory;
import io.instructblip.job.kafka.KafkaSettings;
import io.instructblip.job.kafka.RawRecord;
import io.instructblip.job.kafka.RequestEnvelope;
import io.instructblip.job.parse.ParseRequests;
import io.instructblip.job.registry.RegistryOptions;
import io.instructblip.job.registry.RegistrySettings;
import io.instructblip.schema.WireFormat;
import java.util.Map;
import java.util.Objects;
import java.util.function.UnaryOperator;
import org.apache.flink.api.common.eventtime.WatermarkStrategy;
import org.apache.flink.streaming.api.datastream.DataStream;
import org.apache.flink.streaming.api.datastream.SingleOutputStreamOperator;
import org.apache.flink.streaming.api.environment.StreamExecutionEnvironment;

/**
 * The Kafka-to-Kafka job, wired: requests topic -> parse (dead letters for unreadable records,
 * error responses for invalid ones) -> the {@link RequestPipeline} (image URIs fetched off the task
 * thread, the InstructBLIP stages) -> responses topic, exactly once by default. Every attributable
 * request gets exactly one response (ok, error or timeout) keyed by its id, with its metadata and
 * headers.
 */
public final class InstructBlipJob {
  private final KafkaSettings kafka;
  private final StageSettings stages;
  private final Map<String, String> imageSettings;
  private final RequestLimits limits;
  private final String modelName;
  private final RegistrySettings registry;

  /**
   * A job with the default {@link RequestLimits} that reads the served model's name from the model
   * directory's manifest when it is built (so the submitting machine needs the model).
   *
   * @param imageSettings the {@code instructblip.images.*} settings (without the prefix)
   */
  public InstructBlipJob(
      KafkaSettings kafka, StageSettings stages, Map<String, String> imageSettings) {
    this(kafka, stages, imageSettings, RequestLimits.defaults(), null);
  }

  /** A job with {@code limits}; the model's name from its manifest. */
  public InstructBlipJob(
      KafkaSettings kafka,
      StageSettings stages,
      Map<String, String> imageSettings,
      RequestLimits limits) {
    this(kafka, stages, imageSettings, limits, null);
  }

  /**
   * @param imageSettings the {@code instructblip.images.*} settings (without the prefix)
   * @param limits what one request may carry ({@code instructblip.limits.*})
   * @param modelName the served model's name (its manifest's {@code name}), or null to read it from
   *     the model directory when the job is built
   */
  public InstructBlipJob(
      KafkaSettings kafka,
      StageSettings stages,
      Map<String, String> imageSettings,
      RequestLimits limits,
      String modelName) {
    this.kafka = Objects.requireNonNull(kafka, "kafka");
    this.stages = Objects.requireNonNull(stages, "stages");
    this.imageSettings = Map.copyOf(imageSettings);
    this.limits = Objects.requireNonNull(limits, "limits");
    this.modelName = modelName;
    this.registry = null;
  }

  private InstructBlipJob(InstructBlipJob job, RegistrySettings registry) {
    this.kafka = job.kafka;
    this.stages = job.stages;
    this.imageSettings = job.imageSettings;
    this.limits = job.limits;
    this.modelName = job.modelName;
    this.registry = registry;
  }

  /**
   * This job reading Schema Registry framed requests (and writing responses so when the response
   * format is {@code registry}) with the registry {@code registry}.
   *
   * @param registry the registry's settings, or null for none
   * @throws IllegalArgumentException when the response format is {@code registry} and there is no
   *     registry
   */
  public InstructBlipJob withSchemaRegistry(RegistrySettings registry) {
    if (registry == null && kafka.responseFormat() == WireFormat.REGISTRY) {
      throw new IllegalArgumentException(
          "response-format registry needs a schema registry; set " + RegistryOptions.URL.key());
    }
    return new InstructBlipJob(this, registry);
  }

  /** The Schema Registry's settings, or null when the job has none. */
  public RegistrySettings schemaRegistry() {
    return registry;
  }

  /** The Kafka settings the job was built with. */
  public KafkaSettings kafka() {
    return kafka;
  }

  /** The stage settings the job was built with. */
  public StageSettings stages() {
    return stages;
  }

  /** The {@code instructblip.images.*} settings (without the prefix). */
  public Map<String, String> uriPolicy() {
    return imageSettings;
  }

  /** What one request may carry. */
  public RequestLimits limits() {
    return limits;
  }

  /**
   * Adds the job's operators to {@code env}. Reads the model directory's manifest here, so that a
   * wrong directory fails at submission with the reason, not in the TaskManagers.
   */
  public void addTo(StreamExecutionEnvironment env) {
    addTo(env, UnaryOperator.identity());
  }

  /**
   * {@link #addTo(StreamExecutionEnvironment)} with {@code afterStages} applied to the answers
   * before they become responses (tests use it to inject a failure at a known point).
   */
  public void addTo(
      StreamExecutionEnvironment env, UnaryOperator<DataStream<StageAnswer>> afterStages) {
    RequestPipeline pipeline = new RequestPipeline(stages, imageSettings, modelName);
    KafkaPipelineFactory factory = new KafkaPipelineFactory(kafka);
    DataStream<RawRecord> raw =
        env.fromSource(factory.requestSource(), WatermarkStrategy.noWatermarks(), "requests")
            .uid("requests");
    SingleOutputStreamOperator<RequestEnvelope> parsed =
        raw.process(new ParseRequests(limits, pipeline.generationDefaults(), registry))
            .name("parse")
            .uid("parse");
    pipeline
        .apply(parsed, afterStages)
        .union(parsed.getSideOutput(ParseRequests.ERROR_RESPONSES))
        .sinkTo(factory.responseSink(registry))
        .name("response-sink")
        .uid("response-sink");
    DataStream<DeadLetter> deadLetters = parsed.getSideOutput(ParseRequests.DEAD_LETTERS);
    deadLetters.sinkTo(factory.deadLetterSink()).name("dead-letter-sink").uid("dead-letter-sink");
  }
}
