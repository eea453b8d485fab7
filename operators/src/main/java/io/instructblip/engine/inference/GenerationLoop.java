package io.instructblip.engine.inference;

import io.instructblip.engine.api.EngineException;
import io.instructblip.engine.api.EngineFailure;
import io.instructblip.engine.api.EngineOutcome;
import io.instructblip.engine.api.EngineResult;
import io.instructblip.engine.api.ErrorCode;
import io.instructblip.engine.api.TaskMode;
import io.instructblip.engine.generate.FinishReason;
import io.instructblip.engine.generate.GenerationParams;
import io.instructblip.engine.generate.RankedCandidate;
import io.instructblip.engine.generate.Ranking;
import io.instructblip.engine.generate.Search;
import io.instructblip.engine.generate.SearchResult;
import io.instructblip.engine.model.FloatTensor;
import io.instructblip.engine.model.HostTraffic;
import io.instructblip.engine.stage.TokenEmbedder;
import io.instructblip.engine.text.PromptBuilder;
import java.util.ArrayList;
import java.util.List;
import java.util.Objects;

/**
 * The LLM stage as continuous batching: sequences join at step boundaries ({@link #admit}), every
 * {@link #step} advances all running sequences by one token in one batch, and a finished sequence
 * leaves at once with its result. Ranking requests are answered at admission (teacher forcing, no
 * decoding). The search strategy of each sequence is fixed when it joins; the model state of each
 * sequence is its own, so the batch can change between any two steps. Not thread-safe: one loop
 * belongs to one stage thread.
 *
 * @param <S> the backend's per-sequence state
 */
public final class GenerationLoop<S> {

  /**
   * A request ready for the LLM: prepared inputs and its query outputs {@code [frames x Q, Dl]}.
   */
  public record Job(PreparedRequest request, FloatTensor queryOutputs) {
    public Job {
      Objects.requireNonNull(request, "request");
      Objects.requireNonNull(queryOutputs, "queryOutputs");
    }

    /** The model rows it takes at once: its beams, or its candidates when ranking. */
    public int rows() {
      if (request.mode() == TaskMode.RANK) {
        return request.candidateIds().size();
      }
      return request.params().searchKind() == GenerationParams.SearchKind.BEAM
          ? request.params().numBeams()
          : 1;
    }

    /**
     * The longest context one of its rows can reach: the image queries and the prompt, plus {@code
     * max_new_tokens} (or, ranking, the longest candidate). With {@link #rows()} it is what the job
     * reserves of a token budget.
     */
    public int tokensPerRow() {
      int input = queryOutputs.shape()[0] + request.promptIds().length;
      if (request.mode() == TaskMode.RANK) {
        int longest = 0;
        for (long[] candidate : request.candidateIds()) {
          longest = Math.max(longest, candidate.length);
        }
        return input + longest;
      }
      return input + request.params().maxNewTokens();
    }
  }

  private static final class Running<S> {
    final Job job;
    final Search search;
    final S state;
    final long startNanos;

    Running(Job job, Search search, S state, long startNanos) {
      this.job = job;
      this.search = search;
      this.state = state;
      this.startNanos = startNanos;
    }
  }

  private final LlmBackend<S> backend;
  private final TokenEmbedder embedder;
  private final PromptBuilder prompts;
  private final List<Running<S>> running = new ArrayList<>();
  private long lastStepHostBytes;

  GenerationLoop(LlmBackend<S> backend, TokenEmbedder embedder, PromptBuilder prompts) {
    this.backend = Objects.requireNonNull(backend, "backend");
    this.embedder = Objects.requireNonNull(embedder, "embedder");
    this.prompts = Objects.requireNonNull(prompts, "prompts");
  }

  /** The number of sequences decoding now. */
  public int runningSequences() {
    return running.size();
  }

  /** The number of model rows decoding now (a beam-search sequence has several). */
  public int runningRows() {
    int rows = 0;
    for (Running<S> r : running) {
      rows += r.search.rows();
    }
    return rows;
  }

  /**
   * The bytes the last model run of {@link #step} copied between the Java heap and ONNX Runtime
   * (see {@link HostTraffic}): the llm stage's per-step host traffic.
   */
  public long lastStepHostBytes() {
    return lastStepHostBytes;
  }

  /** Whether no sequence is running. */
  public boolean isIdle() {
    return running.isEmpty();
  }

  /**
   * Admits jobs at a step boundary: starts every generation job in one batched prefill and answers
   * every ranking job. Returns the results of jobs that are already finished (ranking, errors, and
   * generations that ended on their first token); the others run from the next {@link #step}.
   *
   * <p>Failures are per job: a job whose inputs, search or state fail is answered with its error
   * and the others are admitted; when the batched prefill itself fails, each job is started alone,
   * so that only the one that fails alone is answered with the error.
   */
  public List<EngineOutcome> admit(List<Job> jobs) {
    List<EngineOutcome> finished = new ArrayList<>();
    List<Job> generate = new ArrayList<>();
    for (Job job : jobs) {
      if (job.request().mode() == TaskMode.RANK) {
        finished.add(rank(job));
      } else {
        generate.add(job);
      }
    }
    if (generate.isEmpty()) {
      return finished;
    }
    long start = System.nanoTime();
    List<LlmBackend.Started<S>> started;
    try {
      started = backend.start(inputsEmbeds(generate));
    } catch (RuntimeException e) {
      if (generate.size() == 1) {
        finished.add(failed(generate.get(0), e, start));
        return finished;
      }
      // One job may have broken the batch: start each alone, so that only that one fails.
      for (Job job : generate) {
        finished.addAll(admit(List.of(job)));
      }
      return finished;
    }
    for (int i = 0; i < generate.size(); i++) {
      Job job = generate.get(i);
      S state = started.get(i).state();
      try {
        Search search = Search.create(job.request().params(), backend.decoderPrefix());
        Running<S> r = new Running<>(job, search, state, start);
        search.step(new float[][] {started.get(i).logits()});
        if (search.isDone()) {
          backend.release(state);
          finished.add(result(r));
        } else {
          backend.reorder(r.state, search.parentRows());
          running.add(r);
        }
      } catch (RuntimeException e) {
        backend.release(state);
        finished.add(failed(job, e, start));
      }
    }
    return finished;
  }

  /**
   * Advances every running sequence by one token, in one batch, and returns the results of the
   * sequences that finished (they have left the batch).
   *
   * <p>Failures are per sequence: one whose search or state fails is answered with its error and
   * leaves; the others go on. When the batched model run fails, each sequence is stepped alone (the
   * backends change a state only after its run succeeded), so that only a sequence that also fails
   * alone is answered with the error ({@code MODEL_ERROR} for ONNX Runtime failures).
   */
  public List<EngineOutcome> step() {
    if (running.isEmpty()) {
      return List.of();
    }
    List<EngineOutcome> finished = new ArrayList<>();
    List<Running<S>> batch = new ArrayList<>(running.size());
    List<long[]> tokens = new ArrayList<>(running.size());
    for (Running<S> r : running) {
      try {
        tokens.add(nextTokens(r));
        batch.add(r);
      } catch (RuntimeException e) {
        backend.release(r.state);
        finished.add(failed(r.job, e, r.startNanos));
      }
    }
    running.retainAll(batch);
    List<float[][]> logits;
    try {
      logits = stepAll(batch, tokens);
    } catch (RuntimeException e) {
      if (batch.size() > 1) {
        return stepEachAlone(batch, tokens, finished);
      }
      finished.add(failed(batch.get(0).job, e, batch.get(0).startNanos));
      backend.release(batch.get(0).state);
      running.clear();
      return finished;
    }
    for (int i = 0; i < batch.size(); i++) {
      advance(batch.get(i), logits.get(i), finished);
    }
    return finished;
  }

  /** After a failed batched step: one model run per sequence. */
  private List<EngineOutcome> stepEachAlone(
      List<Running<S>> batch, List<long[]> tokens, List<EngineOutcome> finished) {
    for (int i = 0; i < batch.size(); i++) {
      Running<S> r = batch.get(i);
      float[][] logits;
      try {
        logits = stepAll(List.of(r), List.of(tokens.get(i))).get(0);
      } catch (RuntimeException e) {
        running.remove(r);
        backend.release(r.state);
        finished.add(failed(r.job, e, r.startNanos));
        continue;
      }
      advance(r, logits, finished);
    }
    return finished;
  }

  private List<float[][]> stepAll(List<Running<S>> batch, List<long[]> tokens) {
    List<S> states = new ArrayList<>(batch.size());
    for (Running<S> r : batch) {
      states.add(r.state);
    }
    long before = HostTraffic.bytes();
    try {
      return backend.step(states, tokens);
    } finally {
      lastStepHostBytes = HostTraffic.bytes() - before;
    }
  }

  private static long[] nextTokens(Running<?> r) {
    int[] next = r.search.nextTokens();
    long[] ids = new long[next.length];
    for (int i = 0; i < next.length; i++) {
      ids[i] = next[i];
    }
    return ids;
  }

  /** Feeds one step's logits to a sequence's search; it leaves when done or when it fails. */
  private void advance(Running<S> r, float[][] logits, List<EngineOutcome> finished) {
    try {
      r.search.step(logits);
      if (r.search.isDone()) {
        finished.add(result(r));
        running.remove(r);
        backend.release(r.state);
      } else {
        backend.reorder(r.state, r.search.parentRows());
      }
    } catch (RuntimeException e) {
      running.remove(r);
      backend.release(r.state);
      finished.add(failed(r.job, e, r.startNanos));
    }
  }

  /** Drops a running sequence (deadline passed, request cancelled); false if it is not running. */
  public boolean cancel(String requestId) {
    return running.removeIf(
        r -> {
          boolean match = r.job.request().id().equals(requestId);
          if (match) {
            backend.release(r.state);
          }
          return match;
        });
  }

  /** The steps so far that fed the previous step's presents back instead of packing. */
  long carriedSteps() {
    return backend.carriedSteps();
  }

  /**
   * Drops every running sequence and frees their model state and the backend's (the stage closes).
   */
  public void close() {
    for (Running<S> r : running) {
      backend.release(r.state);
    }
    running.clear();
    backend.close();
  }

  private List<FloatTensor> inputsEmbeds(List<Job> jobs) {
    long[][] promptIds = new long[jobs.size()][];
    for (int i = 0; i < jobs.size(); i++) {
      promptIds[i] = jobs.get(i).request().promptIds();
    }
    List<FloatTensor> prompts = embedder.embed(promptIds);
    List<FloatTensor> embeds = new ArrayList<>(jobs.size());
    for (int i = 0; i < jobs.size(); i++) {
      embeds.add(concatRows(jobs.get(i).queryOutputs(), prompts.get(i)));
    }
    return embeds;
  }

  /** {@code [a; b]} for two {@code [T, D]} tensors of the same width. */
  static FloatTensor concatRows(FloatTensor a, FloatTensor b) {
    if (a.dim(1) != b.dim(1)) {
      throw new EngineException(
          ErrorCode.MODEL_INVALID,
          "query outputs are "
              + a.dim(1)
              + " wide but token embeddings "
              + b.dim(1)
              + ": the Q-Former projection does not match the LLM width");
    }
    float[] data = new float[a.data().length + b.data().length];
    System.arraycopy(a.data(), 0, data, 0, a.data().length);
    System.arraycopy(b.data(), 0, data, a.data().length, b.data().length);
    return new FloatTensor(new int[] {a.dim(0) + b.dim(0), a.dim(1)}, data);
  }

  private EngineOutcome rank(Job job) {
    long start = System.nanoTime();
    PreparedRequest request = job.request();
    try {
      FloatTensor embeds = inputsEmbeds(List.of(job)).get(0);
      List<float[][]> logits = backend.teacherForced(embeds, request.candidateIds());
      List<RankedCandidate> scored = new ArrayList<>(logits.size());
      for (int i = 0; i < logits.size(); i++) {
        long[] ids = request.candidateIds().get(i);
        List<Integer> targets = new ArrayList<>(ids.length);
        for (long id : ids) {
          targets.add(Math.toIntExact(id));
        }
        scored.add(Ranking.score(i, request.candidateTexts().get(i), targets, logits.get(i)));
      }
      List<RankedCandidate> ranked = Ranking.sortBestFirst(scored);
      RankedCandidate best = ranked.get(0);
      return new EngineResult(
          request.id(),
          best.text(),
          best.tokenIds(),
          FinishReason.RANK,
          ranked,
          boxed(request.qformerIds()),
          boxed(request.promptIds()),
          request.timings().withLlm((System.nanoTime() - start) / 1_000));
    } catch (RuntimeException e) {
      return failed(job, e, start);
    }
  }

  private EngineResult result(Running<S> r) {
    SearchResult answer = r.search.result();
    PreparedRequest request = r.job.request();
    long[] ids = new long[answer.tokenIds().size()];
    for (int i = 0; i < ids.length; i++) {
      ids[i] = answer.tokenIds().get(i);
    }
    return new EngineResult(
        request.id(),
        prompts.answerText(ids),
        answer.tokenIds(),
        answer.finishReason(),
        List.of(),
        boxed(request.qformerIds()),
        boxed(request.promptIds()),
        request.timings().withLlm((System.nanoTime() - r.startNanos) / 1_000));
  }

  private static List<Integer> boxed(long[] ids) {
    List<Integer> list = new ArrayList<>(ids.length);
    for (long id : ids) {
      list.add(Math.toIntExact(id));
    }
    return list;
  }

  /**
   * The failure of one job; an exception that is not the engine's is an {@code INTERNAL} error (the
   * loop never lets one job's failure escape to the others).
   */
  private static EngineFailure failed(Job job, RuntimeException e, long startNanos) {
    return EngineFailure.of(
        job.request().id(),
        EngineException.orInternal(e, "unexpected failure in the LLM stage"),
        job.request().timings().withLlm((System.nanoTime() - startNanos) / 1_000));
  }
}
