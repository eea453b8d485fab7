package io.instructblip.job.wiring;

import io.instructblip.flink.StageFailure;
import io.instructblip.flink.StageOutputs;
import io.instructblip.flink.pipeline.StageItem;
import org.apache.flink.streaming.api.functions.ProcessFunction;
import org.apache.flink.types.Either;
import org.apache.flink.util.Collector;

/**
 * Splits what {@link FetchImages} produced: stage items to the main output, failures to {@link
 * StageOutputs#FAILURES}.
 */
final class SplitFetched extends ProcessFunction<Either<StageItem, StageFailure>, StageItem> {
  private static final long serialVersionUID = 1L;

  @Override
  public void processElement(
      Either<StageItem, StageFailure> value, Context ctx, Collector<StageItem> out) {
    if (value.isLeft()) {
      out.collect(value.left());
    } else {
      ctx.output(StageOutputs.FAILURES, value.right());
    }
  }
}
