package io.instructblip.flink;

import java.util.Objects;
import org.apache.flink.streaming.api.operators.AbstractStreamOperatorFactory;
import org.apache.flink.streaming.api.operators.OneInputStreamOperatorFactory;
import org.apache.flink.streaming.api.operators.StreamOperator;
import org.apache.flink.streaming.api.operators.StreamOperatorParameters;

/**
 * Creates {@link MicroBatchOperator}s with the task's mailbox executor. Use it with {@code
 * stream.transform(name, outputType, factory)}, or through {@link StageOperators}.
 *
 * @param <IN> the element type
 * @param <OUT> the value type emitted for a successful element
 */
public final class MicroBatchOperatorFactory<IN, OUT> extends AbstractStreamOperatorFactory<OUT>
    implements OneInputStreamOperatorFactory<IN, OUT> {
  private static final long serialVersionUID = 1L;

  private final BatchFunction<IN, OUT> function;
  private final InFlightCodec<IN> codec;
  private final BatchingConfig config;

  public MicroBatchOperatorFactory(
      BatchFunction<IN, OUT> function, InFlightCodec<IN> codec, BatchingConfig config) {
    this.function = Objects.requireNonNull(function, "function");
    this.codec = Objects.requireNonNull(codec, "codec");
    this.config = Objects.requireNonNull(config, "config");
  }

  @Override
  @SuppressWarnings("unchecked")
  public <T extends StreamOperator<OUT>> T createStreamOperator(
      StreamOperatorParameters<OUT> parameters) {
    return (T) new MicroBatchOperator<>(parameters, function, codec, config);
  }

  @Override
  @SuppressWarnings("rawtypes")
  public Class<? extends StreamOperator> getStreamOperatorClass(ClassLoader classLoader) {
    return MicroBatchOperator.class;
  }
}
