package io.instructblip.job.kafka;

import io.instructblip.schema.MessageCodec;
import io.instructblip.schema.WireFormat;
import io.instructblip.schema.avro.InferenceResponse;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.Objects;
import org.apache.flink.connector.kafka.sink.KafkaRecordSerializationSchema;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.header.Header;
import org.apache.kafka.common.header.internals.RecordHeader;

/**
 * Writes a response as a Kafka record: key = the request id (UTF-8), value = the response in the
 * configured {@link WireFormat}, headers = those of the request.
 */
public final class ResponseSerializer implements KafkaRecordSerializationSchema<ResponseEnvelope> {
  private static final long serialVersionUID = 1L;

  private final String topic;
  private final WireFormat format;
  private transient MessageCodec<InferenceResponse> codec;

  public ResponseSerializer(String topic, WireFormat format) {
    this.topic = Objects.requireNonNull(topic, "topic");
    this.format = Objects.requireNonNull(format, "format");
  }

  @Override
  public ProducerRecord<byte[], byte[]> serialize(
      ResponseEnvelope element, KafkaSinkContext context, Long timestamp) {
    if (codec == null) {
      codec = MessageCodec.responses();
    }
    InferenceResponse response = element.response();
    byte[] key = response.getId().getBytes(StandardCharsets.UTF_8);
    byte[] value = codec.encode(response, format);
    return new ProducerRecord<>(topic, null, timestamp, key, value, toKafka(element.headers()));
  }

  static List<Header> toKafka(List<RawHeader> headers) {
    List<Header> out = new ArrayList<>(headers.size());
    for (RawHeader h : headers) {
      out.add(new RecordHeader(h.key(), h.value()));
    }
    return out;
  }
}
