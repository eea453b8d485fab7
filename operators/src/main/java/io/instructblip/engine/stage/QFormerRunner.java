package io.instructblip.engine.stage;

import io.instructblip.engine.model.FloatTensor;
import io.instructblip.engine.model.LongTensor;
import io.instructblip.engine.model.ModelManifest;
import io.instructblip.engine.model.ModelSessions;
import io.instructblip.engine.model.StageFile;
import io.instructblip.engine.model.StageSession;
import java.util.Arrays;
import java.util.Map;

/**
 * Runs {@code qformer.onnx}: image embeddings plus each image's instruction tokens to the query
 * outputs, already projected to the LLM width. Token rows of different lengths are right-padded
 * with the manifest's {@code qformer_pad} (mask 0).
 */
public final class QFormerRunner {
  private final StageSession session;
  private final ModelManifest manifest;

  /** A runner on the Q-Former of the given sessions. */
  public QFormerRunner(ModelSessions sessions) {
    this.session = sessions.session(StageFile.QFORMER);
    this.manifest = sessions.manifest();
  }

  /**
   * Runs the Q-Former.
   *
   * @param imageEmbeds {@code [B, N, Dv]} from the vision encoder
   * @param qformerIds one row of token ids per image (with the recipe's prefix and suffix ids)
   * @return {@code query_output [B, Q, Dl]}
   */
  public FloatTensor run(FloatTensor imageEmbeds, long[][] qformerIds) {
    int batch = imageEmbeds.dim(0);
    if (qformerIds.length != batch) {
      throw new IllegalArgumentException(
          "got " + qformerIds.length + " token rows for " + batch + " images");
    }
    int width = 0;
    for (long[] row : qformerIds) {
      if (row.length == 0) {
        throw new IllegalArgumentException("a Q-Former token row is empty");
      }
      width = Math.max(width, row.length);
    }
    if (width > manifest.qformer().maxTextTokens()) {
      throw new IllegalArgumentException(
          "a Q-Former token row has "
              + width
              + " tokens, more than qformer.max_text_tokens "
              + manifest.qformer().maxTextTokens());
    }
    long[] ids = new long[batch * width];
    long[] mask = new long[batch * width];
    Arrays.fill(ids, manifest.specialTokens().qformerPad());
    for (int b = 0; b < batch; b++) {
      System.arraycopy(qformerIds[b], 0, ids, b * width, qformerIds[b].length);
      Arrays.fill(mask, b * width, b * width + qformerIds[b].length, 1L);
    }
    int[] shape = {batch, width};
    return session
        .run(
            Map.of(
                "image_embeds", imageEmbeds,
                "qformer_input_ids", new LongTensor(shape, ids),
                "qformer_attention_mask", new LongTensor(shape.clone(), mask)))
        .get("query_output");
  }
}
