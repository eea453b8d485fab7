package io.instructblip.flink.pipeline;

import io.instructblip.engine.EngineResult;
import io.instructblip.engine.InstructBlipEngine;
import io.instructblip.engine.pipeline.GenerationLoop;
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
 * The {@code llm} stage: continuous batching over the engine's {@link GenerationLoop}. Admitted
 * items join at the next step in one batched prefill; each step advances every running sequence by
 * one token; ranking requests are answered at their admission.
 */
public final class LlmFunction implements StepFunction<StageItem, StageAnswer> {
  private static final long serialVersionUID = 1L;
  private final EngineSpec engine;

  public LlmFunction(EngineSpec engine) {
    this.engine = engine;
  }

  @Override
  public Stepper<StageItem, StageAnswer> open(StageContext context) throws Exception {
    return new LlmStepper(engine.acquire());
  }

  /** The stage-thread side: a loop plus the items admitted since the last step. */
  private static final class LlmStepper implements Stepper<StageItem, StageAnswer> {
    private final SharedEngineRegistry.Lease<InstructBlipEngine> lease;
    private final GenerationLoop<?> loop;
    private final List<GenerationLoop.Job> joining = new ArrayList<>();
    private final List<Result<StageAnswer>> failedOnAdmit = new ArrayList<>();
    private final Map<String, byte[]> contexts = new HashMap<>();

    LlmStepper(SharedEngineRegistry.Lease<InstructBlipEngine> lease) {
      this.lease = lease;
      this.loop = lease.get().newGenerationLoop();
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
      contexts.put(item.id(), item.context());
      joining.add(new GenerationLoop.Job(item.prepared(), item.queryOutputs()));
    }

    @Override
    public List<Result<StageAnswer>> step() {
      List<Result<StageAnswer>> finished = new ArrayList<>(failedOnAdmit);
      failedOnAdmit.clear();
      List<EngineResult> done = new ArrayList<>();
      if (!joining.isEmpty()) {
        done.addAll(loop.admit(List.copyOf(joining)));
        joining.clear();
      }
      done.addAll(loop.step());
      for (EngineResult r : done) {
        byte[] context = contexts.remove(r.id());
        if (r.ok()) {
          finished.add(Result.ok(r.id(), new StageAnswer(r, context), r.generatedTokens()));
        } else {
          finished.add(Result.error(r.id(), r.errorCode(), r.errorMessage()));
        }
      }
      return finished;
    }

    @Override
    public void cancel(String requestId) {
      joining.removeIf(job -> job.request().id().equals(requestId));
      failedOnAdmit.removeIf(r -> r.requestId().equals(requestId));
      loop.cancel(requestId);
      contexts.remove(requestId);
    }

    @Override
    public int running() {
      return loop.runningSequences() + joining.size() + failedOnAdmit.size();
    }

    @Override
    public void close() {
      lease.close();
    }
  }
}
