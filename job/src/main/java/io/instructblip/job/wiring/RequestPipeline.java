package io.instructblip.job.wiring;

import io.instructblip.engine.api.GenerationDefaults;
import io.instructblip.engine.model.ModelDirectory;
import io.instructblip.engine.model.ModelManifest;
import io.instructblip.flink.StageFailure;
import io.instructblip.flink.StageOutputs;
import io.instructblip.flink.pipeline.InstructBlipStages;
import io.instructblip.flink.pipeline.StageAnswer;
import io.instructblip.flink.pipeline.StageItem;
import io.instructblip.flink.pipeline.StageSerializers;
import io.instructblip.job.fetch.FetchSettings;
import io.instructblip.job.kafka.RequestEnvelope;
import io.instructblip.job.kafka.ResponseEnvelope;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Clock;
import java.util.Map;
import java.util.Objects;
import java.util.concurrent.TimeUnit;
import java.util.function.UnaryOperator;
import org.apache.flink.api.common.functions.OpenContext;
import org.apache.flink.api.common.functions.RichMapFunction;
import org.apache.flink.api.common.typeinfo.TypeInformation;
import org.apache.flink.api.java.typeutils.EitherTypeInfo;
import org.apache.flink.streaming.api.datastream.AsyncDataStream;
import org.apache.flink.streaming.api.datastream.DataStream;
import org.apache.flink.streaming.api.datastream.SingleOutputStreamOperator;
import org.apache.flink.types.Either;

/**
 * The job's chain from parsed requests to responses, shared by every job that answers {@link
 * RequestEnvelope}s: {@code read-images} (Flink async I/O over {@link FetchImages}: URIs fetched on
 * threads of their own, a deadline per request) -> the InstructBLIP stages ({@code prepare}, {@code
 * vision-encoder}, {@code qformer}, {@code llm}) -> one response per request (ok, error or timeout)
 * with its metadata and headers.
 *
 * <pre>{@code
 * DataStream<ResponseEnvelope> responses =
 *     new RequestPipeline(stageSettings, imageSettings).apply(parsedRequests);
 * }</pre>
 */
public final class RequestPipeline {
  private final StageSettings stages;
  private final Map<String, String> imageSettings;
  private final GenerationDefaults generationDefaults;
  private final String model;

  /**
   * Reads the model directory's manifest here, so that a wrong directory fails at submission with
   * the reason, not in the TaskManagers.
   *
   * @param imageSettings the {@code instructblip.images.*} settings (without the prefix)
   */
  public RequestPipeline(StageSettings stages, Map<String, String> imageSettings) {
    this(stages, imageSettings, null);
  }

  /**
   * @param modelName the served model's name; null reads it from the manifest here. Given, the
   *     submitting machine needs no copy of the model: the manifest is read where it exists, and
   *     otherwise the reference generation defaults bound what a request may ask.
   */
  public RequestPipeline(
      StageSettings stages, Map<String, String> imageSettings, String modelName) {
    this.stages = Objects.requireNonNull(stages, "stages");
    this.imageSettings = Map.copyOf(imageSettings);
    String modelDir = stages.engine().modelDir();
    ModelManifest manifest =
        modelName == null || Files.isDirectory(Path.of(modelDir)) ? manifest(modelDir) : null;
    this.model = modelName != null ? modelName : manifest.name();
    this.generationDefaults =
        manifest != null ? manifest.generationDefaults() : GenerationDefaults.REFERENCE;
  }

  private static ModelManifest manifest(String modelDir) {
    try {
      return ModelDirectory.open(Path.of(modelDir)).manifest();
    } catch (RuntimeException e) {
      throw new IllegalArgumentException(
          e.getMessage()
              + "; where the submitting machine has no copy of the model, set the served model's"
              + " name with --model-name or instructblip.model.name",
          e);
    }
  }

  /** The served model's generation defaults (they bound what a request may ask). */
  public GenerationDefaults generationDefaults() {
    return generationDefaults;
  }

  /** The model name the responses carry (the manifest's {@code name}). */
  public String model() {
    return model;
  }

  /** The responses to {@code requests}, exactly one per request. */
  public DataStream<ResponseEnvelope> apply(DataStream<RequestEnvelope> requests) {
    return apply(requests, UnaryOperator.identity());
  }

  /**
   * {@link #apply(DataStream)} with {@code afterStages} applied to the answers before they become
   * responses (tests use it to inject a failure at a known point).
   */
  public DataStream<ResponseEnvelope> apply(
      DataStream<RequestEnvelope> requests, UnaryOperator<DataStream<StageAnswer>> afterStages) {
    FetchSettings fetch = FetchSettings.fromMap(imageSettings);
    TypeInformation<Either<StageItem, StageFailure>> fetchedType =
        new EitherTypeInfo<>(StageSerializers.ITEM, TypeInformation.of(StageFailure.class));
    SingleOutputStreamOperator<StageItem> items =
        AsyncDataStream.unorderedWait(
                requests,
                new FetchImages(imageSettings, model),
                fetch.timeout().toMillis(),
                TimeUnit.MILLISECONDS,
                fetch.capacity())
            .returns(fetchedType)
            .name(FetchImages.NAME)
            .uid(FetchImages.NAME)
            .process(new SplitFetched(), StageSerializers.ITEM)
            .name("to-stage-items")
            .uid("to-stage-items");
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
        out.failures()
            .union(items.getSideOutput(StageOutputs.FAILURES))
            .map(new Failed(model))
            .returns(responseType)
            .name("error-responses");
    return answered.union(failed);
  }

  /**
   * A stage's output to its response, with one {@link Responses} per subtask; a response that
   * cannot be built is an internal-error response for the same request, never a failed task.
   */
  abstract static class ToResponse<T> extends RichMapFunction<T, ResponseEnvelope> {
    private static final long serialVersionUID = 1L;
    private final String model;
    private transient Responses responses;

    ToResponse(String model) {
      this.model = model;
    }

    @Override
    public void open(OpenContext context) {
      responses = new Responses(model, Clock.systemUTC());
    }

    @Override
    public ResponseEnvelope map(T output) {
      try {
        return respond(responses, output);
      } catch (RuntimeException e) {
        return Responses.unexpected(requestId(output), e);
      }
    }

    abstract ResponseEnvelope respond(Responses responses, T output);

    abstract String requestId(T output);
  }

  /** An answer to its response. */
  static final class Answered extends ToResponse<StageAnswer> {
    private static final long serialVersionUID = 1L;

    Answered(String model) {
      super(model);
    }

    @Override
    ResponseEnvelope respond(Responses responses, StageAnswer answer) {
      return responses.answered(answer);
    }

    @Override
    String requestId(StageAnswer answer) {
      return answer.result().id();
    }
  }

  /** A failure (of the fetch or a stage) to its error (or timeout) response. */
  static final class Failed extends ToResponse<StageFailure> {
    private static final long serialVersionUID = 1L;

    Failed(String model) {
      super(model);
    }

    @Override
    ResponseEnvelope respond(Responses responses, StageFailure failure) {
      return responses.failed(failure);
    }

    @Override
    String requestId(StageFailure failure) {
      return failure.requestId();
    }
  }
}
