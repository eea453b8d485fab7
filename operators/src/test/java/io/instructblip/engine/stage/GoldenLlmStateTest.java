package io.instructblip.engine.stage;

import static io.instructblip.engine.stage.LlmTestSupport.assertClose;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import io.instructblip.engine.model.FloatTensor;
import io.instructblip.engine.model.GoldenFiles;
import io.instructblip.engine.model.LongTensor;
import io.instructblip.engine.model.ModelDirectory;
import io.instructblip.engine.model.ModelFixtures;
import io.instructblip.engine.model.ModelSessions;
import io.instructblip.engine.model.SessionSettings;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * The LLM state classes pack batches their own way (right-padded new positions, re-packed pasts);
 * these tests feed the rows of the reference's left-padded golden batches through them and expect
 * the reference's logits and KV, so the packing is checked against PyTorch, not only against
 * itself.
 */
class GoldenLlmStateTest {

  private static List<JsonNode> cases(JsonNode stages, String prefix) {
    List<JsonNode> found = new ArrayList<>();
    for (JsonNode c : stages.get("cases")) {
      if (c.get("name").asText().startsWith(prefix)) {
        found.add(c);
      }
    }
    assertTrue(!found.isEmpty(), "no golden case named " + prefix + "*");
    return found;
  }

  private static FloatTensor floats(JsonNode c, String side, String name) {
    return (FloatTensor) GoldenFiles.tensor(c.get(side).get(name));
  }

  private static LongTensor longs(JsonNode c, String name) {
    return (LongTensor) GoldenFiles.tensor(c.get("inputs").get(name));
  }

  /** Rows [b, from:to, :] of a [B, T, D] tensor, as [to - from, D]. */
  private static FloatTensor rows(FloatTensor t, int b, int from, int to) {
    int width = t.dim(1);
    int d = t.dim(2);
    int start = (b * width + from) * d;
    return new FloatTensor(
        new int[] {to - from, d}, Arrays.copyOfRange(t.data(), start, start + (to - from) * d));
  }

  /** Index of the first mask-1 position of row b of a [B, T] mask. */
  private static int firstReal(LongTensor mask, int b) {
    int width = mask.dim(1);
    for (int t = 0; t < width; t++) {
      if (mask.data()[b * width + t] == 1) {
        return t;
      }
    }
    throw new AssertionError("row " + b + " is all padding");
  }

  @Test
  void decoderOnlyPrefillOfEachRowMatchesTheReferenceBatch() {
    JsonNode stages = GoldenFiles.stages("tiny-vicuna");
    try (ModelSessions sessions =
        ModelSessions.open(
            ModelDirectory.open(ModelFixtures.modelDir("tiny-vicuna")),
            SessionSettings.defaults())) {
      DecoderOnlyLlm llm = new DecoderOnlyLlm(sessions);
      for (JsonNode c : cases(stages, "decoder_prefill_")) {
        String name = c.get("name").asText();
        FloatTensor embeds = floats(c, "inputs", "inputs_embeds");
        LongTensor mask = longs(c, "attention_mask");
        FloatTensor logits = floats(c, "outputs", "logits");
        int batch = embeds.dim(0);
        int width = embeds.dim(1);
        List<FloatTensor> perRow = new ArrayList<>();
        int[] starts = new int[batch];
        for (int b = 0; b < batch; b++) {
          starts[b] = firstReal(mask, b);
          perRow.add(rows(embeds, b, starts[b], width));
        }
        DecoderOnlyLlm.Prefill prefill = llm.prefill(perRow);
        for (int b = 0; b < batch; b++) {
          assertClose(
              rows(logits, b, width - 1, width).data(),
              prefill.lastLogits().get(b),
              name + " row " + b + " last logits");
          SequenceKv cache = prefill.caches().get(b);
          assertEquals(width - starts[b], cache.length());
          for (int layer = 0; layer < cache.layers(); layer++) {
            FloatTensor present = floats(c, "outputs", "present." + layer + ".key");
            assertClose(
                realPositions(present, b, starts[b]),
                cache.key(layer, 0).data(),
                name + " row " + b + " layer " + layer + " key");
          }
        }
      }
    }
  }

  /** [kvH, len, hd] of batch row b of a [B, kvH, total, hd] tensor, positions from start on. */
  private static float[] realPositions(FloatTensor present, int b, int start) {
    int heads = present.dim(1);
    int total = present.dim(2);
    int hd = present.dim(3);
    int length = total - start;
    float[] out = new float[heads * length * hd];
    for (int h = 0; h < heads; h++) {
      System.arraycopy(
          present.data(),
          ((b * heads + h) * total + start) * hd,
          out,
          h * length * hd,
          length * hd);
    }
    return out;
  }

  @Test
  void encoderDecoderTeacherForcingOfEachRowMatchesTheReferenceBatch() {
    JsonNode stages = GoldenFiles.stages("tiny-flant5");
    try (ModelSessions sessions =
        ModelSessions.open(
            ModelDirectory.open(ModelFixtures.modelDir("tiny-flant5")),
            SessionSettings.defaults())) {
      EncoderDecoderLlm llm = new EncoderDecoderLlm(sessions);
      for (JsonNode c : cases(stages, "decoder_init_")) {
        String name = c.get("name").asText();
        LongTensor ids = longs(c, "decoder_input_ids");
        LongTensor decoderMask = longs(c, "decoder_attention_mask");
        FloatTensor states = floats(c, "inputs", "encoder_hidden_states");
        LongTensor encoderMask = longs(c, "encoder_attention_mask");
        FloatTensor logits = floats(c, "outputs", "logits");
        int batch = ids.dim(0);
        int width = ids.dim(1);
        for (int b = 0; b < batch; b++) {
          // the reference left-pads decoder ids and right-pads encoder states
          int start = firstReal(decoderMask, b);
          int realStates = count(encoderMask, b);
          long[] row = Arrays.copyOfRange(ids.data(), b * width + start, (b + 1) * width);
          FloatTensor rowStates = rows(states, b, 0, realStates);
          FloatTensor got = llm.teacherForced(rowStates, new long[][] {row}).get(0);
          assertClose(
              rows(logits, b, start, width).data(), got.data(), name + " row " + b + " logits");
        }
      }
    }
  }

  private static int count(LongTensor mask, int b) {
    int width = mask.dim(1);
    int n = 0;
    for (int t = 0; t < width; t++) {
      n += (int) mask.data()[b * width + t];
    }
    return n;
  }
}
