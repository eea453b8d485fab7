package io.instructblip.job.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.instructblip.job.Main;
import io.instructblip.job.wiring.InstructBlipJob;
import java.time.Duration;
import java.util.Map;
import org.apache.flink.configuration.Configuration;
import org.apache.flink.configuration.RestartStrategyOptions;
import org.apache.flink.streaming.api.environment.StreamExecutionEnvironment;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import picocli.CommandLine;

/**
 * Settings given the cluster way ({@code flink run -D}, config.yaml, the operator's
 * flinkConfiguration) reach the job: Flink hands them to the program only as its context
 * environment's configuration, which this test installs as {@code flink run} does.
 */
class ClusterConfigurationTest {

  /** Installs a context environment over a cluster configuration, as Flink's client does. */
  static final class FlinkContext extends StreamExecutionEnvironment {
    static void install(Map<String, String> cluster) {
      initializeContextEnvironment(
          program -> {
            Configuration merged = Configuration.fromMap(cluster);
            merged.addAll(program);
            return new StreamExecutionEnvironment(merged);
          });
    }

    static void uninstall() {
      resetContextEnvironment();
    }
  }

  @AfterEach
  void uninstall() {
    FlinkContext.uninstall();
  }

  private static RunCommand parse(String... args) {
    RunCommand run = new RunCommand();
    new CommandLine(run).parseArgs(args);
    return run;
  }

  @Test
  void keysOfTheClusterConfigurationReachTheJob() {
    FlinkContext.install(
        Map.of(
            "instructblip.kafka.bootstrap-servers", "broker:9092",
            "instructblip.kafka.request-topic", "in",
            "instructblip.model.dir", "/models/tiny",
            "instructblip.model.name", "tiny",
            "instructblip.vision.max-batch-size", "3",
            "instructblip.images.allowed-schemes", "file"));
    RunCommand run = parse();
    InstructBlipJob job = run.job();
    assertEquals("broker:9092", job.kafka().bootstrapServers());
    assertEquals("in", job.kafka().requestTopic());
    assertEquals("/models/tiny", job.stages().engine().modelDir());
    assertEquals(3, job.stages().vision().maxBatchSize());
    assertEquals("file", job.uriPolicy().get("allowed-schemes"));
    assertEquals("tiny", run.stages.modelName(run.environment.configuration()));
  }

  @Test
  void flagsBeatSetPairsWhichBeatClusterKeys() {
    FlinkContext.install(
        Map.of(
            "instructblip.kafka.bootstrap-servers", "broker:9092",
            "instructblip.kafka.request-topic", "from-cluster",
            "instructblip.kafka.response-topic", "from-cluster-out",
            "instructblip.model.dir", "/models/tiny",
            "instructblip.model.name", "tiny"));
    InstructBlipJob job =
        parse(
                "--request-topic",
                "from-flag",
                "--set",
                "instructblip.kafka.response-topic=from-set",
                "--model-name",
                "other")
            .job();
    assertEquals("from-flag", job.kafka().requestTopic());
    assertEquals("from-set", job.kafka().responseTopic());
    assertEquals("broker:9092", job.kafka().bootstrapServers());
  }

  @Test
  void checkpointIntervalAndRestartStrategyFromTheClusterAreKept() {
    FlinkContext.install(
        Map.of(
            "execution.checkpointing.interval", "30 s",
            "restart-strategy.type", "none"));
    StreamExecutionEnvironment env = parse().environment.create();
    assertEquals(30_000, env.getCheckpointConfig().getCheckpointInterval());
    assertEquals("none", env.getConfiguration().get(RestartStrategyOptions.RESTART_STRATEGY));
  }

  @Test
  void checkpointAndRestartDefaultsApplyWhereTheClusterSetsNone() {
    FlinkContext.install(Map.of());
    StreamExecutionEnvironment env = parse().environment.create();
    assertEquals(
        JobEnvironment.DEFAULT_CHECKPOINT_INTERVAL.toMillis(),
        env.getCheckpointConfig().getCheckpointInterval());
    assertEquals(
        "fixed-delay", env.getConfiguration().get(RestartStrategyOptions.RESTART_STRATEGY));
    assertEquals(
        Duration.ofSeconds(5),
        env.getConfiguration().get(RestartStrategyOptions.RESTART_STRATEGY_FIXED_DELAY_DELAY));
  }

  @Test
  void insideFlinkAUsageErrorIsThrownNotAnExit() {
    FlinkContext.install(Map.of());
    IllegalArgumentException noCommand =
        assertThrows(IllegalArgumentException.class, () -> Main.runInsideFlink());
    assertTrue(noCommand.getMessage().contains("exit code 2"), noCommand.getMessage());
    assertThrows(IllegalArgumentException.class, () -> Main.runInsideFlink("no-such-command"));
  }

  @Test
  void insideFlinkACommandsFailureIsThrownAsItIs() {
    FlinkContext.install(Map.of("instructblip.kafka.bootstrap-servers", "broker:9092"));
    IllegalArgumentException e =
        assertThrows(IllegalArgumentException.class, () -> Main.runInsideFlink("run"));
    assertTrue(e.getMessage().contains("no model directory"), e.getMessage());
  }

  @Test
  void withoutAModelNameTheClientNamesTheKeyThatSparesItTheModel() {
    FlinkContext.install(
        Map.of(
            "instructblip.kafka.bootstrap-servers", "broker:9092",
            "instructblip.model.dir", "/nowhere/model"));
    IllegalArgumentException e =
        assertThrows(
            IllegalArgumentException.class,
            () -> parse().job().addTo(StreamExecutionEnvironment.getExecutionEnvironment()));
    assertTrue(e.getMessage().contains("instructblip.model.name"), e.getMessage());
  }
}
