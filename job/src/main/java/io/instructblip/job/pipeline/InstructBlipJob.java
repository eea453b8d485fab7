package io.instructblip.job.pipeline;

import io.instructblip.engine.model.ModelDirectory;
import io.instructblip.flink.pipeline.StageAnswer;
import io.instructblip.job.kafka.DeadLetter;
import io.instructblip.job.kafka.KafkaPipelineFactory;
import io.instructblip.job.kafka.KafkaSettings;
import io.instructblip.job.kafka.RawRecord;
import io.instructblip.job.kafka.RequestEnvelope;
import io.instructblip.job.parse.ParseRequests;
import java.nio.file.Path;
import java.util.Map;
import java.util.Objects;
import java.util.function.UnaryOperator;
import org.apache.flink.api.common.eventtime.WatermarkStrategy;
import org.apache.flink.streaming.api.datastream.DataStream;
import org.apache.flink.streaming.api.datastream.SingleOutputStreamOperator;
import org.apache.flink.streaming.api.environment.StreamExecutionEnvironment;

/**
 * The Kafka-to-Kafka job, wired: requests topic -> parse (dead letters for unreadable records,
 * error responses for invalid ones) -> image URIs and request mapping -> the InstructBLIP stages ->
 * responses topic, exactly once by default. From parsed requests to responses it is the shared
 * {@link RequestChain}. Every attributable request gets exactly one response (ok, error or timeout)
 * keyed by its id, with its metadata and headers.
 */
public final class InstructBlipJob {
  private final KafkaSettings kafka;
  private final StageSettings stages;
  private final Map<String, String> uriPolicy;

  /**
   * @param uriPolicy the {@code instructblip.images.*} settings (without the prefix)
   */
  public InstructBlipJob(KafkaSettings kafka, StageSettings stages, Map<String, String> uriPolicy) {
    this.kafka = Objects.requireNonNull(kafka, "kafka");
    this.stages = Objects.requireNonNull(stages, "stages");
    this.uriPolicy = Map.copyOf(uriPolicy);
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
    String model = ModelDirectory.open(Path.of(stages.engine().modelDir())).manifest().name();
    KafkaPipelineFactory factory = new KafkaPipelineFactory(kafka);
    DataStream<RawRecord> raw =
        env.fromSource(factory.requestSource(), WatermarkStrategy.noWatermarks(), "requests")
            .uid("requests");
    SingleOutputStreamOperator<RequestEnvelope> parsed =
        raw.process(new ParseRequests()).name("parse").uid("parse");
    new RequestChain(stages, uriPolicy, model)
        .apply(parsed, afterStages)
        .union(parsed.getSideOutput(ParseRequests.ERROR_RESPONSES))
        .sinkTo(factory.responseSink())
        .name("response-sink")
        .uid("response-sink");
    DataStream<DeadLetter> deadLetters = parsed.getSideOutput(ParseRequests.DEAD_LETTERS);
    deadLetters.sinkTo(factory.deadLetterSink()).name("dead-letter-sink").uid("dead-letter-sink");
  }
}
