package io.instructblip.flink.pipeline;

import io.instructblip.engine.InstructBlipEngine;
import io.instructblip.flink.BatchFunction;
import io.instructblip.flink.BatchProcessor;
import io.instructblip.flink.Result;
import io.instructblip.flink.SharedEngineRegistry;
import io.instructblip.flink.StageContext;
import java.util.List;

/** The {@code vision-encoder} stage: a batch of items to their image embeddings. */
public final class VisionEncoderFunction implements BatchFunction<StageItem, StageItem> {
  private static final long serialVersionUID = 1L;
  private final EngineSpec engine;

  public VisionEncoderFunction(EngineSpec engine) {
    this.engine = engine;
  }

  @Override
  public BatchProcessor<StageItem, StageItem> open(StageContext context) throws Exception {
    SharedEngineRegistry.Lease<InstructBlipEngine> lease = engine.acquire();
    return new BatchProcessor<>() {
      @Override
      public List<Result<StageItem>> apply(List<StageItem> batch) {
        return StagePayloads.withImageEmbeds(lease.get(), batch);
      }

      @Override
      public void close() {
        lease.close();
      }
    };
  }
}
