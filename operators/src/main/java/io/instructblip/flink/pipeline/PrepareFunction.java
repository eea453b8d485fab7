package io.instructblip.flink.pipeline;

import io.instructblip.engine.InstructBlipEngine;
import io.instructblip.flink.BatchFunction;
import io.instructblip.flink.BatchProcessor;
import io.instructblip.flink.BatchingConfig;
import io.instructblip.flink.Result;
import io.instructblip.flink.SharedEngineRegistry;
import io.instructblip.flink.StageContext;
import io.instructblip.flink.StageOutputs;
import java.time.Duration;
import java.util.List;
import java.util.Objects;

/**
 * The {@code prepare} stage (CPU, on its own stage thread, never on the task thread): decodes,
 * orients and normalizes each request's images and tokenizes its instruction. A request that cannot
 * be prepared (bad image, instruction too long, invalid parameters) goes to {@link
 * StageOutputs#FAILURES} with its id and error code; the others in its batch go on, and it never
 * fails the job.
 */
public final class PrepareFunction implements BatchFunction<StageItem, StageItem> {
  private static final long serialVersionUID = 1L;

  /** The operator's name (and uid) in the job graph. */
  public static final String NAME = "prepare";

  /**
   * The default batching: whatever is queued when the stage thread is free, up to 8, without
   * waiting (preparing gains nothing from batching; the batch only saves hand-overs).
   */
  public static final BatchingConfig DEFAULT_BATCHING =
      BatchingConfig.builder().maxBatchSize(8).maxWait(Duration.ZERO).build();

  private final EngineSpec engine;

  public PrepareFunction(EngineSpec engine) {
    this.engine = Objects.requireNonNull(engine, "engine");
  }

  @Override
  public BatchProcessor<StageItem, StageItem> open(StageContext context) throws Exception {
    SharedEngineRegistry.Lease<InstructBlipEngine> lease = engine.acquire();
    return new BatchProcessor<>() {
      @Override
      public List<Result<StageItem>> apply(List<StageItem> batch) {
        return StagePayloads.prepared(lease.get(), batch);
      }

      @Override
      public void close() {
        lease.close();
      }
    };
  }
}
