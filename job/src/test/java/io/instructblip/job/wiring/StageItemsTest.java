package io.instructblip.job.wiring;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;

import io.instructblip.engine.api.EngineRequest;
import io.instructblip.engine.api.GenerationOverrides;
import io.instructblip.engine.api.TaskMode;
import io.instructblip.schema.avro.ImageInput;
import io.instructblip.schema.avro.InferenceRequest;
import java.util.List;
import org.junit.jupiter.api.Test;

/** An engine request as a Kafka request and back: nothing it asks is lost. */
class StageItemsTest {

  @Test
  void theKafkaRequestOfAnEngineRequestAsksTheSame() {
    for (EngineRequest asked :
        List.of(
            new EngineRequest(
                "g",
                List.of(new byte[] {1, 2}, new byte[] {3}),
                "What is in the image?",
                TaskMode.GENERATE,
                List.of(),
                GenerationOverrides.builder().maxNewTokens(20).numBeams(1).build()),
            new EngineRequest(
                "r",
                List.of(new byte[] {4}),
                "Which colour?",
                TaskMode.RANK,
                List.of("red", "blue"),
                GenerationOverrides.NONE))) {
      InferenceRequest kafka = StageItems.request(asked).build();
      EngineRequest back =
          StageItems.engineRequest(
              kafka,
              kafka.getImages().stream().map(ImageInput::getBytes).map(StageItems::bytes).toList());
      assertEquals(asked.id(), back.id());
      assertEquals(asked.images().size(), back.images().size());
      for (int i = 0; i < asked.images().size(); i++) {
        assertArrayEquals(asked.images().get(i), back.images().get(i));
      }
      assertEquals(asked.instruction(), back.instruction());
      assertEquals(asked.mode(), back.mode());
      assertEquals(asked.candidates(), back.candidates());
      assertEquals(asked.overrides(), back.overrides());
    }
  }
}
