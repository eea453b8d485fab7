package io.instructblip.engine.model;

import java.util.EnumSet;
import java.util.Set;

/** The ONNX files of a model directory, by their key in the manifest's {@code files} object. */
public enum StageFile {
  VISION_ENCODER("vision_encoder"),
  QFORMER("qformer"),
  EMBED_TOKENS("embed_tokens"),
  DECODER("decoder"),
  ENCODER("encoder"),
  DECODER_INIT("decoder_init");

  private final String key;

  StageFile(String key) {
    this.key = key;
  }

  /** The key in the manifest's {@code files} object. */
  public String key() {
    return key;
  }

  /** The files that a directory of the given family must name (the others must be null). */
  public static Set<StageFile> requiredFor(LlmFamily family) {
    return switch (family) {
      case DECODER_ONLY -> EnumSet.of(VISION_ENCODER, QFORMER, EMBED_TOKENS, DECODER);
      case ENCODER_DECODER ->
          EnumSet.of(VISION_ENCODER, QFORMER, EMBED_TOKENS, ENCODER, DECODER_INIT, DECODER);
    };
  }
}
