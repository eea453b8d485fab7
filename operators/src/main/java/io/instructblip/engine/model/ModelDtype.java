package io.instructblip.engine.model;

import ai.onnxruntime.OnnxJavaType;

/** The element type of every float tensor at every ONNX boundary (manifest field {@code dtype}). */
public enum ModelDtype {
  FLOAT32("float32", OnnxJavaType.FLOAT),
  FLOAT16("float16", OnnxJavaType.FLOAT16);

  private final String wireName;
  private final OnnxJavaType onnxType;

  ModelDtype(String wireName, OnnxJavaType onnxType) {
    this.wireName = wireName;
    this.onnxType = onnxType;
  }

  /** The name as written in {@code manifest.json}. */
  public String wireName() {
    return wireName;
  }

  /** The ONNX Runtime element type of float tensors in such a model. */
  public OnnxJavaType onnxType() {
    return onnxType;
  }
}
