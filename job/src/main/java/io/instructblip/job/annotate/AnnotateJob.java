package io.instructblip.job.annotate;

import io.instructblip.flink.pipeline.StageAnswer;
import io.instructblip.job.kafka.RequestEnvelope;
import io.instructblip.job.kafka.ResponseEnvelope;
import io.instructblip.job.wiring.RequestPipeline;
import io.instructblip.job.wiring.StageSettings;
import io.instructblip.schema.avro.InferenceResponse;
import java.util.Map;
import java.util.Objects;
import java.util.function.UnaryOperator;
import org.apache.flink.api.common.eventtime.WatermarkStrategy;
import org.apache.flink.api.common.typeinfo.TypeInformation;
import org.apache.flink.connector.file.sink.FileSink;
import org.apache.flink.connector.file.src.FileSource;
import org.apache.flink.connector.file.src.enumerate.NonSplittingRecursiveEnumerator;
import org.apache.flink.connector.file.src.reader.TextLineInputFormat;
import org.apache.flink.streaming.api.datastream.DataStream;
import org.apache.flink.streaming.api.datastream.SingleOutputStreamOperator;
import org.apache.flink.streaming.api.environment.StreamExecutionEnvironment;
import org.apache.flink.streaming.api.functions.sink.filesystem.OutputFileConfig;
import org.apache.flink.streaming.api.functions.sink.filesystem.bucketassigners.BasePathBucketAssigner;

/**
 * The {@code annotate} job, wired: a bounded FileSource (the image files of a folder tree, or the
 * lines of a manifest) -> one request per image or line -> the Kafka job's {@link RequestPipeline}
 * (read images under the URI policy, the stages, responses) -> counts -> a FileSink of Parquet or
 * JSONL part files, committed on checkpoints. Every request becomes exactly one row; a bad image or
 * line is an error row.
 */
public final class AnnotateJob {
  private final AnnotateSettings settings;
  private final StageSettings stages;
  private final Map<String, String> uriPolicy;

  /**
   * @param uriPolicy the {@code instructblip.images.*} settings (without the prefix)
   */
  public AnnotateJob(
      AnnotateSettings settings, StageSettings stages, Map<String, String> uriPolicy) {
    this.settings = Objects.requireNonNull(settings, "settings");
    this.stages = Objects.requireNonNull(stages, "stages");
    this.uriPolicy = Map.copyOf(uriPolicy);
  }

  /** Adds the job's operators to {@code env}. */
  public void addTo(StreamExecutionEnvironment env) {
    addTo(env, UnaryOperator.identity());
  }

  /**
   * {@link #addTo(StreamExecutionEnvironment)} with {@code afterStages} applied to the answers
   * before they become rows (tests inject failures there).
   */
  public void addTo(
      StreamExecutionEnvironment env, UnaryOperator<DataStream<StageAnswer>> afterStages) {
    DataStream<ResponseEnvelope> manifestErrors = null;
    DataStream<RequestEnvelope> requests;
    TypeInformation<RequestEnvelope> requestType = TypeInformation.of(RequestEnvelope.class);
    if (settings.manifest() == null) {
      ImageFileFilter filter =
          new ImageFileFilter(settings.input(), settings.extensions(), settings.glob());
      FileSource<String> source =
          FileSource.forBulkFileFormat(
                  new ImagePathFormat(), new org.apache.flink.core.fs.Path(settings.input()))
              .setFileEnumerator(() -> new NonSplittingRecursiveEnumerator(filter))
              .build();
      requests =
          env.fromSource(source, WatermarkStrategy.noWatermarks(), "images")
              .uid("images")
              .map(new FolderRequests(settings.input(), settings.template()))
              .returns(requestType)
              .name("requests")
              .uid("requests");
    } else {
      FileSource<String> source =
          FileSource.forRecordStreamFormat(
                  new TextLineInputFormat(), new org.apache.flink.core.fs.Path(settings.manifest()))
              .build();
      SingleOutputStreamOperator<RequestEnvelope> parsed =
          env.fromSource(source, WatermarkStrategy.noWatermarks(), "manifest")
              .uid("manifest")
              .process(
                  new ManifestRequests(
                      settings.input(), settings.csvManifest(), settings.template()),
                  requestType)
              .name("requests")
              .uid("requests");
      manifestErrors = parsed.getSideOutput(ManifestRequests.ERROR_ROWS);
      requests = parsed;
    }
    if (settings.maxRate() > 0) {
      requests =
          requests
              .map(new RequestRateLimit(settings.maxRate()))
              .returns(requestType)
              .name("max-rate")
              .uid("max-rate");
    }
    DataStream<ResponseEnvelope> responses =
        new RequestPipeline(stages, uriPolicy).apply(requests, afterStages);
    if (manifestErrors != null) {
      responses = responses.union(manifestErrors);
    }
    responses
        .map(new AnnotationCounts())
        .returns(TypeInformation.of(InferenceResponse.class))
        .name("count")
        .uid("count")
        .sinkTo(sink())
        .name("rows")
        .uid("rows");
  }

  private FileSink<InferenceResponse> sink() {
    return FileSink.forBulkFormat(
            new org.apache.flink.core.fs.Path(settings.output()), settings.format().writerFactory())
        .withBucketAssigner(new BasePathBucketAssigner<>())
        .withRollingPolicy(new PartSizeRollingPolicy(settings.partBytes()))
        .withOutputFileConfig(
            OutputFileConfig.builder()
                .withPartPrefix("part")
                .withPartSuffix(settings.format().suffix())
                .build())
        .build();
  }
}
