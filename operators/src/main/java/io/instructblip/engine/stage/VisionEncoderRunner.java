package io.instructblip.engine.stage;

import io.instructblip.engine.model.FloatTensor;
import io.instructblip.engine.model.ModelManifest;
import io.instructblip.engine.model.ModelSessions;
import io.instructblip.engine.model.StageFile;
import io.instructblip.engine.model.StageSession;
import java.util.Map;

/** Runs {@code vision_encoder.onnx}: a batch of normalized images to their image embeddings. */
public final class VisionEncoderRunner {
  private final StageSession session;
  private final int imageSize;

  /** A runner on the vision encoder of the given sessions. */
  public VisionEncoderRunner(ModelSessions sessions) {
    this.session = sessions.session(StageFile.VISION_ENCODER);
    ModelManifest manifest = sessions.manifest();
    this.imageSize = manifest.vision().imageSize();
  }

  /**
   * Encodes {@code batch} images.
   *
   * @param pixels {@code pixel_values [B, 3, S, S]}, row-major, already normalized
   * @return {@code image_embeds [B, N, Dv]}
   */
  public FloatTensor encode(float[] pixels, int batch) {
    int perImage = 3 * imageSize * imageSize;
    if (batch <= 0 || pixels.length != batch * perImage) {
      throw new IllegalArgumentException(
          "pixel_values must hold batch x 3 x "
              + imageSize
              + " x "
              + imageSize
              + " = "
              + ((long) Math.max(batch, 0) * perImage)
              + " floats for batch "
              + batch
              + ", found "
              + pixels.length);
    }
    FloatTensor input = new FloatTensor(new int[] {batch, 3, imageSize, imageSize}, pixels);
    return session.run(Map.of("pixel_values", input)).get("image_embeds");
  }
}
