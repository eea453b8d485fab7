package io.instructblip.engine.inference;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.instructblip.engine.EngineConfig;
import io.instructblip.engine.InstructBlipEngine;
import io.instructblip.engine.api.EngineRequest;
import io.instructblip.engine.api.GenerationOverrides;
import io.instructblip.engine.api.TaskMode;
import io.instructblip.engine.model.FloatTensor;
import io.instructblip.engine.model.ModelFixtures;
import io.instructblip.engine.model.NativeTensor;
import io.instructblip.engine.stage.KvStorage;
import java.nio.file.Files;
import java.util.ArrayList;
import java.util.List;
import java.util.function.IntFunction;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * Sequences that leave the loop give their native KV memory back: a long run of joins (greedy and
 * beam search), finishes, cancellations and a closed loop ends with the native bytes it started
 * with, for both LLM families. Steps carry their presents over exactly while the batch is
 * unchanged, and answer as packing every step does.
 */
class GenerationLoopMemoryTest {

  @ParameterizedTest
  @ValueSource(strings = {"tiny-vicuna", "tiny-flant5"})
  void joinsAndLeavesEndWithTheNativeMemoryTheyStartedWith(String model) throws Exception {
    try (InstructBlipEngine engine =
        InstructBlipEngine.open(EngineConfig.builder(ModelFixtures.modelDir(model)).build())) {
      List<GenerationLoop.Job> jobs =
          jobs(
              engine,
              12,
              i ->
                  GenerationOverrides.builder()
                      .numBeams(i % 3 == 0 ? 3 : 1)
                      .maxNewTokens(2 + i % 5)
                      .minNewTokens(2 + i % 5)
                      .build());
      long start = NativeTensor.liveBytes();
      GenerationLoop<?> loop = engine.newGenerationLoop(KvStorage.NATIVE);
      long peak = start;
      int answered = 0;
      for (int wave = 0; wave < 4; wave++) {
        answered += loop.admit(jobs.subList(wave * 3, wave * 3 + 3)).size();
        answered += loop.step().size();
        peak = Math.max(peak, NativeTensor.liveBytes());
        if (wave == 1) {
          assertTrue(loop.cancel("r4"));
          answered++;
        }
        answered += loop.step().size();
      }
      for (int steps = 0; steps < 3; steps++) {
        answered += loop.step().size();
      }
      assertTrue(peak > start, "running sequences hold native memory");
      loop.close();
      assertTrue(loop.isIdle());
      assertTrue(answered <= 12);
      assertEquals(start, NativeTensor.liveBytes(), "native bytes after every sequence left");
    }
  }

  /** {@code n} jobs "r0".. on the fixture image, request {@code i} with {@code params.apply(i)}. */
  private static List<GenerationLoop.Job> jobs(
      InstructBlipEngine engine, int n, IntFunction<GenerationOverrides> params) throws Exception {
    byte[] image = Files.readAllBytes(ModelFixtures.root().resolve("images/rgb.png"));
    List<PreparedRequest> prepared = new ArrayList<>();
    for (int i = 0; i < n; i++) {
      prepared.add(
          engine
              .preparer()
              .prepare(
                  new EngineRequest(
                      "r" + i,
                      List.of(image),
                      "What " + i + "?",
                      TaskMode.GENERATE,
                      List.of(),
                      params.apply(i))));
    }
    List<FloatTensor> queries =
        engine.visualFeatures().queryOutputs(prepared, engine.visualFeatures().encode(prepared));
    List<GenerationLoop.Job> jobs = new ArrayList<>();
    for (int i = 0; i < n; i++) {
      jobs.add(new GenerationLoop.Job(prepared.get(i), queries.get(i)));
    }
    return jobs;
  }

  /** The answers of a fixed schedule of joins, a cancel and finishes, and the carried steps. */
  private record Outcome(List<String> answers, long carried) {}

  private static Outcome schedule(
      InstructBlipEngine engine, KvStorage storage, List<GenerationLoop.Job> jobs) {
    GenerationLoop<?> loop = engine.newGenerationLoop(storage);
    List<String> answers = new ArrayList<>();
    Runnable step =
        () -> loop.step().forEach(r -> answers.add(r.id() + " " + r.answer().tokenIds()));
    loop.admit(jobs.subList(0, 2));
    for (int i = 0; i < 3; i++) {
      step.run(); // steps 1-3: packed (first step), carried, carried
    }
    loop.admit(jobs.subList(2, 3));
    step.run(); // 4: packed (r2 joined)
    step.run(); // 5: carried
    assertTrue(loop.cancel("r1"));
    step.run(); // 6: packed (r1 left)
    while (!loop.isIdle()) {
      step.run(); // 7-9: carried, r0 finishes at 9; 10: packed; 11-12: carried, r2 finishes
    }
    loop.close();
    return new Outcome(answers, loop.carriedSteps());
  }

  @ParameterizedTest
  @ValueSource(strings = {"tiny-vicuna", "tiny-flant5"})
  void stepsCarryWhileTheBatchIsUnchangedAndAnswerAsPackingDoes(String model) throws Exception {
    try (InstructBlipEngine engine =
        InstructBlipEngine.open(EngineConfig.builder(ModelFixtures.modelDir(model)).build())) {
      GenerationOverrides tenTokens =
          GenerationOverrides.builder().numBeams(1).maxNewTokens(10).minNewTokens(10).build();
      List<GenerationLoop.Job> jobs = jobs(engine, 3, i -> tenTokens);
      Outcome packing = schedule(engine, KvStorage.NATIVE_REPACK, jobs);
      Outcome carrying = schedule(engine, KvStorage.NATIVE, jobs);
      assertEquals(2, packing.answers().size(), packing.answers().toString());
      assertEquals(packing.answers(), carrying.answers());
      assertEquals(0, packing.carried());
      // 12 steps, of which 4 packed: the first, after a join, after a cancel, after a finish
      assertEquals(8, carrying.carried());
    }
  }
}
