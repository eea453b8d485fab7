package io.instructblip.schema;

import java.util.Objects;
import java.util.Optional;

/**
 * A Kafka record that is not a well-formed request or response. Carries a {@link MessageErrorCode}
 * for programs, a message for people, and the request id when the record got far enough to reveal
 * one (so a job may answer it with an error response instead of dead-lettering it).
 */
public final class MessageFormatException extends Exception {
  private static final long serialVersionUID = 1L;

  private final MessageErrorCode code;
  private final String requestId;

  public MessageFormatException(MessageErrorCode code, String message) {
    this(code, message, null, null);
  }

  public MessageFormatException(MessageErrorCode code, String message, Throwable cause) {
    this(code, message, null, cause);
  }

  private MessageFormatException(
      MessageErrorCode code, String message, String requestId, Throwable cause) {
    super(message, cause);
    this.code = Objects.requireNonNull(code, "code");
    this.requestId = requestId;
  }

  /** The same failure, marked with the id of the message it was found in. */
  MessageFormatException withRequestId(String id) {
    MessageFormatException copy = new MessageFormatException(code, getMessage(), id, getCause());
    copy.setStackTrace(getStackTrace());
    return copy;
  }

  /** The stable code of this failure. */
  public MessageErrorCode code() {
    return code;
  }

  /** The message's id, when it could be read before the failure; empty otherwise. */
  public Optional<String> requestId() {
    return Optional.ofNullable(requestId);
  }

  @Override
  public String toString() {
    return code + ": " + getMessage();
  }
}
