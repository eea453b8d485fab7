package io.instructblip.engine.stage;

import static io.instructblip.engine.stage.LlmTestSupport.assertClose;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import com.fasterxml.jackson.databind.JsonNode;
import io.instructblip.engine.model.FloatTensor;
import io.instructblip.engine.model.GoldenFiles;
import io.instructblip.engine.model.LongTensor;
import io.instructblip.engine.model.ModelDirectory;
import io.instructblip.engine.model.ModelFixtures;
import io.instructblip.engine.model.ModelSessions;
import io.instructblip.engine.model.SessionSettings;
import java.util.Arrays;
import java.util.List;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/** The vision, Q-Former and embedding runners reproduce the golden stage cases. */
class StageRunnersTest {
  private static ModelSessions sessions;
  private static JsonNode stages;

  @BeforeAll
  static void open() {
    sessions =
        ModelSessions.open(
            ModelDirectory.open(ModelFixtures.modelDir("tiny-vicuna")), SessionSettings.defaults());
    stages = GoldenFiles.stages("tiny-vicuna");
  }

  @AfterAll
  static void close() {
    sessions.close();
  }

  private static JsonNode golden(String name) {
    for (JsonNode c : stages.get("cases")) {
      if (c.get("name").asText().equals(name)) {
        return c;
      }
    }
    throw new AssertionError("no golden case " + name);
  }

  private static FloatTensor floats(JsonNode node) {
    return (FloatTensor) GoldenFiles.tensor(node);
  }

  private static LongTensor longs(JsonNode node) {
    return (LongTensor) GoldenFiles.tensor(node);
  }

  /** The real (mask 1) ids of each row; the golden rows are right-padded. */
  private static long[][] ragged(LongTensor ids, LongTensor mask) {
    int width = ids.dim(1);
    long[][] rows = new long[ids.dim(0)][];
    for (int b = 0; b < rows.length; b++) {
      int n = 0;
      while (n < width && mask.data()[b * width + n] == 1) {
        n++;
      }
      rows[b] = Arrays.copyOfRange(ids.data(), b * width, b * width + n);
    }
    return rows;
  }

  @Test
  void visionEncoderMatchesTheGoldenBatch() {
    JsonNode c = golden("vision_encoder_b2");
    FloatTensor pixels = floats(c.get("inputs").get("pixel_values"));
    FloatTensor expected = floats(c.get("outputs").get("image_embeds"));
    FloatTensor got = new VisionEncoderRunner(sessions).encode(pixels.data(), 2);
    assertArrayEquals(expected.shape(), got.shape());
    assertClose(expected.data(), got.data(), "image_embeds");
    assertThrows(
        IllegalArgumentException.class,
        () -> new VisionEncoderRunner(sessions).encode(pixels.data(), 3));
  }

  @Test
  void qformerPadsRaggedRowsLikeTheReference() {
    for (String name : List.of("qformer_b2_t8", "qformer_b3_t6", "qformer_b2_t11")) {
      JsonNode c = golden(name);
      FloatTensor embeds = floats(c.get("inputs").get("image_embeds"));
      long[][] rows =
          ragged(
              longs(c.get("inputs").get("qformer_input_ids")),
              longs(c.get("inputs").get("qformer_attention_mask")));
      FloatTensor expected = floats(c.get("outputs").get("query_output"));
      FloatTensor got = new QFormerRunner(sessions).run(embeds, rows);
      assertArrayEquals(expected.shape(), got.shape());
      assertClose(expected.data(), got.data(), name);
    }
  }

  @Test
  void tokenEmbedderReturnsEachRowWithoutPadding() {
    JsonNode c = golden("embed_tokens_b2_t7");
    LongTensor ids = longs(c.get("inputs").get("input_ids"));
    FloatTensor expected = floats(c.get("outputs").get("inputs_embeds"));
    int width = ids.dim(1);
    long[] shortRow = Arrays.copyOfRange(ids.data(), 0, 3);
    long[] fullRow = Arrays.copyOfRange(ids.data(), width, 2 * width);
    List<FloatTensor> got = new TokenEmbedder(sessions).embed(new long[][] {shortRow, fullRow});
    int hidden = expected.dim(2);
    assertArrayEquals(new int[] {3, hidden}, got.get(0).shape());
    assertClose(Arrays.copyOfRange(expected.data(), 0, 3 * hidden), got.get(0).data(), "short row");
    assertClose(expected.slice(1).data(), got.get(1).data(), "full row");
    assertEquals(
        "token id 256 is outside the LLM vocabulary [0, 256)",
        assertThrows(
                IllegalArgumentException.class,
                () -> new TokenEmbedder(sessions).embed(new long[] {256}))
            .getMessage());
  }
}
