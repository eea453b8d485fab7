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
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * Sequences that leave the loop give their native KV memory back: a long run of joins (greedy and
 * beam search), finishes, cancellations and a closed loop ends with the native bytes it started
 * with, for both LLM families.
 */
class GenerationLoopMemoryTest {

  @ParameterizedTest
  @ValueSource(strings = {"tiny-vicuna", "tiny-flant5"})
  void joinsAndLeavesEndWithTheNativeMemoryTheyStartedWith(String model) throws Exception {
    try (InstructBlipEngine engine =
        InstructBlipEngine.open(EngineConfig.builder(ModelFixtures.modelDir(model)).build())) {
      byte[] image = Files.readAllBytes(ModelFixtures.root().resolve("images/rgb.png"));
      List<PreparedRequest> prepared = new ArrayList<>();
      for (int i = 0; i < 12; i++) {
        GenerationOverrides params =
            GenerationOverrides.builder()
                .numBeams(i % 3 == 0 ? 3 : 1)
                .maxNewTokens(2 + i % 5)
                .minNewTokens(2 + i % 5)
                .build();
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
                        params)));
      }
      List<FloatTensor> queries =
          engine.visualFeatures().queryOutputs(prepared, engine.visualFeatures().encode(prepared));
      long start = NativeTensor.liveBytes();
      GenerationLoop<?> loop = engine.newGenerationLoop(KvStorage.NATIVE);
      long peak = start;
      int answered = 0;
      for (int wave = 0; wave < 4; wave++) {
        List<GenerationLoop.Job> joining = new ArrayList<>();
        for (int i = wave * 3; i < wave * 3 + 3; i++) {
          joining.add(new GenerationLoop.Job(prepared.get(i), queries.get(i)));
        }
        answered += loop.admit(joining).size();
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
}
