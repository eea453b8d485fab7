package io.instructblip.engine;

import io.instructblip.engine.api.EngineException;
import io.instructblip.engine.api.EngineFailure;
import io.instructblip.engine.api.EngineOutcome;
import io.instructblip.engine.api.EngineRequest;
import io.instructblip.engine.api.ErrorCode;
import io.instructblip.engine.api.StageTimings;
import io.instructblip.engine.generate.ContinuousBatchScheduler;
import io.instructblip.engine.image.ImageDecoder;
import io.instructblip.engine.image.ImagePreprocessing;
import io.instructblip.engine.image.ImagePreprocessor;
import io.instructblip.engine.inference.GenerationLoop;
import io.instructblip.engine.inference.LlmBackends;
import io.instructblip.engine.inference.PreparedRequest;
import io.instructblip.engine.inference.RequestPreparer;
import io.instructblip.engine.inference.VisualFeatures;
import io.instructblip.engine.model.FloatTensor;
import io.instructblip.engine.model.LlmFamily;
import io.instructblip.engine.model.ModelDirectory;
import io.instructblip.engine.model.ModelManifest;
import io.instructblip.engine.model.ModelSessions;
import io.instructblip.engine.stage.KvStorage;
import io.instructblip.engine.stage.QFormerRunner;
import io.instructblip.engine.stage.VisionEncoderRunner;
import io.instructblip.engine.text.PaddingSide;
import io.instructblip.engine.text.PromptBuilder;
import io.instructblip.engine.text.PromptRecipe;
import io.instructblip.engine.text.TextTokenizer;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * InstructBLIP on one model directory and device: the entry point of the engine. It owns the ONNX
 * Runtime sessions and tokenizers and hands out the pipeline's parts, each usable on its own by a
 * stage operator: {@link #preparer()} (CPU: images and text), {@link #visualFeatures()} (vision
 * encoder and Q-Former, batched) and {@link #newGenerationLoop()} (the LLM with continuous
 * batching). {@link #infer} runs them all for a list of requests. Thread-safe except the loops it
 * creates; close it once, after its last use.
 *
 * <pre>{@code
 * try (InstructBlipEngine engine = InstructBlipEngine.open(EngineConfig.builder(dir).build())) {
 *   EngineResult r = engine.infer(List.of(EngineRequest.generate("1", List.of(jpeg), "Describe it."))).get(0).answer();
 * }
 * }</pre>
 */
public final class InstructBlipEngine implements AutoCloseable {
  /** Default for the LLM rows {@link #infer} runs at once. */
  public static final int DEFAULT_MAX_RUNNING_ROWS = 16;

  /** Default for the images one vision-encoder run takes in {@link #infer}. */
  public static final int DEFAULT_MAX_VISION_BATCH = 16;

  private final EngineConfig config;
  private final ModelSessions sessions;
  private final TextTokenizer llmTokenizer;
  private final TextTokenizer qformerTokenizer;
  private final RequestPreparer preparer;
  private final VisualFeatures visualFeatures;
  private final LlmBackends backends;

  private InstructBlipEngine(
      EngineConfig config,
      ModelSessions sessions,
      TextTokenizer llmTokenizer,
      TextTokenizer qformerTokenizer) {
    this.config = config;
    this.sessions = sessions;
    this.llmTokenizer = llmTokenizer;
    this.qformerTokenizer = qformerTokenizer;
    ModelManifest manifest = sessions.manifest();
    ModelManifest.SpecialTokens special = manifest.specialTokens();
    PromptBuilder prompts =
        PromptBuilder.builder()
            .qformer(qformerTokenizer, recipe(manifest.qformerPrompt(), special.qformerPad()))
            .llm(llmTokenizer, recipe(manifest.llmPrompt(), special.llmPad()))
            .eosId(special.llmEos())
            .appendEosToCandidates(manifest.ranking().appendEos())
            .build();
    ModelManifest.ImagePreprocessing ip = manifest.imagePreprocessing();
    ImagePreprocessor images =
        new ImagePreprocessor(
            new ImagePreprocessing(ip.size(), ip.rescaleFactor(), ip.mean(), ip.std()),
            new ImageDecoder(config.imageLimits()));
    this.preparer =
        new RequestPreparer(
            images,
            prompts,
            manifest.generationDefaults(),
            Math.toIntExact(special.llmEos()),
            config.maxImagesPerRequest(),
            config.maxCandidates(),
            manifest.numQueryTokens(),
            manifest.llm().maxPositions(),
            manifest.llmFamily() == LlmFamily.DECODER_ONLY);
    this.visualFeatures =
        new VisualFeatures(new VisionEncoderRunner(sessions), new QFormerRunner(sessions));
    this.backends = new LlmBackends(sessions, prompts);
  }

  /**
   * Opens the model directory of {@code config} on its device: validates the manifest and every
   * ONNX session against docs/model-format.md and loads both tokenizers.
   *
   * @throws EngineException {@code MODEL_INVALID} or {@code DEVICE_UNAVAILABLE} with the reason
   */
  public static InstructBlipEngine open(EngineConfig config) {
    ModelDirectory directory = ModelDirectory.open(config.modelDir());
    ModelSessions sessions = ModelSessions.open(directory, config.session());
    TextTokenizer llm = null;
    try {
      llm = TextTokenizer.load(directory.llmTokenizerPath());
      TextTokenizer qformer = TextTokenizer.load(directory.qformerTokenizerPath());
      return new InstructBlipEngine(config, sessions, llm, qformer);
    } catch (RuntimeException e) {
      if (llm != null) {
        llm.close();
      }
      sessions.close();
      throw e;
    }
  }

  /** The configuration this engine was opened with. */
  public EngineConfig config() {
    return config;
  }

  /** The model directory's manifest. */
  public ModelManifest manifest() {
    return sessions.manifest();
  }

  /** The CPU step: images to pixels, text to ids, parameters resolved. */
  public RequestPreparer preparer() {
    return preparer;
  }

  /** The vision encoder and Q-Former stages. */
  public VisualFeatures visualFeatures() {
    return visualFeatures;
  }

  /** A new LLM stage loop (one per stage thread), with the KV caches in native memory. */
  public GenerationLoop<?> newGenerationLoop() {
    return backends.newLoop();
  }

  /** A new LLM stage loop whose KV caches live in {@code storage} (benchmarks compare them). */
  public GenerationLoop<?> newGenerationLoop(KvStorage storage) {
    return backends.newLoop(storage);
  }

  /**
   * Answers every request: prepares each, runs the visual stages in batches of {@link
   * #DEFAULT_MAX_VISION_BATCH} and the LLM with continuous batching of at most {@link
   * #DEFAULT_MAX_RUNNING_ROWS} rows, admitted by the {@link ContinuousBatchScheduler} the Flink llm
   * stage uses (a request needing more rows than that runs alone, as there). A request that fails
   * gets an {@link EngineFailure} in its place; the others are unaffected. One outcome per request,
   * in request order.
   */
  public List<EngineOutcome> infer(List<EngineRequest> requests) {
    return infer(requests, DEFAULT_MAX_VISION_BATCH, DEFAULT_MAX_RUNNING_ROWS);
  }

  /**
   * {@link #infer(List)} with explicit batch limits.
   *
   * <p>Requests keep their ids on every step, so a sampling request without a seed draws from the
   * seed its id gives it (as in the Flink stages), wherever it stands in {@code requests}. Requests
   * that share an id run one after the other, in order: each occurrence goes in a later round than
   * the one before it, so ids stay unique among the requests in flight.
   */
  public List<EngineOutcome> infer(List<EngineRequest> requests, int maxVisionBatch, int maxRows) {
    EngineOutcome[] results = new EngineOutcome[requests.size()];
    for (List<Integer> round : roundsOfUniqueIds(requests)) {
      inferRound(requests, round, results, maxVisionBatch, maxRows);
    }
    for (int i = 0; i < results.length; i++) {
      if (results[i] == null) { // never expected: every path answers its requests
        results[i] =
            EngineFailure.of(
                requests.get(i).id(),
                new EngineException(ErrorCode.INTERNAL, "the request was not answered"),
                StageTimings.ZERO);
      }
    }
    return List.of(results);
  }

  /** Positions of {@code requests} in rounds: the n-th occurrence of an id goes in round n. */
  private static List<List<Integer>> roundsOfUniqueIds(List<EngineRequest> requests) {
    Map<String, Integer> seen = new HashMap<>();
    List<List<Integer>> rounds = new ArrayList<>();
    for (int i = 0; i < requests.size(); i++) {
      int round = seen.merge(requests.get(i).id(), 1, Integer::sum) - 1;
      if (round == rounds.size()) {
        rounds.add(new ArrayList<>());
      }
      rounds.get(round).add(i);
    }
    return rounds;
  }

  /** Answers the requests at {@code positions} (their ids are unique) into {@code results}. */
  private void inferRound(
      List<EngineRequest> requests,
      List<Integer> positions,
      EngineOutcome[] results,
      int maxVisionBatch,
      int maxRows) {
    Map<String, Integer> positionOf = new HashMap<>();
    ContinuousBatchScheduler<GenerationLoop.Job> scheduler =
        new ContinuousBatchScheduler<>(
            new ContinuousBatchScheduler.Limits(maxRows, ContinuousBatchScheduler.NO_TOKEN_BUDGET));
    List<PreparedRequest> pending = new ArrayList<>();
    for (int n = 0; n < positions.size(); n++) {
      int i = positions.get(n);
      EngineRequest r = requests.get(i);
      positionOf.put(r.id(), i);
      try {
        pending.add(preparer.prepare(r));
      } catch (RuntimeException e) {
        results[i] =
            EngineFailure.of(
                r.id(), EngineException.orInternal(e, "unexpected failure"), StageTimings.ZERO);
      }
      if (pending.size() == maxVisionBatch || (n == positions.size() - 1 && !pending.isEmpty())) {
        for (GenerationLoop.Job job : visual(pending, results, positionOf)) {
          PreparedRequest p = job.request();
          try {
            scheduler.submit(p.id(), job.rows(), job.tokensPerRow(), job);
          } catch (EngineException e) {
            results[positionOf.get(p.id())] = EngineFailure.of(p.id(), e, p.timings());
          }
        }
        pending.clear();
      }
    }
    GenerationLoop<?> loop = newGenerationLoop();
    try {
      while (!scheduler.isIdle()) {
        List<GenerationLoop.Job> joining = new ArrayList<>();
        scheduler.admit().forEach(entry -> joining.add(entry.payload()));
        List<EngineOutcome> done = new ArrayList<>(loop.admit(joining));
        done.addAll(loop.step());
        for (EngineOutcome r : done) {
          scheduler.finish(r.id());
          results[positionOf.get(r.id())] = r;
        }
      }
    } finally {
      loop.close();
    }
  }

  /** The batch's LLM jobs after the visual stages; a request that fails there gets its result. */
  private List<GenerationLoop.Job> visual(
      List<PreparedRequest> batch, EngineOutcome[] results, Map<String, Integer> positionOf) {
    List<GenerationLoop.Job> jobs = new ArrayList<>();
    try {
      long t0 = System.nanoTime();
      List<FloatTensor> embeds = visualFeatures.encode(batch);
      long t1 = System.nanoTime();
      List<FloatTensor> queries = visualFeatures.queryOutputs(batch, embeds);
      long t2 = System.nanoTime();
      for (int i = 0; i < batch.size(); i++) {
        PreparedRequest r = batch.get(i);
        StageTimings timings =
            r.timings().withVision((t1 - t0) / 1_000).withQformer((t2 - t1) / 1_000);
        jobs.add(new GenerationLoop.Job(r.withTimings(timings), queries.get(i)));
      }
      return jobs;
    } catch (RuntimeException e) {
      if (batch.size() > 1) {
        // One request may have broken the batch: run each alone, so that only that one fails.
        for (PreparedRequest r : batch) {
          jobs.addAll(visual(List.of(r), results, positionOf));
        }
        return jobs;
      }
      PreparedRequest r = batch.get(0);
      results[positionOf.get(r.id())] =
          EngineFailure.of(
              r.id(), EngineException.orInternal(e, "unexpected failure"), r.timings());
      return jobs;
    }
  }

  private static PromptRecipe recipe(ModelManifest.PromptRecipe recipe, long padId) {
    return new PromptRecipe(
        recipe.prefixIds(),
        recipe.suffixIds(),
        recipe.maxTokens(),
        recipe.paddingSide() == ModelManifest.PaddingSide.LEFT
            ? PaddingSide.LEFT
            : PaddingSide.RIGHT,
        padId);
  }

  @Override
  public void close() {
    try {
      llmTokenizer.close();
      qformerTokenizer.close();
    } finally {
      sessions.close();
    }
  }

  /** The LLM family of the loaded model. */
  public LlmFamily family() {
    return sessions.manifest().llmFamily();
  }
}
