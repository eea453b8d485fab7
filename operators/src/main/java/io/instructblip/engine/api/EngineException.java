package io.instructblip.engine.api;

import java.util.Objects;

/**
 * The one exception type of the engine: a {@link ErrorCode} for programs and a message that tells a
 * person what to do. Every failure inside the engine (bad input, bad model directory, ONNX Runtime
 * errors) surfaces as this type.
 */
public final class EngineException extends RuntimeException {
  private static final long serialVersionUID = 1L;

  private final ErrorCode code;

  public EngineException(ErrorCode code, String message) {
    super(message);
    this.code = Objects.requireNonNull(code, "code");
  }

  public EngineException(ErrorCode code, String message, Throwable cause) {
    super(message, cause);
    this.code = Objects.requireNonNull(code, "code");
  }

  /**
   * {@code e} itself when it is the engine's exception, else an {@code INTERNAL} failure whose
   * message is {@code what: e}: so one request's unexpected failure is answered with a code.
   */
  public static EngineException orInternal(RuntimeException e, String what) {
    return e instanceof EngineException engine
        ? engine
        : new EngineException(ErrorCode.INTERNAL, what + ": " + e, e);
  }

  /** The stable code of this failure. */
  public ErrorCode code() {
    return code;
  }

  @Override
  public String toString() {
    return code + ": " + getMessage();
  }
}
