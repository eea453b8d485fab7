package io.instructblip.engine.stage;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.instructblip.engine.model.FloatTensor;
import io.instructblip.engine.model.ModelDirectory;
import io.instructblip.engine.model.ModelFixtures;
import io.instructblip.engine.model.ModelSessions;
import io.instructblip.engine.model.SessionSettings;
import java.util.Random;

/** Helpers shared by the LLM state tests. */
final class LlmTestSupport {
  static final float TOLERANCE = 1e-4f;

  private LlmTestSupport() {}

  /** The sessions of a committed fixture model, one ONNX Runtime thread each. */
  static ModelSessions openFixture(String name) {
    return ModelSessions.open(
        ModelDirectory.open(ModelFixtures.modelDir(name)),
        SessionSettings.builder().intraOpThreads(1).build());
  }

  static FloatTensor randomEmbeds(Random random, int length, int hidden) {
    float[] data = new float[length * hidden];
    for (int i = 0; i < data.length; i++) {
      data[i] = (float) random.nextGaussian();
    }
    return new FloatTensor(new int[] {length, hidden}, data);
  }

  static FloatTensor concat(FloatTensor first, FloatTensor second) {
    float[] data = new float[first.data().length + second.data().length];
    System.arraycopy(first.data(), 0, data, 0, first.data().length);
    System.arraycopy(second.data(), 0, data, first.data().length, second.data().length);
    return new FloatTensor(new int[] {first.dim(0) + second.dim(0), first.dim(1)}, data);
  }

  static void assertClose(float[] expected, float[] actual, String what) {
    assertEquals(expected.length, actual.length, what + ": length");
    float worst = 0;
    for (int i = 0; i < expected.length; i++) {
      assertTrue(Float.isFinite(actual[i]), what + ": element " + i + " is " + actual[i]);
      worst = Math.max(worst, Math.abs(expected[i] - actual[i]));
    }
    assertTrue(worst <= TOLERANCE, what + ": max abs difference " + worst);
  }
}
