package io.instructblip.schema;

import com.fasterxml.jackson.core.JsonFactory;
import com.fasterxml.jackson.core.JsonGenerator;
import com.fasterxml.jackson.core.JsonLocation;
import com.fasterxml.jackson.core.JsonParser;
import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.core.JsonToken;
import com.fasterxml.jackson.core.StreamReadFeature;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.json.JsonMapper;
import io.instructblip.schema.avro.InferenceRequest;
import io.instructblip.schema.avro.InferenceResponse;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.util.Objects;
import java.util.regex.Pattern;
import org.apache.avro.Schema;
import org.apache.avro.specific.SpecificData;
import org.apache.avro.specific.SpecificRecord;

/**
 * Reads and writes one message type in its wire forms: Avro single-object encoding, JSON with the
 * same field names, and (given a {@link SchemaRegistry}, see {@link #withRegistry}) Schema Registry
 * framing. Decoding detects the form of each message on its own; encoding writes Avro unless told
 * otherwise. Thread-safe; not serializable (create it in an operator's {@code open()}).
 *
 * <pre>{@code
 * MessageCodec<InferenceRequest> requests = MessageCodec.requests();
 * InferenceRequest request = requests.decode(record.value()); // Avro or JSON
 * MessageCodec<InferenceResponse> responses = MessageCodec.responses();
 * byte[] value = responses.encode(response);                  // Avro single-object
 * byte[] json = responses.encode(response, WireFormat.JSON);
 * MessageCodec<InferenceResponse> framed = responses.withRegistry(registry, "responses-value");
 * byte[] registryFramed = framed.encode(response, WireFormat.REGISTRY);
 * }</pre>
 */
public final class MessageCodec<T extends SpecificRecord> {
  private static final ObjectMapper JSON =
      JsonMapper.builder().enable(StreamReadFeature.STRICT_DUPLICATE_DETECTION).build();

  /** Jackson's "[Source: ...; line: L, column: C]", which says nothing useful about the source. */
  private static final Pattern SOURCE_LOCATION =
      Pattern.compile("\\[Source: [^\\]]*?; line: (\\d+), column: (\\d+)\\]");

  private final String recordName;
  private final SpecificData model;
  private final Schema current;
  private final AvroSingleObjectCodec<T> avro;
  private final JsonMapping<T> json;
  private final RegistryFramedCodec<T> registryFramed;
  private final JsonFactory jsonFactory = JSON.getFactory();

  private MessageCodec(
      SpecificData model, Schema current, SchemaHistory history, JsonMapping<T> json) {
    this.recordName = current.getName();
    this.model = model;
    this.current = current;
    this.avro = new AvroSingleObjectCodec<>(model, current, history);
    this.json = json;
    this.registryFramed = null;
  }

  private MessageCodec(MessageCodec<T> base, RegistryFramedCodec<T> registryFramed) {
    this.recordName = base.recordName;
    this.model = base.model;
    this.current = base.current;
    this.avro = base.avro;
    this.json = base.json;
    this.registryFramed = registryFramed;
  }

  /**
   * This codec, reading {@link WireFormat#REGISTRY} messages too, with writer schemas from {@code
   * registry}; and writing them (with {@link #encode(SpecificRecord, WireFormat)}) when {@code
   * subject} is given, the current schema registered under it on the first message.
   *
   * @param subject the subject to register the current schema under, or null to only read
   */
  public MessageCodec<T> withRegistry(SchemaRegistry registry, String subject) {
    return new MessageCodec<>(this, new RegistryFramedCodec<>(model, current, registry, subject));
  }

  /**
   * The id of the current schema under the subject given to {@link #withRegistry}, registered now
   * if it is not yet; lets a writer fail at start rather than at its first message.
   *
   * @throws MessageFormatException with {@link MessageErrorCode#REGISTRY_UNAVAILABLE} when the
   *     registry could not be asked or refused the schema
   */
  public int registeredSchemaId() throws MessageFormatException {
    if (registryFramed == null) {
      throw new IllegalStateException("this codec has no schema registry; see withRegistry");
    }
    return registryFramed.registeredId();
  }

  /** The codec of {@link InferenceRequest}, reading every version in its schema history. */
  public static MessageCodec<InferenceRequest> requests() {
    return new MessageCodec<>(
        SpecificData.getForClass(InferenceRequest.class),
        InferenceRequest.getClassSchema(),
        SchemaHistory.load("InferenceRequest"),
        new RequestJson());
  }

  /** The codec of {@link InferenceResponse}, reading every version in its schema history. */
  public static MessageCodec<InferenceResponse> responses() {
    return new MessageCodec<>(
        SpecificData.getForClass(InferenceResponse.class),
        InferenceResponse.getClassSchema(),
        SchemaHistory.load("InferenceResponse"),
        new ResponseJson());
  }

  /**
   * Decodes one message, Avro single-object, Schema Registry framed or JSON, detected from its
   * first bytes.
   *
   * @throws MessageFormatException when the bytes are not a well-formed message of this type; its
   *     code says why (see {@link MessageErrorCode})
   */
  public T decode(byte[] message) throws MessageFormatException {
    return switch (WireFormat.detect(message)) {
      case AVRO -> avro.decode(message);
      case JSON -> decodeJson(message);
      case REGISTRY -> decodeRegistryFramed(message);
    };
  }

  private T decodeRegistryFramed(byte[] message) throws MessageFormatException {
    if (registryFramed == null) {
      throw new MessageFormatException(
          MessageErrorCode.UNKNOWN_SCHEMA,
          "message is Schema Registry framed (schema id "
              + RegistryFramedCodec.schemaId(message)
              + "), but no schema registry is configured to look the schema up; set"
              + " instructblip.registry.url");
    }
    return registryFramed.decode(message);
  }

  /** Encodes a message in Avro single-object encoding with the current schema. */
  public byte[] encode(T message) {
    return encode(message, WireFormat.AVRO);
  }

  /**
   * Encodes a message in the given form.
   *
   * @throws IllegalStateException for {@link WireFormat#REGISTRY} when this codec was not given a
   *     registry and subject ({@link #withRegistry}), or the registry could not register the schema
   */
  public byte[] encode(T message, WireFormat format) {
    Objects.requireNonNull(message, "message");
    Objects.requireNonNull(format, "format");
    return switch (format) {
      case AVRO -> avro.encode(message);
      case JSON -> encodeJson(message);
      case REGISTRY -> encodeRegistryFramed(message);
    };
  }

  private byte[] encodeRegistryFramed(T message) {
    if (registryFramed == null) {
      throw new IllegalStateException(
          "writing Schema Registry framing needs a schema registry; see withRegistry");
    }
    try {
      return registryFramed.encode(message);
    } catch (MessageFormatException e) {
      throw new IllegalStateException(
          "cannot register " + recordName + "'s schema: " + e.getMessage(), e);
    }
  }

  private T decodeJson(byte[] message) throws MessageFormatException {
    JsonNode root;
    try (JsonParser parser = JSON.createParser(message)) {
      root = JSON.readTree(parser);
      if (parser.nextToken() != null) {
        JsonLocation where = parser.currentTokenLocation();
        JsonNode idNode = root == null ? null : root.get("id");
        throw withId(
            new MessageFormatException(
                MessageErrorCode.INVALID_JSON,
                recordName
                    + " JSON has more content after its object, at line "
                    + where.getLineNr()
                    + ", column "
                    + where.getColumnNr()
                    + ": send one object per message"),
            idNode != null && idNode.isTextual() ? idNode.textValue() : null);
      }
    } catch (JsonProcessingException e) {
      throw withId(
          new MessageFormatException(
              MessageErrorCode.INVALID_JSON,
              recordName + " JSON is not well-formed" + describe(e),
              e),
          idBeforeError(message));
    } catch (IOException e) {
      throw new UncheckedIOException("reading from a byte array cannot fail", e);
    }
    return json.fromJson(root);
  }

  private static MessageFormatException withId(MessageFormatException e, String id) {
    return id == null ? e : e.withRequestId(id);
  }

  /**
   * The top-level {@code "id"} string of a JSON message that breaks after it (truncated, or bad
   * bytes later on), so that the job can answer it instead of dead-lettering it; {@code null} when
   * the message breaks before a complete id.
   */
  private static String idBeforeError(byte[] message) {
    try (JsonParser parser = JSON.createParser(message)) {
      if (parser.nextToken() != JsonToken.START_OBJECT) {
        return null;
      }
      while (parser.nextToken() == JsonToken.FIELD_NAME) {
        String name = parser.currentName();
        JsonToken value = parser.nextToken();
        if ("id".equals(name)) {
          return value == JsonToken.VALUE_STRING ? parser.getText() : null;
        }
        parser.skipChildren();
      }
    } catch (IOException | RuntimeException e) {
      return null; // broke before the id
    }
    return null;
  }

  private byte[] encodeJson(T message) {
    ByteArrayOutputStream out = new ByteArrayOutputStream(512);
    try (JsonGenerator generator = jsonFactory.createGenerator(out)) {
      json.toJson(message, generator);
    } catch (IOException e) {
      throw new UncheckedIOException("writing to a byte array cannot fail", e);
    }
    return out.toByteArray();
  }

  private static String describe(JsonProcessingException e) {
    String where =
        e.getLocation() == null
            ? ""
            : " at line "
                + e.getLocation().getLineNr()
                + ", column "
                + e.getLocation().getColumnNr();
    String what = SOURCE_LOCATION.matcher(e.getOriginalMessage()).replaceAll("line $1, column $2");
    return where + ": " + what;
  }
}
