package io.instructblip.job.pipeline;

import io.instructblip.flink.StageFailure;
import io.instructblip.flink.pipeline.InstructBlipStages;
import io.instructblip.flink.pipeline.StageAnswer;
import io.instructblip.flink.pipeline.StageItem;
import io.instructblip.flink.pipeline.StageSerializers;
import io.instructblip.job.kafka.RequestEnvelope;
import io.instructblip.job.kafka.ResponseEnvelope;
import java.time.Clock;
import java.util.Map;
import java.util.Objects;
import java.util.function.UnaryOperator;
import org.apache.flink.api.common.functions.MapFunction;
import org.apache.flink.api.common.typeinfo.TypeInformation;
import org.apache.flink.streaming.api.datastream.DataStream;
import org.apache.flink.streaming.api.datastream.SingleOutputStreamOperator;

/**
 * The part of a job from valid requests to their responses, shared by the Kafka job and {@code
 * annotate}: read images (under the job's URI policy) -> the InstructBLIP stages -> one response
 * per request (answer, error or timeout). Whatever the source and sink, a request entering here
 * leaves as exactly one {@link ResponseEnvelope}.
 *
 * <pre>{@code
 * DataStream<ResponseEnvelope> responses =
 *     new RequestChain(stages, uriPolicy, modelName).apply(requests, UnaryOperator.identity());
 * }</pre>
 */
public final class RequestChain {
  private final StageSettings stages;
  private final Map<String, String> uriPolicy;
  private final String model;

  /**
   * @param uriPolicy the {@code instructblip.images.*} settings (without the prefix)
   * @param model the served model's name (the manifest's {@code name})
   */
  public RequestChain(StageSettings stages, Map<String, String> uriPolicy, String model) {
    this.stages = Objects.requireNonNull(stages, "stages");
    this.uriPolicy = Map.copyOf(uriPolicy);
    this.model = Objects.requireNonNull(model, "model");
  }

  /**
   * Adds read-images, the stages and the response mapping after {@code requests}; {@code
   * afterStages} is applied to the answers before they become responses (tests inject failures
   * there).
   */
  public DataStream<ResponseEnvelope> apply(
      DataStream<RequestEnvelope> requests, UnaryOperator<DataStream<StageAnswer>> afterStages) {
    SingleOutputStreamOperator<StageItem> items =
        requests
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
    return answered.union(failed, items.getSideOutput(ToStageItems.ERROR_RESPONSES));
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
