package io.instructblip.flink.pipeline;

import io.instructblip.engine.InstructBlipEngine;
import io.instructblip.flink.BatchFunction;
import io.instructblip.flink.BatchProcessor;
import io.instructblip.flink.Result;
import io.instructblip.flink.SharedEngineRegistry;
import io.instructblip.flink.StageContext;
import java.util.List;
import java.util.Objects;

/**
 * The micro-batched visual stages over the JVM's shared engine: {@link Stage#VISION_ENCODER} turns
 * a batch of items into their image embeddings, {@link Stage#QFORMER} into their query outputs
 * (each frame with its request's instruction). Items restored without payload are re-derived first
 * (see {@link StagePayloads}).
 */
public final class VisualStageFunction implements BatchFunction<StageItem, StageItem> {
  private static final long serialVersionUID = 1L;

  /** Which visual stage. */
  public enum Stage {
    VISION_ENCODER,
    QFORMER
  }

  private final EngineSpec engine;
  private final Stage stage;

  public VisualStageFunction(EngineSpec engine, Stage stage) {
    this.engine = Objects.requireNonNull(engine, "engine");
    this.stage = Objects.requireNonNull(stage, "stage");
  }

  @Override
  public BatchProcessor<StageItem, StageItem> open(StageContext context) throws Exception {
    SharedEngineRegistry.Lease<InstructBlipEngine> lease = engine.acquire();
    return new BatchProcessor<>() {
      @Override
      public List<Result<StageItem>> apply(List<StageItem> batch) {
        return stage == Stage.VISION_ENCODER
            ? StagePayloads.withImageEmbeds(lease.get(), batch)
            : StagePayloads.withQueryOutputs(lease.get(), batch);
      }

      @Override
      public void close() {
        lease.close();
      }
    };
  }
}
