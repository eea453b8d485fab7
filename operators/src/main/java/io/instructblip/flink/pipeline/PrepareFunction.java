package io.instructblip.flink.pipeline;

import io.instructblip.engine.EngineException;
import io.instructblip.engine.InstructBlipEngine;
import io.instructblip.flink.SharedEngineRegistry;
import io.instructblip.flink.StageFailure;
import io.instructblip.flink.StageOutputs;
import org.apache.flink.api.common.functions.OpenContext;
import org.apache.flink.streaming.api.functions.ProcessFunction;
import org.apache.flink.util.Collector;

/**
 * The {@code prepare} step (CPU, on the task thread): decodes, orients and normalizes each
 * request's images and tokenizes its instruction. A request that cannot be prepared (bad image,
 * instruction too long, invalid parameters) goes to {@link StageOutputs#FAILURES} with its id and
 * error code; it never fails the job.
 */
public final class PrepareFunction extends ProcessFunction<StageItem, StageItem> {
  private static final long serialVersionUID = 1L;

  /** The operator's name in the job graph. */
  public static final String NAME = "prepare";

  private final EngineSpec engine;
  private transient SharedEngineRegistry.Lease<InstructBlipEngine> lease;

  public PrepareFunction(EngineSpec engine) {
    this.engine = engine;
  }

  @Override
  public void open(OpenContext openContext) throws Exception {
    lease = engine.acquire();
  }

  @Override
  public void processElement(StageItem item, Context ctx, Collector<StageItem> out) {
    try {
      out.collect(item.withPrepared(lease.get().preparer().prepare(item.request())));
    } catch (EngineException e) {
      ctx.output(
          StageOutputs.FAILURES,
          new StageFailure(item.id(), NAME, e.code(), e.getMessage(), item.context()));
    }
  }

  @Override
  public void close() {
    if (lease != null) {
      lease.close();
    }
  }
}
