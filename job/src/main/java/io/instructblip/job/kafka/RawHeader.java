package io.instructblip.job.kafka;

import java.nio.charset.StandardCharsets;
import java.util.Arrays;
import java.util.Objects;

/** One Kafka record header: a key and its value bytes (null when the header has no value). */
public record RawHeader(String key, byte[] value) {
  public RawHeader {
    Objects.requireNonNull(key, "key");
  }

  /** A header whose value is the UTF-8 bytes of {@code value}. */
  public static RawHeader utf8(String key, String value) {
    return new RawHeader(key, value.getBytes(StandardCharsets.UTF_8));
  }

  /** The value as UTF-8 text, or null when the header has no value. */
  public String valueAsString() {
    return value == null ? null : new String(value, StandardCharsets.UTF_8);
  }

  @Override
  public boolean equals(Object o) {
    return o instanceof RawHeader h && key.equals(h.key) && Arrays.equals(value, h.value);
  }

  @Override
  public int hashCode() {
    return 31 * key.hashCode() + Arrays.hashCode(value);
  }

  @Override
  public String toString() {
    return key + "=" + (value == null ? "null" : value.length + " bytes");
  }
}
