package io.instructblip.engine.model;

/** The two LLM families a model directory can hold (manifest field {@code llm_family}). */
public enum LlmFamily {
  /** Vicuna / LLaMA: one {@code decoder.onnx} with an explicit KV cache. */
  DECODER_ONLY("decoder_only"),
  /** FlanT5: {@code encoder.onnx}, {@code decoder_init.onnx} and {@code decoder.onnx}. */
  ENCODER_DECODER("encoder_decoder");

  private final String wireName;

  LlmFamily(String wireName) {
    this.wireName = wireName;
  }

  /** The name as written in {@code manifest.json}. */
  public String wireName() {
    return wireName;
  }
}
