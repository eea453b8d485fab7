package io.instructblip.job.bench;

import io.instructblip.engine.InstructBlipEngine;
import io.instructblip.engine.api.EngineRequest;
import io.instructblip.engine.api.GenerationOverrides;
import io.instructblip.engine.api.TaskMode;
import io.instructblip.engine.inference.GenerationLoop;
import io.instructblip.engine.inference.PreparedRequest;
import io.instructblip.engine.model.FloatTensor;
import io.instructblip.engine.model.ModelManifest;
import io.instructblip.engine.model.OrtRunTime;
import io.instructblip.engine.stage.KvStorage;
import java.io.PrintWriter;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collections;
import java.util.EnumMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.SplittableRandom;

/**
 * The engine's throughput, stage by stage, on one model directory: vision encoder and Q-Former
 * images/s by batch size, decode tokens/s by running sequences, and the cost of a decode step with
 * a short and a long context (the KV cache should keep it nearly flat).
 */
public final class EngineBench {
  private final InstructBlipEngine engine;
  private final byte[] image;
  private final int warmup;
  private final int runs;
  private final PrintWriter out;

  public EngineBench(
      InstructBlipEngine engine, byte[] image, int warmup, int runs, PrintWriter out) {
    this.engine = engine;
    this.image = image;
    this.warmup = warmup;
    this.runs = runs;
    this.out = out;
  }

  /**
   * Runs every measurement and prints a table; the LLM measurements run once per KV cache storage,
   * interleaved, so that the backends are compared under the same load.
   */
  public void run(
      int[] visionBatches, int[] decodeSequences, int[] contexts, List<KvStorage> storages) {
    ModelManifest m = engine.manifest();
    out.printf(
        Locale.ROOT,
        "model %s (%s, %s): image %d, %d query tokens, LLM %d x %d layers, vocab %d; %d cores%n",
        m.name(),
        m.llmFamily(),
        m.dtype(),
        m.vision().imageSize(),
        m.numQueryTokens(),
        m.llm().hiddenSize(),
        m.llm().numLayers(),
        m.llm().vocabSize(),
        Runtime.getRuntime().availableProcessors());
    out.println("== vision encoder and Q-Former, images/s by batch size (median of runs)");
    for (int batch : visionBatches) {
      List<PreparedRequest> prepared = new ArrayList<>();
      for (int i = 0; i < batch; i++) {
        prepared.add(engine.preparer().prepare(request("v" + i, 1)));
      }
      List<FloatTensor> embeds = engine.visualFeatures().encode(prepared);
      Measurement vision =
          Measurement.of(
              "vision_encoder batch " + batch,
              warmup,
              runs,
              () -> engine.visualFeatures().encode(prepared));
      Measurement qformer =
          Measurement.of(
              "qformer batch " + batch,
              warmup,
              runs,
              () -> engine.visualFeatures().queryOutputs(prepared, embeds));
      out.printf(
          Locale.ROOT,
          "batch %3d  vision %8.1f img/s (%8.2f ms)   qformer %8.1f img/s (%8.2f ms)%n",
          batch,
          batch * 1000 / vision.median(),
          vision.median(),
          batch * 1000 / qformer.median(),
          qformer.median());
      out.flush();
    }
    out.println(
        "== decode, tokens/s by running sequences (greedy, one step = one token each), by KV cache"
            + " storage (native: the default backend; native-repack: native, packing every step"
            + " instead of carrying the last step's presents; heap: the fallback)");
    for (int sequences : decodeSequences) {
      List<GenerationLoop.Job> jobs = decodeJobs(sequences);
      List<Measurement> steps =
          interleaved(
              "decode step x" + sequences,
              storages,
              Collections.nCopies(storages.size(), jobs),
              new long[storages.size()],
              new double[storages.size()]);
      for (int k = 0; k < storages.size(); k++) {
        out.printf(
            Locale.ROOT,
            "[%s] running %3d  %9.1f tokens/s   step %8.2f ms%n",
            storages.get(k).wireName(),
            sequences,
            sequences * 1000 / steps.get(k).median(),
            steps.get(k).median());
      }
      out.flush();
    }
    out.println(
        "== one decode step (1 sequence) by context length, the bytes it copies between the"
            + " Java heap and ONNX Runtime, and its median time inside ONNX Runtime's runs");
    // every context and backend stepped in turn, so that the ratios compare the same load
    List<KvStorage> loopStorages = new ArrayList<>();
    List<List<GenerationLoop.Job>> loopJobs = new ArrayList<>();
    for (int context : contexts) {
      List<GenerationLoop.Job> job = contextJob(context);
      for (KvStorage storage : storages) {
        loopStorages.add(storage);
        loopJobs.add(job);
      }
    }
    long[] hostBytes = new long[loopStorages.size()];
    double[] ortMillis = new double[loopStorages.size()];
    List<Measurement> steps =
        interleaved("decode step by context", loopStorages, loopJobs, hostBytes, ortMillis);
    Map<KvStorage, Double> first = new EnumMap<>(KvStorage.class);
    Map<KvStorage, Double> last = new EnumMap<>(KvStorage.class);
    for (int k = 0; k < loopStorages.size(); k++) {
      KvStorage storage = loopStorages.get(k);
      first.putIfAbsent(storage, steps.get(k).median());
      last.put(storage, steps.get(k).median());
      out.printf(
          Locale.ROOT,
          "[%s] context %d: step %.2f ms, host bytes/step %d, in ONNX Runtime %.2f ms%n",
          storage.wireName(),
          contexts[k / storages.size()],
          steps.get(k).median(),
          hostBytes[k],
          ortMillis[k]);
    }
    for (KvStorage storage : storages) {
      out.printf(
          Locale.ROOT,
          "[%s] step time ratio, context %d vs %d: %.2f%n",
          storage.wireName(),
          contexts[contexts.length - 1],
          contexts[0],
          last.get(storage) / first.get(storage));
    }
    out.flush();
  }

  /**
   * Loop k runs {@code jobs.get(k)} with its KV caches in {@code storages.get(k)}; the loops are
   * stepped in turn run after run so that they see the same machine load; {@code hostBytes[k]} gets
   * the host bytes of loop k's last step, {@code ortMillis[k]} the median time of its measured
   * steps inside ONNX Runtime's session runs.
   */
  private List<Measurement> interleaved(
      String name,
      List<KvStorage> storages,
      List<List<GenerationLoop.Job>> jobs,
      long[] hostBytes,
      double[] ortMillis) {
    List<GenerationLoop<?>> loops = new ArrayList<>();
    List<Runnable> steps = new ArrayList<>();
    double[][] ort = new double[storages.size()][warmup + runs];
    for (int k = 0; k < storages.size(); k++) {
      GenerationLoop<?> loop = engine.newGenerationLoop(storages.get(k));
      check(loop.admit(jobs.get(k)));
      loops.add(loop);
      double[] times = ort[k];
      int[] done = {0};
      steps.add(
          () -> {
            long before = OrtRunTime.nanos();
            check(loop.step());
            times[done[0]++] = (OrtRunTime.nanos() - before) / 1e6;
          });
    }
    List<Measurement> result = Measurement.interleaved(name, warmup, runs, steps);
    for (int k = 0; k < loops.size(); k++) {
      ortMillis[k] =
          new Measurement(name, sorted(Arrays.copyOfRange(ort[k], warmup, warmup + runs))).median();
    }
    for (int k = 0; k < loops.size(); k++) {
      if (loops.get(k).runningSequences() != jobs.get(k).size()) {
        throw new IllegalStateException("a benchmark sequence stopped early");
      }
      hostBytes[k] = loops.get(k).lastStepHostBytes();
      loops.get(k).close();
    }
    return result;
  }

  private static double[] sorted(double[] values) {
    Arrays.sort(values);
    return values;
  }

  /** {@code sequences} greedy jobs that run for the whole measurement. */
  private List<GenerationLoop.Job> decodeJobs(int sequences) {
    GenerationOverrides neverStop = exactly(warmup + runs + 2);
    List<GenerationLoop.Job> jobs = new ArrayList<>();
    for (int i = 0; i < sequences; i++) {
      EngineRequest r =
          new EngineRequest(
              "d" + i,
              List.of(image),
              "Describe the image in detail.",
              TaskMode.GENERATE,
              List.of(),
              neverStop);
      PreparedRequest p = engine.preparer().prepare(r);
      FloatTensor queries =
          engine
              .visualFeatures()
              .queryOutputs(List.of(p), engine.visualFeatures().encode(List.of(p)))
              .get(0);
      jobs.add(new GenerationLoop.Job(p, queries));
    }
    return jobs;
  }

  /**
   * One sequence whose context is {@code context} positions: the model is started on {@code
   * context} random input embeddings (the prompt's content does not change the cost).
   */
  private List<GenerationLoop.Job> contextJob(int context) {
    GenerationOverrides neverStop = exactly(warmup + runs + 2);
    PreparedRequest p =
        engine
            .preparer()
            .prepare(
                new EngineRequest(
                    "c" + context, List.of(image), "x", TaskMode.GENERATE, List.of(), neverStop));
    // Random rows stand in for the query outputs so that rows + prompt = context positions; the
    // content of the context does not change the cost of a step.
    int rows = context - p.promptIds().length;
    if (rows < 1) {
      throw new IllegalArgumentException("context " + context + " is shorter than the prompt");
    }
    int width = engine.manifest().llm().hiddenSize();
    SplittableRandom random = new SplittableRandom(7);
    float[] data = new float[rows * width];
    for (int i = 0; i < data.length; i++) {
      data[i] = (float) random.nextGaussian() * 0.1f;
    }
    return List.of(new GenerationLoop.Job(p, new FloatTensor(new int[] {rows, width}, data)));
  }

  /** Greedy, no penalty, exactly {@code tokens} new tokens (EOS cannot end it early). */
  static GenerationOverrides exactly(int tokens) {
    return GenerationOverrides.builder()
        .numBeams(1)
        .repetitionPenalty(1.0)
        .maxNewTokens(tokens)
        .minNewTokens(tokens)
        .build();
  }

  private static void check(List<?> finished) {
    if (!finished.isEmpty()) {
      throw new IllegalStateException("a benchmark sequence finished early: " + finished);
    }
  }

  private EngineRequest request(String id, int frames) {
    List<byte[]> images = new ArrayList<>();
    for (int i = 0; i < frames; i++) {
      images.add(image);
    }
    return EngineRequest.generate(id, images, "What is in the image?");
  }
}
