package io.instructblip.flink;

import io.instructblip.engine.api.ErrorCode;
import java.util.Objects;

/**
 * What a stage function returns for one element: either a value ({@link Status#OK}) or a failure
 * with an {@link ErrorCode} and a human message. Immutable.
 *
 * <p>{@code generatedTokens} is the number of new tokens a generation produced (0 where it does not
 * apply); the llm stage feeds it to its tokens-per-second meter.
 *
 * @param <T> the value type
 */
public record Result<T>(
    String requestId,
    Status status,
    T value,
    ErrorCode errorCode,
    String message,
    int generatedTokens) {

  /** Whether an element succeeded, failed, or ran past its deadline. */
  public enum Status {
    OK,
    ERROR,
    TIMEOUT
  }

  public Result {
    Objects.requireNonNull(requestId, "requestId");
    Objects.requireNonNull(status, "status");
    if (status == Status.OK) {
      Objects.requireNonNull(value, "an OK result needs a value");
    } else {
      Objects.requireNonNull(errorCode, "a failed result needs an error code");
      Objects.requireNonNull(message, "a failed result needs a message");
    }
    if (generatedTokens < 0) {
      throw new IllegalArgumentException("generatedTokens must be >= 0, was " + generatedTokens);
    }
  }

  /** A successful result. */
  public static <T> Result<T> ok(String requestId, T value) {
    return new Result<>(requestId, Status.OK, value, null, null, 0);
  }

  /** A successful generation that produced {@code generatedTokens} new tokens. */
  public static <T> Result<T> ok(String requestId, T value, int generatedTokens) {
    return new Result<>(requestId, Status.OK, value, null, null, generatedTokens);
  }

  /** A failed result for one element. */
  public static <T> Result<T> error(String requestId, ErrorCode code, String message) {
    return new Result<>(requestId, Status.ERROR, null, code, message, 0);
  }

  /** A result for an element whose deadline passed. */
  public static <T> Result<T> timeout(String requestId, String message) {
    return new Result<>(requestId, Status.TIMEOUT, null, ErrorCode.TIMEOUT, message, 0);
  }

  /** True when the element succeeded. */
  public boolean isOk() {
    return status == Status.OK;
  }
}
