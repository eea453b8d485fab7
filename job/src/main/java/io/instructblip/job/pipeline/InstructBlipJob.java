package io.instructblip.job.pipeline;

import io.instructblip.engine.model.ModelDirectory;
import io.instructblip.flink.StageFailure;
import io.instructblip.flink.pipeline.InstructBlipStages;
import io.instructblip.flink.pipeline.StageAnswer;
import io.instructblip.flink.pipeline.StageItem;
import io.instructblip.flink.pipeline.StageSerializers;
import io.instructblip.job.kafka.DeadLetter;
import io.instructblip.job.kafka.KafkaPipelineFactory;
import io.instructblip.job.kafka.KafkaSettings;
import io.instructblip.job.kafka.RawRecord;
import io.instructblip.job.kafka.RequestEnvelope;
import io.instructblip.job.kafka.ResponseEnvelope;
import io.instructblip.job.parse.ParseRequests;
import java.nio.file.Path;
import java.time.Clock;
import java.util.Map;
import java.util.Objects;
import java.util.function.UnaryOperator;
import org.apache.flink.api.common.eventtime.WatermarkStrategy;
import org.apache.flink.api.common.functions.MapFunction;
import org.apache.flink.api.common.typeinfo.TypeInformation;
import org.apache.flink.streaming.api.datastream.DataStream;
import org.apache.flink.streaming.api.datastream.SingleOutputStreamOperator;
import org.apache.flink.streaming.api.environment.StreamExecutionEnvironment;

/**
 * The Kafka-to-Kafka job, wired: requests topic -> parse (dead letters for unreadable records,
 * error responses for invalid ones) -> image URIs and request mapping -> the InstructBLIP stages ->
 * responses topic, exactly once by default. Every attributable request gets exactly one response
 * (ok, error or timeout) keyed by its id, with its metadata and headers.
 */
public final class InstructBlipJob {
  private final KafkaSettings kafka;
  private final StageSettings stages;
  private final Map<String, String> uriPolicy;
  private final String modelName;

  /**
   * A job that reads the served model's name from the model directory's manifest when it is built,
   * so the machine that submits it needs the model directory.
   *
   * @param uriPolicy the {@code instructblip.images.*} settings (without the prefix)
   */
  public InstructBlipJob(KafkaSettings kafka, StageSettings stages, Map<String, String> uriPolicy) {
    this(kafka, stages, uriPolicy, null);
  }

  /**
   * @param uriPolicy the {@code instructblip.images.*} settings (without the prefix)
   * @param modelName the served model's name (its manifest's {@code name}), or null to read it from
   *     the model directory when the job is built
   */
  public InstructBlipJob(
      KafkaSettings kafka, StageSettings stages, Map<String, String> uriPolicy, String modelName) {
    this.kafka = Objects.requireNonNull(kafka, "kafka");
    this.stages = Objects.requireNonNull(stages, "stages");
    this.uriPolicy = Map.copyOf(uriPolicy);
    this.modelName = modelName;
  }

  /**
   * Adds the job's operators to {@code env}. Without a given model name it reads the model
   * directory's manifest here, so that a wrong directory fails at submission with the reason, not
   * in the TaskManagers.
   */
  public void addTo(StreamExecutionEnvironment env) {
    addTo(env, UnaryOperator.identity());
  }

  /** The Kafka settings the job was built with. */
  public KafkaSettings kafka() {
    return kafka;
  }

  /** The model and batching settings the job was built with. */
  public StageSettings stages() {
    return stages;
  }

  /** The {@code instructblip.images.*} settings (without the prefix) the job was built with. */
  public Map<String, String> uriPolicy() {
    return uriPolicy;
  }

  /**
   * {@link #addTo(StreamExecutionEnvironment)} with {@code afterStages} applied to the answers
   * before they become responses (tests use it to inject a failure at a known point).
   */
  public void addTo(
      StreamExecutionEnvironment env, UnaryOperator<DataStream<StageAnswer>> afterStages) {
    String model = modelName != null ? modelName : manifestName(stages.engine().modelDir());
    KafkaPipelineFactory factory = new KafkaPipelineFactory(kafka);
    DataStream<RawRecord> raw =
        env.fromSource(factory.requestSource(), WatermarkStrategy.noWatermarks(), "requests")
            .uid("requests");
    SingleOutputStreamOperator<RequestEnvelope> parsed =
        raw.process(new ParseRequests()).name("parse").uid("parse");
    SingleOutputStreamOperator<StageItem> items =
        parsed
            .process(new ToStageItems(uriPolicy, model), StageSerializers.ITEM)
            .name("read-images")
            .uid("read-images");
    InstructBlipStages.Streams out =
        InstructBlipStages.builder(stages.engine())
            .vision(stages.vision())
            .qformer(stages.qformer())
            .llm(stages.llm())
            .llmTokenBudget(stages.llmTokenBudget())
            .build()
            .apply(items);
    TypeInformation<ResponseEnvelope> responseType = TypeInformation.of(ResponseEnvelope.class);
    DataStream<ResponseEnvelope> answered =
        afterStages
            .apply(out.answers())
            .map(new Answered(model))
            .returns(responseType)
            .name("responses");
    DataStream<ResponseEnvelope> failed =
        out.failures().map(new Failed(model)).returns(responseType).name("error-responses");
    answered
        .union(
            failed,
            parsed.getSideOutput(ParseRequests.ERROR_RESPONSES),
            items.getSideOutput(ToStageItems.ERROR_RESPONSES))
        .sinkTo(factory.responseSink())
        .name("response-sink")
        .uid("response-sink");
    DataStream<DeadLetter> deadLetters = parsed.getSideOutput(ParseRequests.DEAD_LETTERS);
    deadLetters.sinkTo(factory.deadLetterSink()).name("dead-letter-sink").uid("dead-letter-sink");
  }

  private static String manifestName(String modelDir) {
    try {
      return ModelDirectory.open(Path.of(modelDir)).manifest().name();
    } catch (RuntimeException e) {
      throw new IllegalArgumentException(
          e.getMessage()
              + "; where the submitting machine has no copy of the model, set the served model's"
              + " name with --model-name or instructblip.model.name",
          e);
    }
  }

  /** An answer to its response. */
  static final class Answered implements MapFunction<StageAnswer, ResponseEnvelope> {
    private static final long serialVersionUID = 1L;
    private final String model;

    Answered(String model) {
      this.model = model;
    }

    @Override
    public ResponseEnvelope map(StageAnswer answer) {
      return new Responses(model, Clock.systemUTC()).answered(answer);
    }
  }

  /** A stage failure to its error (or timeout) response. */
  static final class Failed implements MapFunction<StageFailure, ResponseEnvelope> {
    private static final long serialVersionUID = 1L;
    private final String model;

    Failed(String model) {
      this.model = model;
    }

    @Override
    public ResponseEnvelope map(StageFailure failure) {
      return new Responses(model, Clock.systemUTC()).failed(failure);
    }
  }
}
