package io.instructblip.job.bench;

import java.util.Map;
import java.util.Properties;
import java.util.concurrent.ConcurrentHashMap;
import org.apache.flink.metrics.Histogram;
import org.apache.flink.metrics.Metric;
import org.apache.flink.metrics.MetricConfig;
import org.apache.flink.metrics.MetricGroup;
import org.apache.flink.metrics.reporter.MetricReporter;
import org.apache.flink.metrics.reporter.MetricReporterFactory;

/**
 * A Flink metric reporter for the benchmark's local cluster: it keeps the stage operators' {@code
 * batchSize} histograms and, when a job ends, the mean batch size each stage ran with (summed over
 * subtasks, weighted by their batch counts). Only for {@code bench}, in one JVM.
 */
public final class StageStatisticsReporter implements MetricReporter {
  private static final Map<Histogram, String> LIVE = new ConcurrentHashMap<>();
  private static final Map<String, double[]> TOTALS = new ConcurrentHashMap<>();

  /** Forgets what earlier jobs reported. */
  public static void reset() {
    LIVE.clear();
    TOTALS.clear();
  }

  /** Mean batch size of the operator named {@code stage} over the job that ended, or NaN. */
  public static double meanBatchSize(String stage) {
    LIVE.forEach(StageStatisticsReporter::record);
    LIVE.clear();
    double[] t = TOTALS.get(stage);
    return t == null || t[1] == 0 ? Double.NaN : t[0] / t[1];
  }

  @Override
  public void open(MetricConfig config) {}

  @Override
  public void close() {}

  @Override
  public void notifyOfAddedMetric(Metric metric, String metricName, MetricGroup group) {
    if (metric instanceof Histogram h && metricName.equals("batchSize")) {
      String operator = group.getAllVariables().get("<operator_name>");
      if (operator != null) {
        LIVE.put(h, operator);
      }
    }
  }

  @Override
  public void notifyOfRemovedMetric(Metric metric, String metricName, MetricGroup group) {
    if (metric instanceof Histogram h) {
      String operator = LIVE.remove(h);
      if (operator != null) {
        record(h, operator);
      }
    }
  }

  private static void record(Histogram h, String operator) {
    long n = h.getStatistics().size();
    double mean = h.getStatistics().getMean();
    TOTALS.merge(
        operator, new double[] {mean * n, n}, (a, b) -> new double[] {a[0] + b[0], a[1] + b[1]});
  }

  /** Creates the reporter; named in the benchmark cluster's configuration. */
  public static final class Factory implements MetricReporterFactory {
    @Override
    public MetricReporter createMetricReporter(Properties properties) {
      return new StageStatisticsReporter();
    }
  }
}
