package io.instructblip.job.kafka;

import io.instructblip.engine.api.InputEcho;
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
 *
 * <p>A dead letter that would not fit in the producer's {@code max.request.size} (a large junk
 * record plus the added headers) would fail the sink, and so the task, again after every restart:
 * such a one is written without the original key, value and headers, and with the header {@value
 * #DROPPED} saying what was left out; the source headers point at the original record.
 */
public final class DeadLetterSerializer implements KafkaRecordSerializationSchema<DeadLetter> {
  private static final long serialVersionUID = 1L;

  public static final String ERROR_CODE = "x-instructblip-error-code";
  public static final String ERROR_MESSAGE = "x-instructblip-error-message";
  public static final String SOURCE_TOPIC = "x-instructblip-source-topic";
  public static final String SOURCE_PARTITION = "x-instructblip-source-partition";
  public static final String SOURCE_OFFSET = "x-instructblip-source-offset";
  public static final String DROPPED = "x-instructblip-dropped";

  private final String topic;
  private final int maxRecordBytes;

  /** A serializer for records of at most {@link ResponseSerializer#DEFAULT_MAX_RECORD_BYTES}. */
  public DeadLetterSerializer(String topic) {
    this(topic, ResponseSerializer.DEFAULT_MAX_RECORD_BYTES);
  }

  /**
   * @param maxRecordBytes the sink producer's {@code max.request.size}
   */
  public DeadLetterSerializer(String topic, int maxRecordBytes) {
    this.topic = Objects.requireNonNull(topic, "topic");
    this.maxRecordBytes = maxRecordBytes;
  }

  @Override
  public ProducerRecord<byte[], byte[]> serialize(
      DeadLetter element, KafkaSinkContext context, Long timestamp) {
    RawRecord record = element.record();
    List<RawHeader> added =
        List.of(
            RawHeader.utf8(ERROR_CODE, element.errorCode()),
            RawHeader.utf8(ERROR_MESSAGE, InputEcho.abbreviate(element.errorMessage())),
            RawHeader.utf8(SOURCE_TOPIC, record.topic()),
            RawHeader.utf8(SOURCE_PARTITION, Integer.toString(record.partition())),
            RawHeader.utf8(SOURCE_OFFSET, Long.toString(record.offset())));
    long size =
        length(record.key())
            + length(record.value())
            + ResponseSerializer.headerBytes(record.headers())
            + ResponseSerializer.headerBytes(added);
    List<Header> headers;
    if (size <= maxRecordBytes - ResponseSerializer.RECORD_OVERHEAD_BYTES) {
      headers = ResponseSerializer.toKafka(record.headers());
      headers.addAll(ResponseSerializer.toKafka(added));
      return new ProducerRecord<>(topic, null, timestamp, record.key(), record.value(), headers);
    }
    headers = ResponseSerializer.toKafka(added);
    headers.add(
        header(
            RawHeader.utf8(
                DROPPED,
                "key ("
                    + length(record.key())
                    + " bytes), value ("
                    + length(record.value())
                    + " bytes) and "
                    + record.headers().size()
                    + " headers left out: the dead letter would exceed max.request.size ("
                    + maxRecordBytes
                    + " bytes); read the original at the source offset")));
    return new ProducerRecord<>(topic, null, timestamp, null, null, headers);
  }

  private static long length(byte[] bytes) {
    return bytes == null ? 0 : bytes.length;
  }

  private static Header header(RawHeader h) {
    return new RecordHeader(h.key(), h.value());
  }
}
