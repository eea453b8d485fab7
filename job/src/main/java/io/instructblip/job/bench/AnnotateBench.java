package io.instructblip.job.bench;

import io.instructblip.engine.EngineConfig;
import io.instructblip.engine.InstructBlipEngine;
import io.instructblip.engine.api.EngineOutcome;
import io.instructblip.engine.api.EngineRequest;
import io.instructblip.engine.api.GenerationOverrides;
import io.instructblip.engine.api.TaskMode;
import io.instructblip.engine.model.DeviceSpec;
import io.instructblip.engine.model.SessionSettings;
import io.instructblip.job.cli.AnnotateCommand;
import java.io.IOException;
import java.io.PrintWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Locale;
import java.util.stream.Stream;
import picocli.CommandLine;

/**
 * {@code annotate} against the engine straight on the same requests: a folder of {@code images}
 * copies of the sample images, one caption each with the same instruction and {@code
 * max_new_tokens}. The engine runs them as one list ({@code infer} with the batch sizes given),
 * warm and without model loading; {@code annotate} is timed as a user sees it, from the command to
 * its summary (local Flink start, model loading, listing, checkpoints and the Parquet commit
 * included).
 */
public final class AnnotateBench {
  static final String INSTRUCTION = "Write a short caption.";

  private final Path model;
  private final List<Path> samples;
  private final int images;
  private final int maxBatch;
  private final int maxNewTokens;
  private final String device;
  private final int threads;
  private final PrintWriter out;

  public AnnotateBench(
      Path model,
      List<Path> samples,
      int images,
      int maxBatch,
      int maxNewTokens,
      String device,
      int threads,
      PrintWriter out) {
    this.model = model;
    this.samples = List.copyOf(samples);
    this.images = images;
    this.maxBatch = maxBatch;
    this.maxNewTokens = maxNewTokens;
    this.device = device;
    this.threads = threads;
    this.out = out;
  }

  /** Runs both and prints images/s and the ratio. */
  public void run() throws Exception {
    Path work = Files.createTempDirectory("annotate-bench");
    try {
      Path src = work.resolve("images");
      List<Path> files = new ArrayList<>();
      for (int i = 0; i < images; i++) {
        Path sample = samples.get(i % samples.size());
        String name = sample.getFileName().toString();
        Path file = src.resolve("d" + (i % 10)).resolve(i + "-" + name);
        Files.createDirectories(file.getParent());
        Files.copy(sample, file);
        files.add(file);
      }
      double engineSeconds = engine(files);
      long start = System.nanoTime();
      int exit =
          new CommandLine(new AnnotateCommand())
              .setCaseInsensitiveEnumValuesAllowed(true)
              .execute(
                  "--model",
                  model.toAbsolutePath().toString(),
                  "--input",
                  src.toString(),
                  "--output",
                  work.resolve("out").toString(),
                  "--instruction",
                  INSTRUCTION,
                  "--max-new-tokens",
                  Integer.toString(maxNewTokens),
                  "--device",
                  device,
                  "--threads",
                  Integer.toString(threads),
                  "--vision-max-batch",
                  Integer.toString(maxBatch),
                  "--qformer-max-batch",
                  Integer.toString(maxBatch),
                  "--llm-max-running",
                  Integer.toString(maxBatch),
                  "--no-progress");
      double annotateSeconds = (System.nanoTime() - start) / 1e9;
      if (exit != 0) {
        throw new IllegalStateException("annotate exited with " + exit);
      }
      out.printf(
          Locale.ROOT,
          "annotate vs engine, %d images, max_new_tokens %d, batch %d, %d cores:%n",
          images,
          maxNewTokens,
          maxBatch,
          Runtime.getRuntime().availableProcessors());
      out.printf(
          Locale.ROOT,
          "engine straight (warm): %8.2f images/s (%.1f s)%n",
          images / engineSeconds,
          engineSeconds);
      out.printf(
          Locale.ROOT,
          "annotate (command):     %8.2f images/s (%.1f s)   ratio %.1f%% of the engine%n",
          images / annotateSeconds,
          annotateSeconds,
          100 * engineSeconds / annotateSeconds);
      out.flush();
    } finally {
      delete(work);
    }
  }

  private double engine(List<Path> files) throws Exception {
    List<EngineRequest> requests = new ArrayList<>();
    for (Path f : files) {
      requests.add(
          new EngineRequest(
              f.toString(),
              List.of(Files.readAllBytes(f)),
              INSTRUCTION,
              TaskMode.GENERATE,
              List.of(),
              GenerationOverrides.builder().maxNewTokens(maxNewTokens).build()));
    }
    SessionSettings.Builder session = SessionSettings.builder().device(DeviceSpec.parse(device));
    if (threads > 0) {
      session.intraOpThreads(threads);
    }
    try (InstructBlipEngine engine =
        InstructBlipEngine.open(EngineConfig.builder(model).session(session.build()).build())) {
      engine.infer(requests.subList(0, Math.min(maxBatch, requests.size())), maxBatch, maxBatch);
      long start = System.nanoTime();
      List<EngineOutcome> results = engine.infer(requests, maxBatch, maxBatch);
      double seconds = (System.nanoTime() - start) / 1e9;
      if (results.size() != requests.size()) {
        throw new IllegalStateException("the engine answered " + results.size() + " requests");
      }
      return seconds;
    }
  }

  private static void delete(Path root) throws IOException {
    try (Stream<Path> paths = Files.walk(root)) {
      for (Path p : paths.sorted(Comparator.reverseOrder()).toList()) {
        Files.deleteIfExists(p);
      }
    }
  }
}
