package io.instructblip.engine.stage;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.instructblip.engine.model.FloatTensor;
import io.instructblip.engine.model.ModelDirectory;
import io.instructblip.engine.model.ModelDtype;
import io.instructblip.engine.model.ModelFixtures;
import io.instructblip.engine.model.ModelSessions;
import io.instructblip.engine.model.SessionSettings;
import java.nio.file.Path;
import java.util.List;
import java.util.Random;
import org.junit.jupiter.api.Test;

/**
 * An fp16 export of tiny-vicuna (fixture folder {@code tiny-vicuna-fp16}) runs through the same
 * float32 API and stays close to the fp32 model: the boundary conversion works.
 */
class Float16ModelTest {

  @Test
  void fp16ModelRunsThroughTheFloat32Api() {
    Path fp16Dir = ModelFixtures.modelDir("tiny-vicuna-fp16");
    SessionSettings settings = SessionSettings.builder().intraOpThreads(1).build();
    try (ModelSessions half = ModelSessions.open(ModelDirectory.open(fp16Dir), settings);
        ModelSessions full =
            ModelSessions.open(
                ModelDirectory.open(ModelFixtures.modelDir("tiny-vicuna")), settings)) {
      assertEquals(ModelDtype.FLOAT16, half.manifest().dtype());
      int hidden = full.manifest().llm().hiddenSize();
      FloatTensor embeds = LlmTestSupport.randomEmbeds(new Random(7), 5, hidden);
      DecoderOnlyLlm halfLlm = new DecoderOnlyLlm(half);
      DecoderOnlyLlm fullLlm = new DecoderOnlyLlm(full);
      DecoderOnlyLlm.Prefill h = halfLlm.prefill(List.of(embeds));
      DecoderOnlyLlm.Prefill f = fullLlm.prefill(List.of(embeds));
      float[] a = h.lastLogits().get(0);
      float[] b = f.lastLogits().get(0);
      double worst = 0;
      double scale = 0;
      for (int i = 0; i < a.length; i++) {
        worst = Math.max(worst, Math.abs(a[i] - b[i]));
        scale = Math.max(scale, Math.abs(b[i]));
      }
      assertTrue(worst <= 0.02 * Math.max(1, scale), "fp16 vs fp32 logits differ by " + worst);
      float[] stepped =
          halfLlm.step(List.of(new DecoderOnlyLlm.StepInput(h.caches().get(0), new long[] {9})))
              .get(0)[0];
      assertEquals(full.manifest().llm().vocabSize(), stepped.length);
    }
  }
}
