package io.instructblip.job.kafka;

import java.util.List;
import java.util.Objects;
import org.apache.flink.connector.kafka.sink.KafkaRecordSerializationSchema;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.header.Header;
import org.apache.kafka.common.header.internals.RecordHeader;

/**
 * Writes a {@link DeadLetter}: the original key, value and headers unchanged, followed by the
 * headers {@value #ERROR_CODE}, {@value #ERROR_MESSAGE}, {@value #SOURCE_TOPIC}, {@value
 * #SOURCE_PARTITION} and {@value #SOURCE_OFFSET} (UTF-8 text), so the record can be inspected and
 * replayed.
 */
public final class DeadLetterSerializer implements KafkaRecordSerializationSchema<DeadLetter> {
  private static final long serialVersionUID = 1L;

  public static final String ERROR_CODE = "x-instructblip-error-code";
  public static final String ERROR_MESSAGE = "x-instructblip-error-message";
  public static final String SOURCE_TOPIC = "x-instructblip-source-topic";
  public static final String SOURCE_PARTITION = "x-instructblip-source-partition";
  public static final String SOURCE_OFFSET = "x-instructblip-source-offset";

  private final String topic;

  public DeadLetterSerializer(String topic) {
    this.topic = Objects.requireNonNull(topic, "topic");
  }

  @Override
  public ProducerRecord<byte[], byte[]> serialize(
      DeadLetter element, KafkaSinkContext context, Long timestamp) {
    RawRecord record = element.record();
    List<Header> headers = ResponseSerializer.toKafka(record.headers());
    headers.add(header(RawHeader.utf8(ERROR_CODE, element.errorCode())));
    headers.add(header(RawHeader.utf8(ERROR_MESSAGE, element.errorMessage())));
    headers.add(header(RawHeader.utf8(SOURCE_TOPIC, record.topic())));
    headers.add(header(RawHeader.utf8(SOURCE_PARTITION, Integer.toString(record.partition()))));
    headers.add(header(RawHeader.utf8(SOURCE_OFFSET, Long.toString(record.offset()))));
    return new ProducerRecord<>(topic, null, timestamp, record.key(), record.value(), headers);
  }

  private static Header header(RawHeader h) {
    return new RecordHeader(h.key(), h.value());
  }
}
