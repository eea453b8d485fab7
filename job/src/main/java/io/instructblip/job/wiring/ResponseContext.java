package io.instructblip.job.wiring;

import io.instructblip.job.kafka.RawHeader;
import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.DataInput;
import java.io.DataInputStream;
import java.io.DataOutputStream;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.apache.flink.types.StringValue;

/**
 * What a response needs from its request and the stages never read: the request's metadata and
 * Kafka headers (copied to the response) and when it was created and received (for the {@code
 * queue} and {@code total} timings). Travels through the stages as a {@code StageItem}'s opaque
 * context bytes.
 *
 * @param metadata the request's metadata, copied to the response
 * @param headers the request record's headers, copied to the response record
 * @param createdAtMs the producer's {@code created_at_ms}, or {@code null}
 * @param receivedAtMs when the job parsed the request (epoch millis)
 */
public record ResponseContext(
    Map<String, String> metadata, List<RawHeader> headers, Long createdAtMs, long receivedAtMs) {

  public ResponseContext {
    metadata = metadata == null ? Map.of() : new LinkedHashMap<>(metadata);
    headers = headers == null ? List.of() : List.copyOf(headers);
  }

  /**
   * Marks the second encoding, whose strings have any length ({@link StringValue#writeString}); the
   * first began with the metadata count (never negative) and used {@code writeUTF}.
   */
  private static final int FORMAT_ANY_LENGTH = -2;

  /** The context as bytes; strings of any length. */
  public byte[] encode() {
    ByteArrayOutputStream bytes = new ByteArrayOutputStream();
    try (DataOutputStream out = new DataOutputStream(bytes)) {
      out.writeInt(FORMAT_ANY_LENGTH);
      out.writeInt(metadata.size());
      for (Map.Entry<String, String> e : metadata.entrySet()) {
        StringValue.writeString(e.getKey(), out);
        StringValue.writeString(e.getValue(), out);
      }
      out.writeInt(headers.size());
      for (RawHeader h : headers) {
        StringValue.writeString(h.key(), out);
        out.writeInt(h.value() == null ? -1 : h.value().length);
        if (h.value() != null) {
          out.write(h.value());
        }
      }
      out.writeLong(createdAtMs == null ? Long.MIN_VALUE : createdAtMs);
      out.writeLong(receivedAtMs);
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
    return bytes.toByteArray();
  }

  /** A context from {@link #encode()}'s bytes; empty bytes give an empty context. */
  public static ResponseContext decode(byte[] bytes) {
    if (bytes == null || bytes.length == 0) {
      return new ResponseContext(Map.of(), List.of(), null, 0);
    }
    try (DataInputStream in = new DataInputStream(new ByteArrayInputStream(bytes))) {
      int n = in.readInt();
      StringReader strings = DataInput::readUTF;
      if (n == FORMAT_ANY_LENGTH) {
        strings = StringValue::readString;
        n = in.readInt();
      }
      Map<String, String> metadata = new LinkedHashMap<>();
      for (int i = 0; i < n; i++) {
        metadata.put(strings.read(in), strings.read(in));
      }
      int h = in.readInt();
      List<RawHeader> headers = new ArrayList<>(h);
      for (int i = 0; i < h; i++) {
        String key = strings.read(in);
        int length = in.readInt();
        byte[] value = null;
        if (length >= 0) {
          value = new byte[length];
          in.readFully(value);
        }
        headers.add(new RawHeader(key, value));
      }
      long created = in.readLong();
      long received = in.readLong();
      return new ResponseContext(
          metadata, headers, created == Long.MIN_VALUE ? null : created, received);
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  /** How one encoding reads its strings. */
  @FunctionalInterface
  private interface StringReader {
    String read(DataInput in) throws IOException;
  }
}
