package io.instructblip.job.kafka;

import io.instructblip.engine.api.ErrorCode;
import io.instructblip.engine.api.InputEcho;
import io.instructblip.job.registry.RegistryOptions;
import io.instructblip.job.registry.RegistrySettings;
import io.instructblip.job.registry.RestSchemaRegistry;
import io.instructblip.schema.MessageCodec;
import io.instructblip.schema.MessageFormatException;
import io.instructblip.schema.WireFormat;
import io.instructblip.schema.avro.ErrorInfo;
import io.instructblip.schema.avro.InferenceResponse;
import io.instructblip.schema.avro.ResponseStatus;
import io.instructblip.schema.avro.StageTimings;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.Objects;
import org.apache.flink.api.common.serialization.SerializationSchema;
import org.apache.flink.connector.kafka.sink.KafkaRecordSerializationSchema;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.header.Header;
import org.apache.kafka.common.header.internals.RecordHeader;

/**
 * Writes a response as a Kafka record: key = the request id (UTF-8), value = the response in the
 * configured {@link WireFormat}, headers = those of the request.
 *
 * <p>A record that would not fit in the producer's {@code max.request.size} would fail the sink and
 * so the task, again after every restart: such a response is replaced by a short {@code ERROR}
 * response with code {@link ErrorCode#RESPONSE_TOO_LARGE} and the same id (without metadata, and
 * without the request's headers when those alone are too large). A response that cannot be encoded
 * at all becomes an {@code INTERNAL} error response the same way.
 *
 * <p>With {@link WireFormat#REGISTRY} the response schema is registered under the topic's subject
 * (see {@link RegistrySettings#subjectStrategy()}) when the sink opens: a registry that is
 * unavailable for longer than its wait fails the sink there (and the job restarts from its last
 * checkpoint, losing nothing), never a response on its own.
 */
public final class ResponseSerializer implements KafkaRecordSerializationSchema<ResponseEnvelope> {
  private static final long serialVersionUID = 1L;

  /** Kafka's own default {@code max.request.size}. */
  public static final int DEFAULT_MAX_RECORD_BYTES = 1024 * 1024;

  /**
   * Room left for the record batch and record framing: Kafka counts them against {@code
   * max.request.size} too.
   */
  static final int RECORD_OVERHEAD_BYTES = 1024;

  private final String topic;
  private final WireFormat format;
  private final int maxRecordBytes;
  private final RegistrySettings registry;
  private transient MessageCodec<InferenceResponse> codec;

  /** A serializer for records of at most {@link #DEFAULT_MAX_RECORD_BYTES}. */
  public ResponseSerializer(String topic, WireFormat format) {
    this(topic, format, DEFAULT_MAX_RECORD_BYTES);
  }

  /**
   * @param maxRecordBytes the sink producer's {@code max.request.size}
   */
  public ResponseSerializer(String topic, WireFormat format, int maxRecordBytes) {
    this(topic, format, maxRecordBytes, null);
  }

  /**
   * @param maxRecordBytes the sink producer's {@code max.request.size}
   * @param registry the Schema Registry for {@link WireFormat#REGISTRY}; null for the other formats
   */
  public ResponseSerializer(
      String topic, WireFormat format, int maxRecordBytes, RegistrySettings registry) {
    if (format == WireFormat.REGISTRY && registry == null) {
      throw new IllegalArgumentException(
          "response format registry needs a schema registry; set " + RegistryOptions.URL.key());
    }
    this.registry = registry;
    this.topic = Objects.requireNonNull(topic, "topic");
    this.format = Objects.requireNonNull(format, "format");
    if (maxRecordBytes <= RECORD_OVERHEAD_BYTES) {
      throw new IllegalArgumentException(
          "max.request.size must be more than "
              + RECORD_OVERHEAD_BYTES
              + ", got "
              + maxRecordBytes);
    }
    this.maxRecordBytes = maxRecordBytes;
  }

  /** Registers the response schema now when the format is {@link WireFormat#REGISTRY}. */
  @Override
  public void open(SerializationSchema.InitializationContext context, KafkaSinkContext sinkContext)
      throws MessageFormatException {
    if (format == WireFormat.REGISTRY) {
      codec().registeredSchemaId();
    }
  }

  private MessageCodec<InferenceResponse> codec() {
    if (codec == null) {
      MessageCodec<InferenceResponse> responses = MessageCodec.responses();
      codec =
          format != WireFormat.REGISTRY
              ? responses
              : responses.withRegistry(
                  new RestSchemaRegistry(registry),
                  registry
                      .subjectStrategy()
                      .subject(topic, InferenceResponse.getClassSchema().getFullName()));
    }
    return codec;
  }

  @Override
  public ProducerRecord<byte[], byte[]> serialize(
      ResponseEnvelope element, KafkaSinkContext context, Long timestamp) {
    MessageCodec<InferenceResponse> codec = codec();
    InferenceResponse response = element.response();
    byte[] key = response.getId().getBytes(StandardCharsets.UTF_8);
    List<RawHeader> headers = element.headers();
    byte[] value;
    try {
      value = codec.encode(response, format);
    } catch (RuntimeException e) {
      value =
          codec.encode(
              shortError(
                  response,
                  ErrorCode.INTERNAL,
                  "the response could not be encoded: " + InputEcho.abbreviate(e.toString())),
              format);
    }
    int budget = maxRecordBytes - RECORD_OVERHEAD_BYTES;
    if (key.length + value.length + headerBytes(headers) > budget) {
      String message =
          "the response ("
              + value.length
              + " bytes, with "
              + headerBytes(headers)
              + " bytes of headers) would exceed the response topic's record limit of "
              + maxRecordBytes
              + " bytes (max.request.size); shorten the metadata, headers or the answer"
              + " (max_new_tokens, candidates)";
      value = codec.encode(shortError(response, ErrorCode.RESPONSE_TOO_LARGE, message), format);
      if (key.length + value.length + headerBytes(headers) > budget) {
        headers = List.of();
      }
    }
    return new ProducerRecord<>(topic, null, timestamp, key, value, toKafka(headers));
  }

  /** The response reduced to its id, model, timings and an error. */
  private static InferenceResponse shortError(
      InferenceResponse response, ErrorCode code, String message) {
    return InferenceResponse.newBuilder()
        .setId(response.getId())
        .setStatus(ResponseStatus.ERROR)
        .setTimings(
            response.getTimings() == null
                ? StageTimings.newBuilder().build()
                : response.getTimings())
        .setModel(response.getModel())
        .setError(ErrorInfo.newBuilder().setCode(code.name()).setMessage(message).build())
        .setCompletedAtMs(response.getCompletedAtMs())
        .build();
  }

  /** An upper bound of the bytes {@code headers} take in a record. */
  static int headerBytes(List<RawHeader> headers) {
    int bytes = 0;
    for (RawHeader h : headers) {
      bytes += h.key().length() * 3 + (h.value() == null ? 0 : h.value().length);
    }
    return bytes;
  }

  static List<Header> toKafka(List<RawHeader> headers) {
    List<Header> out = new ArrayList<>(headers.size());
    for (RawHeader h : headers) {
      out.add(new RecordHeader(h.key(), h.value()));
    }
    return out;
  }
}
