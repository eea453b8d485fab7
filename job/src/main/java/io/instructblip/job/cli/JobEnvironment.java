package io.instructblip.job.cli;

import java.time.Duration;
import java.util.LinkedHashMap;
import java.util.Map;
import org.apache.flink.configuration.CheckpointingOptions;
import org.apache.flink.configuration.Configuration;
import org.apache.flink.configuration.RestartStrategyOptions;
import org.apache.flink.core.execution.CheckpointingMode;
import org.apache.flink.streaming.api.environment.StreamExecutionEnvironment;
import picocli.CommandLine.Option;

/**
 * The Flink side of the job's commands, as a picocli mixin: extra Flink configuration, and the
 * checkpointing and restart defaults the job needs (exactly-once output is committed on
 * checkpoints, so a job without checkpoints would never publish an answer).
 */
public final class JobEnvironment {
  /**
   * Default checkpoint interval: answers become visible to read_committed consumers per checkpoint.
   */
  public static final Duration DEFAULT_CHECKPOINT_INTERVAL = Duration.ofSeconds(2);

  @Option(
      names = "--checkpoint-interval",
      description =
          "Checkpoint interval, e.g. \"2 s\" (default); answers are published per checkpoint.")
  String checkpointInterval;

  @Option(
      names = "--set",
      paramLabel = "KEY=VALUE",
      description =
          "Flink configuration (instructblip.*, instructblip.kafka.*, instructblip.images.*,"
              + " or any Flink key); repeatable. Flags win over these.")
  Map<String, String> settings = new LinkedHashMap<>();

  /**
   * The configuration the command's settings are read from: the job's effective Flink configuration
   * (under {@code flink run}: the cluster's config.yaml and the {@code -D} keys; from the
   * Kubernetes operator: its {@code flinkConfiguration}) with the {@code --set} pairs on top.
   */
  public Configuration configuration() {
    Configuration conf =
        Configuration.fromMap(
            StreamExecutionEnvironment.getExecutionEnvironment().getConfiguration().toMap());
    conf.addAll(Configuration.fromMap(settings));
    return conf;
  }

  /**
   * The execution environment (the cluster's under {@code flink run}, a local one under {@code java
   * -jar}) with checkpointing and a fixed-delay restart strategy where the {@link #configuration()}
   * sets none: a checkpoint interval or restart strategy from the cluster is kept.
   */
  public StreamExecutionEnvironment create() {
    Configuration conf = configuration();
    if (!conf.contains(RestartStrategyOptions.RESTART_STRATEGY)) {
      conf.set(RestartStrategyOptions.RESTART_STRATEGY, "fixed-delay");
      conf.set(RestartStrategyOptions.RESTART_STRATEGY_FIXED_DELAY_ATTEMPTS, 10);
      conf.set(RestartStrategyOptions.RESTART_STRATEGY_FIXED_DELAY_DELAY, Duration.ofSeconds(5));
    }
    StreamExecutionEnvironment env = StreamExecutionEnvironment.getExecutionEnvironment(conf);
    Duration interval =
        checkpointInterval != null
            ? org.apache.flink.util.TimeUtils.parseDuration(checkpointInterval)
            : conf.getOptional(CheckpointingOptions.CHECKPOINTING_INTERVAL)
                .orElse(DEFAULT_CHECKPOINT_INTERVAL);
    env.enableCheckpointing(interval.toMillis(), CheckpointingMode.EXACTLY_ONCE);
    return env;
  }
}
