package io.instructblip.job.parse;

import io.instructblip.engine.ErrorCode;
import io.instructblip.job.kafka.DeadLetter;
import io.instructblip.job.kafka.RawRecord;
import io.instructblip.job.kafka.RequestEnvelope;
import io.instructblip.job.kafka.ResponseEnvelope;
import io.instructblip.schema.MessageCodec;
import io.instructblip.schema.MessageFormatException;
import io.instructblip.schema.avro.ErrorInfo;
import io.instructblip.schema.avro.ImageInput;
import io.instructblip.schema.avro.InferenceRequest;
import io.instructblip.schema.avro.InferenceResponse;
import io.instructblip.schema.avro.RequestMode;
import io.instructblip.schema.avro.ResponseStatus;
import io.instructblip.schema.avro.StageTimings;
import java.time.Clock;
import java.util.List;
import java.util.Map;
import java.util.Objects;

/**
 * Decodes a Kafka record into a request and checks what the codec does not (docs/messages.md):
 *
 * <ul>
 *   <li>not a message, or a message without a readable id (or with a blank one): {@link
 *       ParseResult.DeadLettered}, code = the {@code MessageErrorCode} name;
 *   <li>a message with an id but a bad shape ({@code MessageFormatException} carrying the id), an
 *       image with both or neither of bytes and uri, RANK without candidates, GENERATE with
 *       candidates: {@link ParseResult.Rejected} with {@code INVALID_REQUEST};
 *   <li>no image: {@code INVALID_IMAGE_COUNT}; a blank instruction: {@code INSTRUCTION_EMPTY};
 *   <li>otherwise {@link ParseResult.Accepted}. Generation parameters, image contents and limits
 *       are checked later, by the engine.
 * </ul>
 *
 * Not thread-safe (one per Flink subtask); not serializable (create it in {@code open()}).
 */
public final class RequestParser {
  private final MessageCodec<InferenceRequest> codec = MessageCodec.requests();
  private final Clock clock;

  /** A parser that stamps error responses with the system clock. */
  public RequestParser() {
    this(Clock.systemUTC());
  }

  /** A parser that stamps error responses ({@code completed_at_ms}) with {@code clock}. */
  public RequestParser(Clock clock) {
    this.clock = Objects.requireNonNull(clock, "clock");
  }

  /** Parses one record; never throws. */
  public ParseResult parse(RawRecord record) {
    InferenceRequest request;
    try {
      request = codec.decode(record.value() == null ? new byte[0] : record.value());
    } catch (MessageFormatException e) {
      String id = e.requestId().orElse(null);
      if (id == null || id.isBlank()) {
        return deadLetter(record, e.code().name(), e.getMessage());
      }
      return reject(
          id,
          Map.of(),
          record,
          ErrorCode.INVALID_REQUEST,
          "the request is not well-formed (" + e.code() + "): " + e.getMessage());
    } catch (RuntimeException e) {
      return deadLetter(record, "UNDECODABLE", "the record could not be decoded: " + e);
    }
    if (request.getId().isBlank()) {
      return deadLetter(
          record,
          ErrorCode.INVALID_REQUEST.name(),
          "field \"id\" is blank; give every request a unique, non-empty id");
    }
    String problem;
    ErrorCode code = ErrorCode.INVALID_REQUEST;
    if (request.getImages().isEmpty()) {
      code = ErrorCode.INVALID_IMAGE_COUNT;
      problem = "field \"images\" is empty; a request needs at least one image";
    } else if ((problem = imageProblem(request.getImages())) != null) {
      // problem set
    } else if (request.getInstruction().isBlank()) {
      code = ErrorCode.INSTRUCTION_EMPTY;
      problem = "field \"instruction\" is blank; ask a question or give an instruction";
    } else if (request.getMode() == RequestMode.RANK && request.getCandidates().isEmpty()) {
      problem = "mode RANK needs at least one entry in \"candidates\"";
    } else if (request.getMode() == RequestMode.GENERATE && !request.getCandidates().isEmpty()) {
      problem =
          "mode GENERATE takes no \"candidates\" ("
              + request.getCandidates().size()
              + " given); set \"mode\": \"RANK\" to rank them";
    } else {
      return new ParseResult.Accepted(new RequestEnvelope(request, record.headers()));
    }
    return reject(request.getId(), request.getMetadata(), record, code, problem);
  }

  private static String imageProblem(List<ImageInput> images) {
    for (int i = 0; i < images.size(); i++) {
      ImageInput image = images.get(i);
      boolean hasBytes = image.getBytes() != null;
      boolean hasUri = image.getUri() != null;
      if (hasBytes && hasUri) {
        return "images[" + i + "] has both \"bytes\" and \"uri\"; give exactly one";
      }
      if (!hasBytes && !hasUri) {
        return "images[" + i + "] has neither \"bytes\" nor \"uri\"; give exactly one";
      }
      if (hasUri && image.getUri().isBlank()) {
        return "images[" + i + "].uri is blank";
      }
    }
    return null;
  }

  private ParseResult reject(
      String id, Map<String, String> metadata, RawRecord record, ErrorCode code, String message) {
    return new ParseResult.Rejected(
        new ResponseEnvelope(
            errorResponse(id, metadata, code.name(), message, clock.millis()), record.headers()));
  }

  private static ParseResult deadLetter(RawRecord record, String code, String message) {
    return new ParseResult.DeadLettered(new DeadLetter(record, code, message));
  }

  /** An {@code ERROR} response with only the required fields and the request's metadata. */
  public static InferenceResponse errorResponse(
      String id, Map<String, String> metadata, String code, String message, long completedAtMs) {
    return InferenceResponse.newBuilder()
        .setId(id)
        .setStatus(ResponseStatus.ERROR)
        .setTimings(StageTimings.newBuilder().build())
        .setError(ErrorInfo.newBuilder().setCode(code).setMessage(message).build())
        .setMetadata(metadata)
        .setCompletedAtMs(completedAtMs)
        .build();
  }
}
