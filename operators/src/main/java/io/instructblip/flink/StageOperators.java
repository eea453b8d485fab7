package io.instructblip.flink;

import org.apache.flink.api.common.typeinfo.TypeInformation;
import org.apache.flink.streaming.api.datastream.DataStream;
import org.apache.flink.streaming.api.datastream.SingleOutputStreamOperator;

/**
 * Adds stage operators to a {@link DataStream}. The returned stream carries successful values;
 * {@code result.getSideOutput(StageOutputs.FAILURES)} carries the errors and timeouts.
 *
 * <pre>{@code
 * SingleOutputStreamOperator<VisionOut> vision = StageOperators.microBatch(
 *     prepared, "vision-encoder", visionFunction, preparedCodec, batching, visionOutType);
 * DataStream<StageFailure> failures = vision.getSideOutput(StageOutputs.FAILURES);
 * }</pre>
 */
public final class StageOperators {
  private StageOperators() {}

  /** Appends a micro-batched stage. */
  public static <IN, OUT> SingleOutputStreamOperator<OUT> microBatch(
      DataStream<IN> input,
      String name,
      BatchFunction<IN, OUT> function,
      InFlightCodec<IN> codec,
      BatchingConfig config,
      TypeInformation<OUT> outputType) {
    return input.transform(
        name, outputType, new MicroBatchOperatorFactory<>(function, codec, config));
  }

  /** Appends a continuously batched (llm) stage. */
  public static <IN, OUT> SingleOutputStreamOperator<OUT> continuousBatch(
      DataStream<IN> input,
      String name,
      StepFunction<IN, OUT> function,
      InFlightCodec<IN> codec,
      ContinuousBatchingConfig config,
      TypeInformation<OUT> outputType) {
    return input.transform(
        name, outputType, new ContinuousBatchingOperatorFactory<>(function, codec, config));
  }
}
