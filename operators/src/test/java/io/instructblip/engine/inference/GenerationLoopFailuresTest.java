package io.instructblip.engine.inference;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.instructblip.engine.EngineConfig;
import io.instructblip.engine.InstructBlipEngine;
import io.instructblip.engine.api.EngineException;
import io.instructblip.engine.api.EngineFailure;
import io.instructblip.engine.api.EngineOutcome;
import io.instructblip.engine.api.EngineRequest;
import io.instructblip.engine.api.EngineResult;
import io.instructblip.engine.api.ErrorCode;
import io.instructblip.engine.api.GenerationOverrides;
import io.instructblip.engine.api.TaskMode;
import io.instructblip.engine.model.FloatTensor;
import io.instructblip.engine.model.ModelDirectory;
import io.instructblip.engine.model.ModelFixtures;
import io.instructblip.engine.model.ModelSessions;
import io.instructblip.engine.model.SessionSettings;
import io.instructblip.engine.stage.DecoderOnlyLlm;
import io.instructblip.engine.stage.SequenceKv;
import io.instructblip.engine.stage.TokenEmbedder;
import java.nio.file.Files;
import java.util.ArrayList;
import java.util.Collections;
import java.util.IdentityHashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * One sequence's failure answers that request only: the sequences batched with it go on and end
 * with the tokens they get without it (tiny-vicuna, greedy, real ONNX sessions; the failure is
 * injected by a backend wrapper that fails every model run holding the poisoned sequence).
 */
class GenerationLoopFailuresTest {
  private static InstructBlipEngine engine;
  private static ModelSessions sessions;
  private static List<GenerationLoop.Job> jobs;

  @BeforeAll
  static void open() throws Exception {
    engine =
        InstructBlipEngine.open(
            EngineConfig.builder(ModelFixtures.modelDir("tiny-vicuna")).build());
    sessions =
        ModelSessions.open(
            ModelDirectory.open(ModelFixtures.modelDir("tiny-vicuna")), SessionSettings.defaults());
    byte[] image = Files.readAllBytes(ModelFixtures.root().resolve("images/rgb.png"));
    GenerationOverrides greedy =
        GenerationOverrides.builder().numBeams(1).maxNewTokens(8).minNewTokens(8).build();
    List<PreparedRequest> prepared = new ArrayList<>();
    for (String id : List.of("a", "poison", "b")) {
      prepared.add(
          engine
              .preparer()
              .prepare(
                  new EngineRequest(
                      id,
                      List.of(image),
                      "What is " + id + "?",
                      TaskMode.GENERATE,
                      List.of(),
                      greedy)));
    }
    List<FloatTensor> queries =
        engine.visualFeatures().queryOutputs(prepared, engine.visualFeatures().encode(prepared));
    jobs = new ArrayList<>();
    for (int i = 0; i < prepared.size(); i++) {
      jobs.add(new GenerationLoop.Job(prepared.get(i), queries.get(i)));
    }
  }

  @AfterAll
  static void close() {
    sessions.close();
    engine.close();
  }

  @Test
  void aSequenceThatFailsMidwayIsAnsweredAloneAndTheOthersFinish() {
    Map<String, EngineOutcome> clean = runToEnd(loop(-1), List.of(jobs.get(0), jobs.get(2)));
    Map<String, EngineOutcome> results = runToEnd(loop(3), jobs);
    assertEquals(ErrorCode.MODEL_ERROR, failure(results.get("poison")).code());
    for (String id : List.of("a", "b")) {
      assertEquals(clean.get(id).answer().tokenIds(), results.get(id).answer().tokenIds(), id);
      assertEquals(8, results.get(id).answer().generatedTokens());
    }
  }

  @Test
  void aSequenceThatFailsAtAdmissionIsAnsweredAloneAndTheOthersRun() {
    Map<String, EngineOutcome> clean = runToEnd(loop(-1), List.of(jobs.get(0), jobs.get(2)));
    // Query outputs of the wrong width break the batched prefill's inputs.
    GenerationLoop.Job broken =
        new GenerationLoop.Job(jobs.get(1).request(), FloatTensor.zeros(4, 3));
    Map<String, EngineOutcome> results =
        runToEnd(loop(-1), List.of(jobs.get(0), broken, jobs.get(2)));
    assertEquals(ErrorCode.MODEL_INVALID, failure(results.get("poison")).code());
    for (String id : List.of("a", "b")) {
      assertEquals(clean.get(id).answer().tokenIds(), results.get(id).answer().tokenIds(), id);
    }
  }

  @Test
  void inferAnswersEveryRequestWhenOneFails() {
    // A request that fails in the engine batch gets its error; the others their answers.
    byte[] image;
    try {
      image = Files.readAllBytes(ModelFixtures.root().resolve("images/rgb.png"));
    } catch (java.io.IOException e) {
      throw new AssertionError(e);
    }
    List<EngineOutcome> results =
        engine.infer(
            List.of(
                EngineRequest.generate("ok-1", List.of(image), "What?"),
                EngineRequest.generate("bad", List.of(new byte[] {1, 2, 3}), "What?"),
                EngineRequest.generate("ok-2", List.of(image), "Where?")));
    assertEquals(3, results.size());
    assertInstanceOf(EngineResult.class, results.get(0), () -> results.get(0).toString());
    assertInstanceOf(EngineFailure.class, results.get(1));
    assertInstanceOf(EngineResult.class, results.get(2), () -> results.get(2).toString());
  }

  private static EngineFailure failure(EngineOutcome outcome) {
    return assertInstanceOf(EngineFailure.class, outcome);
  }

  /** A loop whose model runs fail from step {@code failAtStep} on while "poison" is in them. */
  private static GenerationLoop<SequenceKv> loop(int failAtStep) {
    return new GenerationLoop<>(
        new PoisonedBackend(new DecoderOnlyBackend(new DecoderOnlyLlm(sessions)), failAtStep),
        new TokenEmbedder(sessions),
        engine.preparer().prompts());
  }

  private static Map<String, EngineOutcome> runToEnd(
      GenerationLoop<SequenceKv> loop, List<GenerationLoop.Job> admitted) {
    Map<String, EngineOutcome> results = new LinkedHashMap<>();
    for (EngineOutcome r : loop.admit(admitted)) {
      results.put(r.id(), r);
    }
    for (int steps = 0; !loop.isIdle() && steps < 50; steps++) {
      for (EngineOutcome r : loop.step()) {
        results.put(r.id(), r);
      }
    }
    assertTrue(loop.isIdle());
    assertEquals(admitted.size(), results.size(), results.keySet().toString());
    return results;
  }

  /**
   * The real backend, except that the second sequence it starts ("poison") fails every model run it
   * is part of from step {@code failAtStep} on, like a sequence whose inputs break ONNX Runtime.
   */
  private static final class PoisonedBackend implements LlmBackend<SequenceKv> {
    private final LlmBackend<SequenceKv> delegate;
    private final int failAtStep;
    private final Set<SequenceKv> poisoned = Collections.newSetFromMap(new IdentityHashMap<>());
    private int steps;
    private boolean first = true;

    PoisonedBackend(LlmBackend<SequenceKv> delegate, int failAtStep) {
      this.delegate = delegate;
      this.failAtStep = failAtStep;
    }

    @Override
    public List<Started<SequenceKv>> start(List<FloatTensor> inputsEmbeds) {
      List<Started<SequenceKv>> started = delegate.start(inputsEmbeds);
      if (first && started.size() == 3) {
        poisoned.add(started.get(1).state());
      }
      first = false;
      return started;
    }

    @Override
    public List<float[][]> step(List<SequenceKv> states, List<long[]> tokens) {
      boolean poison = states.stream().anyMatch(poisoned::contains);
      if (poison && failAtStep >= 0 && ++steps >= failAtStep) {
        throw new EngineException(ErrorCode.MODEL_ERROR, "injected failure");
      }
      return delegate.step(states, tokens);
    }

    @Override
    public void release(SequenceKv state) {
      delegate.release(state);
    }

    @Override
    public void reorder(SequenceKv state, int[] parentRows) {
      delegate.reorder(state, parentRows);
    }

    @Override
    public List<float[][]> teacherForced(FloatTensor inputsEmbeds, List<long[]> targets) {
      return delegate.teacherForced(inputsEmbeds, targets);
    }

    @Override
    public int[] decoderPrefix() {
      return delegate.decoderPrefix();
    }
  }
}
