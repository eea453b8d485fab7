package io.instructblip.job.bench;

import io.instructblip.engine.EngineRequest;
import io.instructblip.engine.GenerationOverrides;
import io.instructblip.engine.InstructBlipEngine;
import io.instructblip.engine.TaskMode;
import io.instructblip.engine.model.FloatTensor;
import io.instructblip.engine.model.ModelManifest;
import io.instructblip.engine.pipeline.GenerationLoop;
import io.instructblip.engine.pipeline.PreparedRequest;
import io.instructblip.engine.stage.KvStorage;
import java.io.PrintWriter;
import java.util.ArrayList;
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
            + " storage (native: the default backend; heap: the fallback)");
    for (int sequences : decodeSequences) {
      for (KvStorage storage : storages) {
        Measurement step = decodeStep(sequences, storage);
        out.printf(
            Locale.ROOT,
            "[%s] running %3d  %9.1f tokens/s   step %8.2f ms%n",
            storage.wireName(),
            sequences,
            sequences * 1000 / step.median(),
            step.median());
        out.flush();
      }
    }
    out.println(
        "== one decode step (1 sequence) by context length, and the bytes it copies between the"
            + " Java heap and ONNX Runtime");
    Map<KvStorage, Double> first = new EnumMap<>(KvStorage.class);
    Map<KvStorage, Double> last = new EnumMap<>(KvStorage.class);
    for (int context : contexts) {
      for (KvStorage storage : storages) {
        ContextStep step = contextStep(context, storage);
        first.putIfAbsent(storage, step.time().median());
        last.put(storage, step.time().median());
        out.printf(
            Locale.ROOT,
            "[%s] context %d: step %.2f ms, host bytes/step %d%n",
            storage.wireName(),
            context,
            step.time().median(),
            step.hostBytes());
        out.flush();
      }
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

  /** The median time of one step with {@code sequences} greedy sequences running. */
  private Measurement decodeStep(int sequences, KvStorage storage) {
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
    GenerationLoop<?> loop = engine.newGenerationLoop(storage);
    loop.admit(jobs);
    Measurement m =
        Measurement.of("decode step x" + sequences, warmup, runs, () -> check(loop.step()));
    if (loop.runningSequences() != sequences) {
      throw new IllegalStateException("a benchmark sequence stopped early");
    }
    loop.close();
    return m;
  }

  /**
   * One step of one sequence whose context is {@code context} positions: the model is started on
   * {@code context} random input embeddings (the prompt's content does not change the cost).
   */
  private ContextStep contextStep(int context, KvStorage storage) {
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
    GenerationLoop<?> loop = engine.newGenerationLoop(storage);
    loop.admit(List.of(new GenerationLoop.Job(p, new FloatTensor(new int[] {rows, width}, data))));
    Measurement time =
        Measurement.of("decode step context " + context, warmup, runs, () -> check(loop.step()));
    long hostBytes = loop.lastStepHostBytes();
    loop.close();
    return new ContextStep(time, hostBytes);
  }

  /** The time of a decode step at one context length and the host bytes of its last run. */
  private record ContextStep(Measurement time, long hostBytes) {}

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
