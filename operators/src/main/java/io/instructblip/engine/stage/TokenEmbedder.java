package io.instructblip.engine.stage;

import io.instructblip.engine.model.FloatTensor;
import io.instructblip.engine.model.LongTensor;
import io.instructblip.engine.model.ModelSessions;
import io.instructblip.engine.model.StageFile;
import io.instructblip.engine.model.StageSession;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;

/**
 * Runs {@code embed_tokens.onnx}: LLM token ids to input embeddings. Rows of different lengths are
 * embedded in one batch (right-padded with {@code llm_pad}) and returned without the padding.
 */
public final class TokenEmbedder {
  private final StageSession session;
  private final int vocabSize;
  private final long padId;

  /** An embedder on the token embedding of the given sessions. */
  public TokenEmbedder(ModelSessions sessions) {
    this.session = sessions.session(StageFile.EMBED_TOKENS);
    this.vocabSize = sessions.manifest().llm().vocabSize();
    this.padId = sessions.manifest().specialTokens().llmPad();
  }

  /**
   * Embeds each row.
   *
   * @return one {@code [T_i, Dl]} tensor per row
   */
  public List<FloatTensor> embed(long[][] ids) {
    if (ids.length == 0) {
      return List.of();
    }
    int width = 0;
    for (long[] row : ids) {
      for (long id : row) {
        if (id < 0 || id >= vocabSize) {
          throw new IllegalArgumentException(
              "token id " + id + " is outside the LLM vocabulary [0, " + vocabSize + ")");
        }
      }
      width = Math.max(width, row.length);
    }
    List<FloatTensor> result = new ArrayList<>(ids.length);
    if (width == 0) {
      for (int b = 0; b < ids.length; b++) {
        result.add(new FloatTensor(new int[] {0, 0}, new float[0]));
      }
      return result;
    }
    long[] padded = new long[ids.length * width];
    Arrays.fill(padded, padId);
    for (int b = 0; b < ids.length; b++) {
      System.arraycopy(ids[b], 0, padded, b * width, ids[b].length);
    }
    FloatTensor embeds =
        session
            .run(Map.of("input_ids", new LongTensor(new int[] {ids.length, width}, padded)))
            .get("inputs_embeds");
    int hidden = embeds.dim(2);
    for (int b = 0; b < ids.length; b++) {
      int from = b * width * hidden;
      result.add(
          new FloatTensor(
              new int[] {ids[b].length, hidden},
              Arrays.copyOfRange(embeds.data(), from, from + ids[b].length * hidden)));
    }
    return result;
  }

  /** Embeds one row: {@code [T, Dl]}. */
  public FloatTensor embed(long[] ids) {
    return embed(new long[][] {ids}).get(0);
  }
}
