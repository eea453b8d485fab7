package io.instructblip.job.kafka;

import java.util.Arrays;
import java.util.List;
import java.util.Objects;

/**
 * A Kafka record as read from the request topic, not yet decoded: key and value bytes (either may
 * be null), headers in their order, and where it came from. Decoding happens in {@code
 * io.instructblip.job.parse.RequestParser}, so a record that is no message can still be
 * dead-lettered with its original bytes.
 */
public record RawRecord(
    String topic,
    int partition,
    long offset,
    long timestamp,
    byte[] key,
    byte[] value,
    List<RawHeader> headers) {
  public RawRecord {
    Objects.requireNonNull(topic, "topic");
    headers = headers == null ? List.of() : List.copyOf(headers);
  }

  @Override
  public boolean equals(Object o) {
    return o instanceof RawRecord r
        && topic.equals(r.topic)
        && partition == r.partition
        && offset == r.offset
        && timestamp == r.timestamp
        && Arrays.equals(key, r.key)
        && Arrays.equals(value, r.value)
        && headers.equals(r.headers);
  }

  @Override
  public int hashCode() {
    return Objects.hash(topic, partition, offset);
  }

  @Override
  public String toString() {
    return topic
        + "-"
        + partition
        + "@"
        + offset
        + " ("
        + (value == null ? "null value" : value.length + " bytes")
        + ", "
        + headers.size()
        + " headers)";
  }
}
