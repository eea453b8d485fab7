package io.instructblip.flink;

import java.util.Objects;
import org.apache.flink.streaming.api.operators.AbstractStreamOperatorFactory;
import org.apache.flink.streaming.api.operators.OneInputStreamOperatorFactory;
import org.apache.flink.streaming.api.operators.StreamOperator;
import org.apache.flink.streaming.api.operators.StreamOperatorParameters;

/**
 * Creates {@link ContinuousBatchingOperator}s with the task's mailbox executor. Use it with {@code
 * stream.transform(name, outputType, factory)}, or through {@link StageOperators}.
 *
 * @param <IN> the element type
 * @param <OUT> the value type emitted for a finished sequence
 */
public final class ContinuousBatchingOperatorFactory<IN, OUT>
    extends AbstractStreamOperatorFactory<OUT> implements OneInputStreamOperatorFactory<IN, OUT> {
  private static final long serialVersionUID = 1L;

  private final StepFunction<IN, OUT> function;
  private final InFlightCodec<IN> codec;
  private final ContinuousBatchingConfig config;

  public ContinuousBatchingOperatorFactory(
      StepFunction<IN, OUT> function, InFlightCodec<IN> codec, ContinuousBatchingConfig config) {
    this.function = Objects.requireNonNull(function, "function");
    this.codec = Objects.requireNonNull(codec, "codec");
    this.config = Objects.requireNonNull(config, "config");
  }

  @Override
  @SuppressWarnings("unchecked")
  public <T extends StreamOperator<OUT>> T createStreamOperator(
      StreamOperatorParameters<OUT> parameters) {
    return (T) new ContinuousBatchingOperator<>(parameters, function, codec, config);
  }

  @Override
  @SuppressWarnings("rawtypes")
  public Class<? extends StreamOperator> getStreamOperatorClass(ClassLoader classLoader) {
    return ContinuousBatchingOperator.class;
  }
}
