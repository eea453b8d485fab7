package io.instructblip.job.parse;

import io.instructblip.engine.RequestLimits;
import io.instructblip.engine.api.EngineException;
import io.instructblip.engine.api.ErrorCode;
import io.instructblip.engine.api.GenerationDefaults;
import io.instructblip.engine.api.InputEcho;
import io.instructblip.engine.inference.RequestPreparer;
import io.instructblip.job.kafka.DeadLetter;
import io.instructblip.job.kafka.RawHeader;
import io.instructblip.job.kafka.RawRecord;
import io.instructblip.job.kafka.RequestEnvelope;
import io.instructblip.job.kafka.ResponseEnvelope;
import io.instructblip.job.wiring.StageItems;
import io.instructblip.schema.MessageCodec;
import io.instructblip.schema.MessageFormatException;
import io.instructblip.schema.SchemaRegistry;
import io.instructblip.schema.avro.ErrorInfo;
import io.instructblip.schema.avro.ImageInput;
import io.instructblip.schema.avro.InferenceRequest;
import io.instructblip.schema.avro.InferenceResponse;
import io.instructblip.schema.avro.RequestMode;
import io.instructblip.schema.avro.ResponseStatus;
import io.instructblip.schema.avro.StageTimings;
import java.nio.charset.StandardCharsets;
import java.time.Clock;
import java.util.List;
import java.util.Map;
import java.util.Objects;

/**
 * Decodes a Kafka record into a request and checks what the codec does not (docs/messages.md):
 *
 * <ul>
 *   <li>not a message, or a message without a usable id (none, blank, longer than {@link
 *       RequestLimits#maxIdChars()}, or with a lone surrogate): {@link ParseResult.DeadLettered},
 *       code = the {@code MessageErrorCode} name (or {@code INVALID_REQUEST});
 *   <li>a message with an id but a bad shape ({@code MessageFormatException} carrying the id), an
 *       image with both or neither of bytes and uri, RANK without candidates, GENERATE with
 *       candidates, headers, metadata, a URI or candidates over their {@link RequestLimits}: {@link
 *       ParseResult.Rejected} with {@code INVALID_REQUEST} (without echoing the oversized metadata
 *       or headers);
 *   <li>no image: {@code INVALID_IMAGE_COUNT}; a blank instruction (Unicode spaces included):
 *       {@code INSTRUCTION_EMPTY}; an instruction over its limit: {@code INSTRUCTION_TOO_LONG};
 *       generation parameters (the model's defaults with the request's overrides) that break a rule
 *       or a limit: {@code INVALID_PARAMETER};
 *   <li>otherwise {@link ParseResult.Accepted}. Image contents and token counts are checked later,
 *       by the engine (which checks the parameters again).
 * </ul>
 *
 * Not thread-safe (one per Flink subtask); not serializable (create it in {@code open()}).
 */
public final class RequestParser {
  /** The end-of-sequence id the parser's parameter check uses (any id; only ranges are checked). */
  private static final int ANY_EOS_ID = 0;

  private final MessageCodec<InferenceRequest> codec;
  private final Clock clock;
  private final RequestLimits limits;
  private final GenerationDefaults defaults;

  /** A parser with the default limits and reference generation defaults, on the system clock. */
  public RequestParser() {
    this(Clock.systemUTC());
  }

  /** A parser that stamps error responses ({@code completed_at_ms}) with {@code clock}. */
  public RequestParser(Clock clock) {
    this(clock, RequestLimits.defaults(), GenerationDefaults.REFERENCE);
  }

  /**
   * A parser.
   *
   * @param limits what one request may carry
   * @param defaults the served model's generation defaults (the manifest's), which a request's
   *     parameters override before they are checked
   */
  public RequestParser(Clock clock, RequestLimits limits, GenerationDefaults defaults) {
    this(clock, limits, defaults, null);
  }

  /**
   * A parser that also reads Schema Registry framed records, with writer schemas from {@code
   * registry} (null: such records are dead-lettered with {@code UNKNOWN_SCHEMA}).
   */
  public RequestParser(
      Clock clock, RequestLimits limits, GenerationDefaults defaults, SchemaRegistry registry) {
    this.codec =
        registry == null
            ? MessageCodec.requests()
            : MessageCodec.requests().withRegistry(registry, null);
    this.clock = Objects.requireNonNull(clock, "clock");
    this.limits = Objects.requireNonNull(limits, "limits");
    this.defaults = Objects.requireNonNull(defaults, "defaults");
  }

  /** Parses one record; never throws. */
  public ParseResult parse(RawRecord record) {
    InferenceRequest request;
    try {
      request = codec.decode(record.value() == null ? new byte[0] : record.value());
    } catch (MessageFormatException e) {
      String id = e.requestId().orElse(null);
      String idProblem = idProblem(id);
      if (idProblem != null) {
        return deadLetter(record, e.code().name(), InputEcho.abbreviate(e.getMessage()));
      }
      return reject(
          id,
          Map.of(),
          headersProblem(record.headers()) == null ? record.headers() : List.of(),
          ErrorCode.INVALID_REQUEST,
          "the request is not well-formed ("
              + e.code()
              + "): "
              + InputEcho.abbreviate(e.getMessage()));
    } catch (RuntimeException e) {
      return deadLetter(
          record,
          "UNDECODABLE",
          "the record could not be decoded: " + InputEcho.abbreviate(e.toString()));
    }
    String idProblem = idProblem(request.getId());
    if (idProblem != null) {
      return deadLetter(record, ErrorCode.INVALID_REQUEST.name(), idProblem);
    }
    String id = request.getId();
    String problem = headersProblem(record.headers());
    if (problem != null) {
      return reject(id, Map.of(), List.of(), ErrorCode.INVALID_REQUEST, problem);
    }
    problem = metadataProblem(request.getMetadata());
    if (problem != null) {
      return reject(id, Map.of(), record.headers(), ErrorCode.INVALID_REQUEST, problem);
    }
    ErrorCode code = ErrorCode.INVALID_REQUEST;
    if (request.getImages().isEmpty()) {
      code = ErrorCode.INVALID_IMAGE_COUNT;
      problem = "field \"images\" is empty; a request needs at least one image";
    } else if ((problem = imageProblem(request.getImages())) != null) {
      // problem set
    } else if (isBlank(request.getInstruction())) {
      code = ErrorCode.INSTRUCTION_EMPTY;
      problem = "field \"instruction\" is blank; ask a question or give an instruction";
    } else if (request.getInstruction().length() > limits.maxInstructionChars()) {
      code = ErrorCode.INSTRUCTION_TOO_LONG;
      problem =
          tooLong(
              "field \"instruction\"",
              request.getInstruction().length(),
              limits.maxInstructionChars(),
              "instruction-max-chars");
    } else if (request.getMode() == RequestMode.RANK && request.getCandidates().isEmpty()) {
      problem = "mode RANK needs at least one entry in \"candidates\"";
    } else if (request.getMode() == RequestMode.GENERATE && !request.getCandidates().isEmpty()) {
      problem =
          "mode GENERATE takes no \"candidates\" ("
              + request.getCandidates().size()
              + " given); set \"mode\": \"RANK\" to rank them";
    } else if ((problem = candidatesProblem(request.getCandidates())) != null) {
      // problem set
    } else {
      try {
        limits.checkGeneration(
            RequestPreparer.resolve(
                defaults, ANY_EOS_ID, StageItems.overrides(request.getGeneration()), id));
      } catch (EngineException e) {
        return reject(id, request.getMetadata(), record.headers(), e.code(), e.getMessage());
      }
      return new ParseResult.Accepted(new RequestEnvelope(request, record.headers()));
    }
    return reject(id, request.getMetadata(), record.headers(), code, problem);
  }

  /**
   * Why {@code id} cannot key a response (so the record is dead-lettered), or {@code null}: absent,
   * blank, longer than the limit, or not well-formed Unicode (a lone surrogate has no UTF-8 form:
   * the response key would differ from the id).
   */
  private String idProblem(String id) {
    if (id == null || id.isBlank()) {
      return "field \"id\" is blank; give every request a unique, non-empty id";
    }
    if (id.length() > limits.maxIdChars()) {
      return tooLong("field \"id\"", id.length(), limits.maxIdChars(), "id-max-chars")
          + "; such an id cannot key a response";
    }
    for (int i = 0; i < id.length(); i++) {
      char c = id.charAt(i);
      if (Character.isHighSurrogate(c)
          && i + 1 < id.length()
          && Character.isLowSurrogate(id.charAt(i + 1))) {
        i++;
      } else if (Character.isSurrogate(c)) {
        return "field \"id\" holds a lone UTF-16 surrogate at index "
            + i
            + " (not valid Unicode, so no response could be keyed by it); send a valid string";
      }
    }
    return null;
  }

  private String headersProblem(List<RawHeader> headers) {
    if (headers.size() > limits.maxHeaders()) {
      return tooMany(
          "the record", headers.size(), "headers", limits.maxHeaders(), "headers-max-count");
    }
    long bytes = 0;
    for (RawHeader h : headers) {
      bytes += h.key().getBytes(StandardCharsets.UTF_8).length;
      bytes += h.value() == null ? 0 : h.value().length;
    }
    if (bytes > limits.maxHeaderBytes()) {
      return "the record's headers take "
          + bytes
          + " bytes; at most "
          + limits.maxHeaderBytes()
          + " ("
          + RequestLimits.CONFIG_PREFIX
          + "headers-max-bytes)";
    }
    return null;
  }

  private String metadataProblem(Map<String, String> metadata) {
    if (metadata.size() > limits.maxMetadataEntries()) {
      return tooMany(
          "field \"metadata\"",
          metadata.size(),
          "entries",
          limits.maxMetadataEntries(),
          "metadata-max-entries");
    }
    long chars = 0;
    for (Map.Entry<String, String> e : metadata.entrySet()) {
      chars += e.getKey().length() + (e.getValue() == null ? 0 : e.getValue().length());
    }
    if (chars > limits.maxMetadataChars()) {
      return tooLong(
          "field \"metadata\" (keys and values)",
          chars,
          limits.maxMetadataChars(),
          "metadata-max-chars");
    }
    return null;
  }

  private String imageProblem(List<ImageInput> images) {
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
      if (hasUri && image.getUri().length() > limits.maxUriChars()) {
        return tooLong(
            "images[" + i + "].uri",
            image.getUri().length(),
            limits.maxUriChars(),
            "uri-max-chars");
      }
    }
    return null;
  }

  private String candidatesProblem(List<String> candidates) {
    if (candidates.size() > limits.maxCandidates()) {
      return tooMany(
          "field \"candidates\"",
          candidates.size(),
          "entries",
          limits.maxCandidates(),
          "candidates-max-count");
    }
    for (int i = 0; i < candidates.size(); i++) {
      if (candidates.get(i).length() > limits.maxCandidateChars()) {
        return tooLong(
            "candidates[" + i + "]",
            candidates.get(i).length(),
            limits.maxCandidateChars(),
            "candidate-max-chars");
      }
    }
    return null;
  }

  private static String tooLong(String what, long chars, int limit, String key) {
    return tooMany(what, chars, "characters", limit, key);
  }

  /** E.g. {@code field "metadata" has 70 entries; at most 64 (instructblip.limits.<key>)}. */
  private static String tooMany(String what, long count, String units, int limit, String key) {
    return what
        + " has "
        + count
        + " "
        + units
        + "; at most "
        + limit
        + " ("
        + RequestLimits.CONFIG_PREFIX
        + key
        + ")";
  }

  /**
   * Whether {@code text} holds nothing but whitespace in the Unicode sense: Java's whitespace, the
   * space separators {@code String.isBlank} leaves out (U+00A0, U+2007, U+202F), and the invisible
   * U+200B and U+FEFF.
   */
  static boolean isBlank(String text) {
    return text.codePoints()
        .allMatch(
            c ->
                Character.isWhitespace(c)
                    || Character.isSpaceChar(c)
                    || c == '\u200B'
                    || c == '\uFEFF');
  }

  private ParseResult reject(
      String id,
      Map<String, String> metadata,
      List<RawHeader> headers,
      ErrorCode code,
      String message) {
    return new ParseResult.Rejected(
        new ResponseEnvelope(
            errorResponse(id, metadata, code.name(), message, clock.millis()), headers));
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
