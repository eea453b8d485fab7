package io.instructblip.flink;

import java.util.function.IntSupplier;
import org.apache.flink.metrics.Counter;
import org.apache.flink.metrics.Histogram;
import org.apache.flink.metrics.Meter;
import org.apache.flink.metrics.MeterView;
import org.apache.flink.metrics.MetricGroup;
import org.apache.flink.runtime.metrics.DescriptiveStatisticsHistogram;

/**
 * The metrics of one stage operator subtask, registered on its Flink metric group:
 *
 * <ul>
 *   <li>{@code batchSize} (histogram): elements per dispatched batch, or sequences per decode step
 *   <li>{@code latencyMs} (histogram): from arrival in the stage to the emitted answer
 *   <li>{@code queueDepth}, {@code inFlight} (gauges): elements waiting for a batch or slot, and
 *       all elements held (waiting or running)
 *   <li>{@code resultsOk}, {@code resultsError}, {@code resultsTimeout} (counters)
 *   <li>{@code generatedTokens} (counter) and {@code generatedTokensPerSecond} (meter), for the llm
 *       stage
 * </ul>
 *
 * Gauges read values published by the task thread through volatile fields.
 */
public final class StageMetrics {
  private static final int HISTOGRAM_WINDOW = 1024;

  private final Histogram batchSize;
  private final Histogram latencyMs;
  private final Counter ok;
  private final Counter errors;
  private final Counter timeouts;
  private final Counter generatedTokens;
  private final Meter tokensPerSecond;

  StageMetrics(MetricGroup group, IntSupplier queueDepth, IntSupplier inFlight) {
    this.batchSize =
        group.histogram("batchSize", new DescriptiveStatisticsHistogram(HISTOGRAM_WINDOW));
    this.latencyMs =
        group.histogram("latencyMs", new DescriptiveStatisticsHistogram(HISTOGRAM_WINDOW));
    this.ok = group.counter("resultsOk");
    this.errors = group.counter("resultsError");
    this.timeouts = group.counter("resultsTimeout");
    this.generatedTokens = group.counter("generatedTokens");
    this.tokensPerSecond = group.meter("generatedTokensPerSecond", new MeterView(generatedTokens));
    group.gauge("queueDepth", queueDepth::getAsInt);
    group.gauge("inFlight", inFlight::getAsInt);
  }

  void recordBatch(int size) {
    batchSize.update(size);
  }

  void recordAnswer(Result.Status status, long latencyMillis, int tokens) {
    latencyMs.update(latencyMillis);
    switch (status) {
      case OK -> ok.inc();
      case ERROR -> errors.inc();
      case TIMEOUT -> timeouts.inc();
    }
    if (tokens > 0) {
      generatedTokens.inc(tokens);
    }
  }

  /** Elements answered with a value so far. */
  public long okCount() {
    return ok.getCount();
  }

  /** Elements answered with an error so far. */
  public long errorCount() {
    return errors.getCount();
  }

  /** Elements answered with a timeout so far. */
  public long timeoutCount() {
    return timeouts.getCount();
  }

  /** Tokens generated so far (llm stage). */
  public long generatedTokenCount() {
    return generatedTokens.getCount();
  }

  /** The batch-size histogram. */
  public Histogram batchSizes() {
    return batchSize;
  }

  /** The generated-tokens-per-second meter. */
  public Meter tokensPerSecond() {
    return tokensPerSecond;
  }
}
