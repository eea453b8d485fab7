package io.instructblip.tests;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.instructblip.flink.pipeline.StageAnswer;
import io.instructblip.job.Main;
import io.instructblip.job.annotate.AnnotateJob;
import io.instructblip.job.annotate.AnnotateSettings;
import io.instructblip.job.annotate.ImageFileFilter;
import io.instructblip.job.annotate.RequestTemplate;
import io.instructblip.job.annotate.ResponseFormat;
import io.instructblip.job.fetch.UriPolicy;
import io.instructblip.job.wiring.StageSettings;
import io.instructblip.schema.avro.GenerationOptions;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.stream.Stream;
import org.apache.flink.api.common.functions.RichMapFunction;
import org.apache.flink.api.common.state.CheckpointListener;
import org.apache.flink.configuration.Configuration;
import org.apache.flink.configuration.RestartStrategyOptions;
import org.apache.flink.core.execution.CheckpointingMode;
import org.apache.flink.streaming.api.environment.StreamExecutionEnvironment;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * annotate's exactly-once output under failures: a task failure injected mid-run (the job restarts
 * from its checkpoint), and a {@code kill -9} of a child {@code java ... annotate} process followed
 * by the same command again. Either way every image has exactly one row, the engine's.
 */
class AnnotateRecoveryITCase {
  static final String MODEL = "tiny-vicuna";
  static final AtomicBoolean CHECKPOINTED = new AtomicBoolean();
  static final AtomicBoolean FAILED = new AtomicBoolean();
  static final AtomicInteger ANSWERS = new AtomicInteger();

  @TempDir Path tmp;

  /**
   * Fails the task once, at the fifth answer after a checkpoint completed. The test paces the
   * requests ({@code maxRate}), so checkpoints complete mid-run however fast the machine is.
   */
  static final class FailOnce extends RichMapFunction<StageAnswer, StageAnswer>
      implements CheckpointListener {
    private static final long serialVersionUID = 1L;

    @Override
    public StageAnswer map(StageAnswer answer) {
      if (CHECKPOINTED.get()
          && ANSWERS.incrementAndGet() >= 5
          && FAILED.compareAndSet(false, true)) {
        throw new IllegalStateException("injected failure");
      }
      return answer;
    }

    @Override
    public void notifyCheckpointComplete(long checkpointId) {
      CHECKPOINTED.set(true);
    }
  }

  @Test
  void injectedFailureRestartsFromTheCheckpointExactlyOnce() throws Exception {
    CHECKPOINTED.set(false);
    FAILED.set(false);
    ANSWERS.set(0);
    Path src = tmp.resolve("src");
    Path dst = tmp.resolve("dst");
    Map<String, String> ids = AnnotateITCase.imageTree(src, 160);
    Configuration conf = new Configuration();
    conf.set(RestartStrategyOptions.RESTART_STRATEGY, "fixed-delay");
    conf.set(RestartStrategyOptions.RESTART_STRATEGY_FIXED_DELAY_ATTEMPTS, 3);
    conf.set(RestartStrategyOptions.RESTART_STRATEGY_FIXED_DELAY_DELAY, Duration.ofMillis(200));
    StreamExecutionEnvironment env = StreamExecutionEnvironment.getExecutionEnvironment(conf);
    env.setParallelism(2);
    env.enableCheckpointing(300, CheckpointingMode.EXACTLY_ONCE);
    AnnotateSettings settings =
        new AnnotateSettings(
            src.toUri(),
            null,
            dst.toUri(),
            ResponseFormat.PARQUET,
            ImageFileFilter.DEFAULT_EXTENSIONS,
            null,
            AnnotateSettings.DEFAULT_PART_BYTES,
            40, // requests per second: the run takes 4 s or more, checkpoints come every 300 ms
            new RequestTemplate(
                AnnotateITCase.INSTRUCTION,
                GenerationOptions.newBuilder()
                    .setMaxNewTokens(AnnotateITCase.MAX_NEW_TOKENS)
                    .build(),
                List.of()));
    StageSettings stages =
        StageSettings.fromMap(
            Map.of(
                StageSettings.MODEL_DIR, GoldenCases.model(MODEL).toString(),
                StageSettings.DEVICE, "cpu",
                StageSettings.THREADS, "1",
                // Short queues, so that checkpoint barriers pass mid-run.
                StageSettings.MAX_IN_FLIGHT, "8",
                StageSettings.LLM_RUNNING, "1",
                StageSettings.VISION_WAIT, "5 ms",
                StageSettings.QFORMER_WAIT, "5 ms"));
    new AnnotateJob(
            settings,
            stages,
            Map.of(UriPolicy.SCHEMES, "file", UriPolicy.FILE_ROOTS, src.toString()))
        .addTo(env, answers -> answers.map(new FailOnce()).returns(answers.getType()));
    env.execute("annotate-failover");
    assertTrue(
        FAILED.get(),
        "the failure was injected: answers "
            + ANSWERS.get()
            + ", checkpointed "
            + CHECKPOINTED.get());
    AnnotateITCase.assertRows(ids, AnnotateITCase.engineResults(MODEL), AnnotateOutput.read(dst));
  }

  @Test
  void killedProcessResumesWithTheSameCommand() throws Exception {
    Path src = tmp.resolve("src");
    Path dst = tmp.resolve("dst");
    Map<String, String> ids = AnnotateITCase.imageTree(src, 160);
    // At 20 requests per second the run takes 8 s or more, so checkpoints (every second) commit
    // rows well before its end however fast the machine is.
    String[] args =
        AnnotateITCase.command(
            MODEL, src, dst, "jsonl", "--llm-max-running", "1", "--max-rate", "20");
    List<String> command = new ArrayList<>();
    command.add(Path.of(System.getProperty("java.home"), "bin", "java").toString());
    command.add("-Xmx768m");
    command.add("-Djava.io.tmpdir=" + System.getProperty("java.io.tmpdir"));
    command.add("-Dai.djl.offline=true");
    command.add("-cp");
    command.add(System.getProperty("java.class.path"));
    command.add(Main.class.getName());
    command.addAll(List.of(args));
    Process child =
        new ProcessBuilder(command)
            .redirectErrorStream(true)
            .redirectOutput(tmp.resolve("child.log").toFile())
            .start();
    try {
      // Kill it once a checkpoint has committed rows, well before the end.
      long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(120);
      while (committedRows(dst) == 0 && child.isAlive() && System.nanoTime() < deadline) {
        Thread.sleep(100);
      }
      assertTrue(
          child.isAlive(),
          "the child ran to its end before the kill: "
              + Files.readString(tmp.resolve("child.log")));
      child.destroyForcibly(); // SIGKILL
      child.waitFor(30, TimeUnit.SECONDS);
    } finally {
      child.destroyForcibly();
    }
    int before = committedRows(dst);
    assertTrue(before > 0 && before < ids.size(), "killed mid-run with " + before + " rows");
    assertFalse(Files.exists(dst.resolve("_SUCCESS")));
    assertEquals(0, Main.run(args));
    AnnotateITCase.assertRows(ids, AnnotateITCase.engineResults(MODEL), AnnotateOutput.read(dst));
  }

  private static int committedRows(Path dst) throws Exception {
    if (!Files.isDirectory(dst)) {
      return 0;
    }
    try (Stream<Path> files = Files.list(dst)) {
      int n = 0;
      for (Path f : files.toList()) {
        String name = f.getFileName().toString();
        if (name.startsWith("part-") && !name.contains("inprogress")) {
          n += Files.readAllLines(f).size();
        }
      }
      return n;
    }
  }
}
