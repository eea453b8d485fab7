package io.instructblip.engine.api;

/**
 * What went wrong with a request or a model, as a stable code that clients can switch on. The
 * human-readable part travels in {@link EngineException#getMessage()}.
 */
public enum ErrorCode {
  /** The image bytes could not be decoded (corrupt, truncated, zero bytes, unsupported format). */
  IMAGE_UNREADABLE,
  /** The image is over the byte or pixel limit; refused before decoding. */
  IMAGE_TOO_LARGE,
  /**
   * The image URI's scheme, file root or host is not among those the job is configured to read from
   * (or the path escapes its root, e.g. through {@code ..} or a symbolic link).
   */
  IMAGE_URI_FORBIDDEN,
  /**
   * The record names its request id but is not a valid request: a malformed or missing field, an
   * image with both or neither of bytes and uri, RANK without candidates, GENERATE with candidates.
   */
  INVALID_REQUEST,
  /** The request has no image, or more images (frames) than allowed. */
  INVALID_IMAGE_COUNT,
  /** The instruction is empty or blank. */
  INSTRUCTION_EMPTY,
  /** The instruction tokenizes to more tokens than the model directory allows. */
  INSTRUCTION_TOO_LONG,
  /** A generation or ranking parameter is out of range or inconsistent. */
  INVALID_PARAMETER,
  /** The model directory is missing, incomplete or does not match docs/model-format.md. */
  MODEL_INVALID,
  /** The requested device (e.g. CUDA) cannot be used. */
  DEVICE_UNAVAILABLE,
  /** ONNX Runtime failed while running a model. */
  MODEL_ERROR,
  /** The request did not finish before its deadline. */
  TIMEOUT,
  /** An unexpected failure inside the engine. */
  INTERNAL,
  /**
   * The response would not fit in one Kafka record (the sink producer's {@code max.request.size}):
   * the job answers with this short error instead, without the metadata and answer it could not
   * send.
   */
  RESPONSE_TOO_LARGE
}
