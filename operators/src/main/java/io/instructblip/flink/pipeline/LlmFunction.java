package io.instructblip.flink.pipeline;

import io.instructblip.engine.InstructBlipEngine;
import io.instructblip.engine.api.EngineException;
import io.instructblip.engine.api.EngineFailure;
import io.instructblip.engine.api.EngineOutcome;
import io.instructblip.engine.api.EngineResult;
import io.instructblip.engine.generate.ContinuousBatchScheduler;
import io.instructblip.engine.inference.GenerationLoop;
import io.instructblip.flink.Result;
import io.instructblip.flink.SharedEngineRegistry;
import io.instructblip.flink.StageContext;
import io.instructblip.flink.StepFunction;
import io.instructblip.flink.Stepper;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * The {@code llm} stage: continuous batching over the engine's {@link GenerationLoop}, its
 * admission decided by a {@link ContinuousBatchScheduler} (the same one {@code
 * InstructBlipEngine.infer} drives). Every item the operator hands over is submitted to the
 * scheduler; at each step the scheduler lets items join, in arrival order, while the running rows
 * (a beam-search request counts its beams, a ranking request its candidates) stay within {@code
 * maxRunningRows} and, with a token budget, their reservations (each row's prompt plus {@code
 * max_new_tokens}, see {@link GenerationLoop.Job#tokensPerRow()}) within the budget, so the KV
 * cache of a step is bounded however long the answers get. Joining items start in one batched
 * prefill; each step advances every running sequence by one token; ranking requests are answered
 * when they join; one wider than the row limit runs alone. An item that could never fit the token
 * budget is answered with {@code INVALID_PARAMETER}.
 */
public final class LlmFunction implements StepFunction<StageItem, StageAnswer> {
  private static final long serialVersionUID = 1L;

  /** No token budget: only the rows limit a step. */
  public static final long NO_TOKEN_BUDGET = ContinuousBatchScheduler.NO_TOKEN_BUDGET;

  private final EngineSpec engine;
  private final int maxRunningRows;
  private final long tokenBudget;

  /** The stage without a token budget. */
  public LlmFunction(EngineSpec engine, int maxRunningRows) {
    this(engine, maxRunningRows, NO_TOKEN_BUDGET);
  }

  /**
   * @param maxRunningRows the model rows one step may run
   * @param tokenBudget the tokens the running sequences may reserve in all, or {@link
   *     #NO_TOKEN_BUDGET}
   */
  public LlmFunction(EngineSpec engine, int maxRunningRows, long tokenBudget) {
    this.engine = engine;
    this.maxRunningRows = maxRunningRows;
    this.tokenBudget = checkTokenBudget(tokenBudget);
    limits(); // refuses bad limits here, not when the job starts
  }

  /** The scheduler's limits (built where used: the function travels serialized, they do not). */
  private ContinuousBatchScheduler.Limits limits() {
    return new ContinuousBatchScheduler.Limits(maxRunningRows, tokenBudget);
  }

  /** Returns {@code tokens} when it is a valid token budget (at least 1), else throws. */
  static long checkTokenBudget(long tokens) {
    if (tokens < 1) {
      throw new IllegalArgumentException(
          "the llm token budget must be at least 1 (or unset for none), got " + tokens);
    }
    return tokens;
  }

  @Override
  public Stepper<StageItem, StageAnswer> open(StageContext context) throws Exception {
    return new LlmStepper(engine.acquire(), limits());
  }

  /** The stage-thread side: a loop, the scheduler that decides who joins it, and failed items. */
  private static final class LlmStepper implements Stepper<StageItem, StageAnswer> {
    private final SharedEngineRegistry.Lease<InstructBlipEngine> lease;
    private final GenerationLoop<?> loop;
    private final ContinuousBatchScheduler<GenerationLoop.Job> scheduler;
    private final List<Result<StageAnswer>> failedOnAdmit = new ArrayList<>();
    private final Map<String, byte[]> contexts = new HashMap<>();

    LlmStepper(
        SharedEngineRegistry.Lease<InstructBlipEngine> lease,
        ContinuousBatchScheduler.Limits limits) {
      this.lease = lease;
      this.loop = lease.get().newGenerationLoop();
      this.scheduler = new ContinuousBatchScheduler<>(limits);
    }

    @Override
    public void admit(StageItem element) {
      Result<StageItem> ready =
          StagePayloads.withQueryOutputs(lease.get(), List.of(element)).get(0);
      if (!ready.isOk()) {
        failedOnAdmit.add(Result.error(element.id(), ready.errorCode(), ready.message()));
        return;
      }
      StageItem item = ready.value();
      GenerationLoop.Job job = new GenerationLoop.Job(item.prepared(), item.queryOutputs());
      try {
        scheduler.submit(item.id(), job.rows(), job.tokensPerRow(), job);
      } catch (EngineException e) {
        failedOnAdmit.add(Result.error(item.id(), e.code(), e.getMessage()));
        return;
      }
      contexts.put(item.id(), item.context());
    }

    @Override
    public List<Result<StageAnswer>> step() {
      List<Result<StageAnswer>> finished = new ArrayList<>(failedOnAdmit);
      failedOnAdmit.clear();
      List<EngineOutcome> done = new ArrayList<>();
      List<ContinuousBatchScheduler.Entry<GenerationLoop.Job>> joining = scheduler.admit();
      if (!joining.isEmpty()) {
        done.addAll(
            loop.admit(joining.stream().map(ContinuousBatchScheduler.Entry::payload).toList()));
      }
      done.addAll(loop.step());
      for (EngineOutcome r : done) {
        scheduler.finish(r.id());
        byte[] context = contexts.remove(r.id());
        if (r instanceof EngineResult answer) {
          finished.add(
              Result.ok(r.id(), new StageAnswer(answer, context), answer.generatedTokens()));
        } else if (r instanceof EngineFailure failure) {
          finished.add(Result.error(r.id(), failure.code(), failure.message()));
        }
      }
      return finished;
    }

    @Override
    public void cancel(String requestId) {
      scheduler.finish(requestId);
      failedOnAdmit.removeIf(r -> r.requestId().equals(requestId));
      loop.cancel(requestId);
      contexts.remove(requestId);
    }

    @Override
    public long lastStepHostBytes() {
      return loop.lastStepHostBytes();
    }

    @Override
    public int waiting() {
      return scheduler.waitingCount();
    }

    @Override
    public void close() {
      loop.close();
      lease.close();
    }
  }
}
