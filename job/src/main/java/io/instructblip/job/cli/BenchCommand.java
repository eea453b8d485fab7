package io.instructblip.job.cli;

import io.instructblip.engine.EngineConfig;
import io.instructblip.engine.InstructBlipEngine;
import io.instructblip.engine.model.DeviceSpec;
import io.instructblip.engine.model.SessionSettings;
import io.instructblip.engine.stage.KvStorage;
import io.instructblip.job.bench.AccuracyBench;
import io.instructblip.job.bench.AnnotateBench;
import io.instructblip.job.bench.EngineBench;
import io.instructblip.job.bench.KafkaBench;
import io.instructblip.job.bench.PipelineBench;
import io.instructblip.job.wiring.StageSettings;
import java.io.PrintWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

/**
 * {@code bench}: throughput benchmarks with warm-up and repeated runs, reporting medians and
 * ratios. {@code --suite engine} measures the engine stage by stage; {@code --suite accuracy}
 * scores a demo model on its task's held-out questions.
 */
@Command(
    name = "bench",
    mixinStandardHelpOptions = true,
    description = "Benchmarks with warm-up and repeated runs; prints medians and ratios.")
public final class BenchCommand implements Callable<Integer> {

  /** Which benchmark to run. */
  public enum Suite {
    /** The engine alone, stage by stage. */
    ENGINE,
    /** The same requests through the engine and through the Flink operators; batching gains. */
    PIPELINE,
    /** The whole product through an embedded Kafka broker: requests/s and idle latency. */
    KAFKA,
    /** {@code annotate} over a folder of images against the engine straight. */
    ANNOTATE,
    /** The demo task's held-out questions: accuracy per task type vs the PyTorch reference. */
    ACCURACY
  }

  @Spec CommandSpec spec;

  @Option(names = "--model", required = true, description = "Model directory (e.g. small-vicuna).")
  Path model;

  @Option(
      names = "--suite",
      defaultValue = "pipeline",
      description =
          "pipeline (default): engine vs Flink operators, continuous vs run-to-completion;"
              + " engine: stage-by-stage throughput; kafka: end to end through Kafka;"
              + " annotate: annotate over --requests images vs the engine (max_new_tokens ="
              + " --short-tokens); accuracy: accuracy per task type on --heldout (a demo"
              + " model).")
  Suite suite;

  @Option(
      names = "--heldout",
      description =
          "accuracy: the held-out golden file of export.py eval-demo, e.g."
              + " deploy/model-export/fixtures/golden/demo-vicuna/heldout.json.")
  Path heldOut;

  @Option(names = "--requests", defaultValue = "64", description = "pipeline: requests per run.")
  int requests;

  @Option(names = "--max-batch", defaultValue = "8", description = "pipeline: max batch size.")
  int maxBatch;

  @Option(names = "--max-wait-ms", defaultValue = "10", description = "pipeline: max wait.")
  long maxWaitMs;

  @Option(names = "--short-tokens", defaultValue = "4", description = "pipeline: short answers.")
  int shortTokens;

  @Option(names = "--long-tokens", defaultValue = "32", description = "pipeline: long answers.")
  int longTokens;

  @Option(
      names = "--repeats",
      defaultValue = "5",
      description =
          "pipeline: interleaved engine/operators pairs (at least 2; the ratio's median needs"
              + " several); kafka: measured runs.")
  int repeats;

  @Option(
      names = "--checkpoint-ms",
      defaultValue = "200",
      description = "kafka: checkpoint interval (answers are committed per checkpoint).")
  long checkpointMs;

  @Option(names = "--image", description = "Image to use (default: a bundled sample image).")
  Path image;

  @Option(names = "--device", defaultValue = "cpu")
  String device;

  @Option(
      names = "--threads",
      defaultValue = "0",
      description = "ONNX Runtime intra-op threads per session (0: its default).")
  int threads;

  @Option(names = "--warmup", defaultValue = "3")
  int warmup;

  @Option(names = "--runs", defaultValue = "10")
  int runs;

  @Option(
      names = "--vision-batches",
      split = ",",
      defaultValue = "1,2,4,8,16",
      description = "Vision/Q-Former batch sizes (default: ${DEFAULT-VALUE}).")
  int[] visionBatches;

  @Option(
      names = "--decode-sequences",
      split = ",",
      defaultValue = "1,4,16",
      description = "Running sequences for decode throughput (default: ${DEFAULT-VALUE}).")
  int[] decodeSequences;

  @Option(
      names = "--kv-cache",
      split = ",",
      defaultValue = "native,native-repack,heap",
      description =
          "engine: KV cache storages to compare: native (the default backend), native-repack"
              + " (native, packing every step instead of carrying the last step's presents)"
              + " and/or heap (the fallback) (default: ${DEFAULT-VALUE}).")
  List<String> kvCaches;

  @Option(
      names = "--contexts",
      split = ",",
      defaultValue = "16,128,512",
      description =
          "engine: context lengths of the one-sequence decode step; ratios are to the first"
              + " (default: ${DEFAULT-VALUE}).")
  int[] contexts;

  @Override
  public Integer call() throws Exception {
    PrintWriter out = spec.commandLine().getOut();
    if (suite == Suite.ACCURACY) {
      if (heldOut == null) {
        throw new picocli.CommandLine.ParameterException(
            spec.commandLine(),
            "--suite accuracy needs --heldout FILE, e.g."
                + " deploy/model-export/fixtures/golden/demo-vicuna/heldout.json");
      }
      new AccuracyBench(engineConfig(), heldOut, out).run();
      return 0;
    }
    byte[] bytes = Files.readAllBytes(image != null ? image : DemoModel.sampleImages().get(0));
    if (suite == Suite.ANNOTATE) {
      new AnnotateBench(
              model,
              image != null ? List.of(image) : DemoModel.sampleImages(),
              requests,
              maxBatch,
              shortTokens,
              device,
              threads,
              out)
          .run();
      return 0;
    }
    if (suite == Suite.KAFKA) {
      Path imagePath = image != null ? image : DemoModel.sampleImages().get(0);
      StageSettings stages =
          StageSettings.fromMap(
              Map.of(
                  StageSettings.MODEL_DIR, model.toAbsolutePath().toString(),
                  StageSettings.DEVICE, device,
                  StageSettings.VISION_BATCH, Integer.toString(maxBatch),
                  StageSettings.QFORMER_BATCH, Integer.toString(maxBatch),
                  StageSettings.LLM_RUNNING, Integer.toString(maxBatch),
                  StageSettings.VISION_WAIT, maxWaitMs + " ms",
                  StageSettings.QFORMER_WAIT, maxWaitMs + " ms"));
      new KafkaBench(
              stages,
              imagePath.toAbsolutePath().toString(),
              requests,
              repeats,
              Duration.ofMillis(checkpointMs),
              out)
          .run();
      return 0;
    }
    if (suite == Suite.PIPELINE) {
      new PipelineBench(
              model.toAbsolutePath().toString(),
              bytes,
              requests,
              maxBatch,
              Duration.ofMillis(maxWaitMs),
              shortTokens,
              longTokens,
              repeats,
              threads,
              out)
          .run();
      return 0;
    }
    try (InstructBlipEngine engine = InstructBlipEngine.open(engineConfig())) {
      new EngineBench(engine, bytes, warmup, runs, out)
          .run(
              visionBatches,
              decodeSequences,
              contexts,
              kvCaches.stream().map(KvStorage::parse).toList());
    }
    return 0;
  }

  private EngineConfig engineConfig() {
    SessionSettings.Builder session = SessionSettings.builder().device(DeviceSpec.parse(device));
    if (threads > 0) {
      session.intraOpThreads(threads);
    }
    return EngineConfig.builder(model).session(session.build()).build();
  }
}
