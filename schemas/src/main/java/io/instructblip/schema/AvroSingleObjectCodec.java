package io.instructblip.schema;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.util.HashMap;
import java.util.Locale;
import java.util.Map;
import java.util.Objects;
import org.apache.avro.Schema;
import org.apache.avro.message.BinaryMessageDecoder;
import org.apache.avro.message.BinaryMessageEncoder;
import org.apache.avro.message.MissingSchemaException;
import org.apache.avro.specific.SpecificData;
import org.apache.avro.specific.SpecificRecord;

/**
 * Avro single-object encoding of one generated record type: writes with the current schema, reads
 * messages written with the current schema or any version in the {@link SchemaHistory}.
 * Thread-safe.
 */
final class AvroSingleObjectCodec<T extends SpecificRecord> {
  private static final int HEADER_BYTES = 10;

  private final String recordName;
  private final BinaryMessageEncoder<T> encoder;
  private final BinaryMessageDecoder<T> decoder;
  private final Map<Long, Schema> writerSchemas = new HashMap<>();

  AvroSingleObjectCodec(SpecificData model, Schema current, SchemaHistory history) {
    this.recordName = current.getName();
    this.encoder = new BinaryMessageEncoder<>(model, current);
    this.decoder = new BinaryMessageDecoder<>(model, current, history.toSchemaStore());
    for (Schema version : history.versions()) {
      writerSchemas.put(SchemaHistory.fingerprint(version), version);
    }
    writerSchemas.put(SchemaHistory.fingerprint(current), current);
  }

  byte[] encode(T record) {
    Objects.requireNonNull(record, "record");
    ByteArrayOutputStream out = new ByteArrayOutputStream(256);
    try {
      encoder.encode(record, out);
    } catch (IOException e) {
      throw new UncheckedIOException("writing to a byte array cannot fail", e);
    }
    return out.toByteArray();
  }

  T decode(byte[] message) throws MessageFormatException {
    if (message.length < HEADER_BYTES) {
      throw new MessageFormatException(
          MessageErrorCode.UNDECODABLE,
          "Avro single-object message is "
              + message.length
              + " bytes long, shorter than its 10-byte header (C3 01 + 8-byte schema fingerprint)");
    }
    Schema writer = writerSchemas.get(fingerprint(message));
    if (writer == null) {
      throw unknownSchema(message, null);
    }
    String misfit = AvroBodyBounds.check(writer, message, HEADER_BYTES);
    if (misfit != null) {
      throw new MessageFormatException(
          MessageErrorCode.UNDECODABLE,
          "Avro single-object message for "
              + recordName
              + " (schema fingerprint "
              + fingerprintHex(message)
              + ") has a body that does not decode: "
              + misfit);
    }
    try {
      return decoder.decode(message);
    } catch (MissingSchemaException e) {
      throw unknownSchema(message, e);
    } catch (IOException | RuntimeException e) {
      throw new MessageFormatException(
          MessageErrorCode.UNDECODABLE,
          "Avro single-object message for "
              + recordName
              + " (schema fingerprint "
              + fingerprintHex(message)
              + ") has a body that does not decode: "
              + describe(e),
          e);
    }
  }

  private MessageFormatException unknownSchema(byte[] message, Exception cause) {
    return new MessageFormatException(
        MessageErrorCode.UNKNOWN_SCHEMA,
        "Avro single-object message has schema fingerprint "
            + fingerprintHex(message)
            + ", which is no known version of "
            + recordName
            + "; is it another message type, or a newer schema this job does not know yet?",
        cause);
  }

  /** A failure and its causes in one line, e.g. "Decoding datum failed: EOFException". */
  private static String describe(Throwable failure) {
    StringBuilder text = new StringBuilder();
    for (Throwable t = failure; t != null; t = t.getCause() == t ? null : t.getCause()) {
      if (text.length() > 0) {
        text.append(": ");
      }
      text.append(t.getMessage() != null ? t.getMessage() : t.getClass().getSimpleName());
    }
    return text.toString();
  }

  /** The writer schema's fingerprint from the header (8 bytes, little-endian). */
  static long fingerprint(byte[] message) {
    long fingerprint = 0;
    for (int i = HEADER_BYTES - 1; i >= 2; i--) {
      fingerprint = (fingerprint << 8) | (message[i] & 0xFF);
    }
    return fingerprint;
  }

  /** The header's fingerprint as one hex number, for messages. */
  static String fingerprintHex(byte[] message) {
    return String.format(Locale.ROOT, "0x%016X", fingerprint(message));
  }
}
