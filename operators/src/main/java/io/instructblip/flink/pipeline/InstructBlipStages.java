package io.instructblip.flink.pipeline;

import io.instructblip.flink.BatchingConfig;
import io.instructblip.flink.ContinuousBatchingConfig;
import io.instructblip.flink.StageFailure;
import io.instructblip.flink.StageOperators;
import io.instructblip.flink.StageOutputs;
import java.util.Objects;
import org.apache.flink.streaming.api.datastream.DataStream;
import org.apache.flink.streaming.api.datastream.SingleOutputStreamOperator;

/**
 * Wires InstructBLIP's stages onto a stream of requests: {@code prepare} (image decoding and
 * tokenizing, on a stage thread) -> {@code vision-encoder} (micro-batched) -> {@code qformer}
 * (micro-batched) -> {@code llm} (continuous batching). Answers come out of {@link
 * Streams#answers()}; every request a stage could not answer comes out of {@link
 * Streams#failures()} with its id, so together they answer every request once.
 *
 * <pre>{@code
 * InstructBlipStages.Streams out = InstructBlipStages.builder(new EngineSpec(dir, "auto", 0))
 *     .vision(BatchingConfig.builder().maxBatchSize(16).build())
 *     .build()
 *     .apply(requests);
 * }</pre>
 */
public final class InstructBlipStages {
  /** Operator names (and uids) in the job graph. */
  public static final String VISION = "vision-encoder";

  public static final String QFORMER = "qformer";
  public static final String LLM = "llm";

  /** The two outputs of the stages. */
  public record Streams(DataStream<StageAnswer> answers, DataStream<StageFailure> failures) {}

  private final EngineSpec engine;
  private final BatchingConfig prepare;
  private final BatchingConfig vision;
  private final BatchingConfig qformer;
  private final ContinuousBatchingConfig llm;
  private final long llmTokenBudget;

  private InstructBlipStages(Builder b) {
    this.engine = b.engine;
    this.prepare = b.prepare;
    this.vision = b.vision;
    this.qformer = b.qformer;
    this.llm = b.llm;
    this.llmTokenBudget = b.llmTokenBudget;
  }

  /** A builder with each stage's default batching. */
  public static Builder builder(EngineSpec engine) {
    return new Builder(engine);
  }

  /** Appends the stages to {@code requests}. */
  public Streams apply(DataStream<StageItem> requests) {
    StageItemCodec codec = new StageItemCodec();
    SingleOutputStreamOperator<StageItem> prepared =
        StageOperators.microBatch(
                requests,
                PrepareFunction.NAME,
                new PrepareFunction(engine),
                codec,
                prepare,
                StageSerializers.ITEM)
            .uid(PrepareFunction.NAME);
    SingleOutputStreamOperator<StageItem> embedded =
        StageOperators.microBatch(
                prepared,
                VISION,
                new VisualStageFunction(engine, VisualStageFunction.Stage.VISION_ENCODER),
                codec,
                vision,
                StageSerializers.ITEM)
            .uid(VISION);
    SingleOutputStreamOperator<StageItem> queried =
        StageOperators.microBatch(
                embedded,
                QFORMER,
                new VisualStageFunction(engine, VisualStageFunction.Stage.QFORMER),
                codec,
                qformer,
                StageSerializers.ITEM)
            .uid(QFORMER);
    SingleOutputStreamOperator<StageAnswer> answers =
        StageOperators.continuousBatch(
                queried,
                LLM,
                new LlmFunction(engine, llm.maxRunning(), llmTokenBudget),
                codec,
                llm,
                StageSerializers.ANSWER)
            .uid(LLM);
    DataStream<StageFailure> failures =
        prepared
            .getSideOutput(StageOutputs.FAILURES)
            .union(
                embedded.getSideOutput(StageOutputs.FAILURES),
                queried.getSideOutput(StageOutputs.FAILURES),
                answers.getSideOutput(StageOutputs.FAILURES));
    return new Streams(answers, failures);
  }

  /** Builds {@link InstructBlipStages}; each stage starts from its config's defaults. */
  public static final class Builder {
    private final EngineSpec engine;
    private BatchingConfig prepare = PrepareFunction.DEFAULT_BATCHING;
    private BatchingConfig vision = BatchingConfig.builder().build();
    private BatchingConfig qformer = BatchingConfig.builder().build();
    private ContinuousBatchingConfig llm = ContinuousBatchingConfig.builder().build();
    private long llmTokenBudget = LlmFunction.NO_TOKEN_BUDGET;

    private Builder(EngineSpec engine) {
      this.engine = Objects.requireNonNull(engine, "engine");
    }

    /** How the {@code prepare} stage batches; default {@link PrepareFunction#DEFAULT_BATCHING}. */
    public Builder prepare(BatchingConfig config) {
      this.prepare = Objects.requireNonNull(config, "prepare");
      return this;
    }

    public Builder vision(BatchingConfig config) {
      this.vision = Objects.requireNonNull(config, "vision");
      return this;
    }

    public Builder qformer(BatchingConfig config) {
      this.qformer = Objects.requireNonNull(config, "qformer");
      return this;
    }

    public Builder llm(ContinuousBatchingConfig config) {
      this.llm = Objects.requireNonNull(config, "llm");
      return this;
    }

    /**
     * The tokens the llm stage's running sequences may reserve in all (see {@link LlmFunction});
     * default: no budget.
     */
    public Builder llmTokenBudget(long tokens) {
      this.llmTokenBudget = LlmFunction.checkTokenBudget(tokens);
      return this;
    }

    public InstructBlipStages build() {
      return new InstructBlipStages(this);
    }
  }
}
