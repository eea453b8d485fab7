package io.instructblip.schema;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.ByteBuffer;
import java.util.Map;
import java.util.Objects;
import java.util.concurrent.ConcurrentHashMap;
import org.apache.avro.Schema;
import org.apache.avro.SchemaCompatibility;
import org.apache.avro.io.BinaryEncoder;
import org.apache.avro.io.DatumReader;
import org.apache.avro.io.Decoder;
import org.apache.avro.io.DecoderFactory;
import org.apache.avro.io.EncoderFactory;
import org.apache.avro.specific.SpecificData;
import org.apache.avro.specific.SpecificDatumWriter;
import org.apache.avro.specific.SpecificRecord;

/**
 * {@link WireFormat#REGISTRY} messages of one generated record type: {@code 00}, the writer
 * schema's 4-byte big-endian id, the Avro binary body. Decoding fetches the writer schema by id
 * from the {@link SchemaRegistry} and resolves it against the current (reader) schema, so a
 * producer may write any version the registry's compatibility rules allowed; encoding writes the
 * current schema under the id it was registered with. Thread-safe.
 */
final class RegistryFramedCodec<T extends SpecificRecord> {
  private final String recordName;
  private final SpecificData model;
  private final Schema current;
  private final SchemaRegistry registry;
  private final String subject;
  private final Map<Integer, DatumReader<T>> readers = new ConcurrentHashMap<>();
  private final SpecificDatumWriter<T> writer;
  private volatile Integer currentId;

  /**
   * @param subject the subject responses are registered under, or null when this codec only reads
   */
  RegistryFramedCodec(SpecificData model, Schema current, SchemaRegistry registry, String subject) {
    this.recordName = current.getName();
    this.model = model;
    this.current = current;
    this.registry = Objects.requireNonNull(registry, "registry");
    this.subject = subject;
    this.writer = new SpecificDatumWriter<>(current, model);
  }

  /** The schema id of a registry-framed message (bytes 1 to 4, big-endian). */
  static int schemaId(byte[] message) {
    return ByteBuffer.wrap(message, 1, 4).getInt();
  }

  T decode(byte[] message) throws MessageFormatException {
    int id = schemaId(message);
    Schema writerSchema = registry.schemaById(id);
    String misfit = AvroBodyBounds.check(writerSchema, message, WireFormat.REGISTRY_HEADER_BYTES);
    if (misfit != null) {
      throw undecodable(id, misfit, null);
    }
    DatumReader<T> reader = readers.get(id);
    if (reader == null) {
      SchemaCompatibility.SchemaPairCompatibility compatibility =
          SchemaCompatibility.checkReaderWriterCompatibility(current, writerSchema);
      if (compatibility.getType() != SchemaCompatibility.SchemaCompatibilityType.COMPATIBLE) {
        throw new MessageFormatException(
            MessageErrorCode.UNKNOWN_SCHEMA,
            "Schema Registry framed message has schema id "
                + id
                + ", whose schema ("
                + writerSchema.getFullName()
                + ") cannot be read as "
                + recordName
                + ": "
                + compatibility.getDescription()
                + "; is it another message type?");
      }
      @SuppressWarnings("unchecked")
      DatumReader<T> resolving = (DatumReader<T>) model.createDatumReader(writerSchema, current);
      reader = resolving;
      readers.put(id, reader);
    }
    try {
      Decoder decoder =
          DecoderFactory.get()
              .binaryDecoder(
                  message,
                  WireFormat.REGISTRY_HEADER_BYTES,
                  message.length - WireFormat.REGISTRY_HEADER_BYTES,
                  null);
      return reader.read(null, decoder);
    } catch (IOException | RuntimeException e) {
      throw undecodable(id, String.valueOf(e.getMessage()), e);
    }
  }

  byte[] encode(T record) throws MessageFormatException {
    Objects.requireNonNull(record, "record");
    int id = registeredId();
    ByteArrayOutputStream out = new ByteArrayOutputStream(256);
    out.write(0);
    out.writeBytes(ByteBuffer.allocate(4).putInt(id).array());
    BinaryEncoder encoder = EncoderFactory.get().directBinaryEncoder(out, null);
    try {
      writer.write(record, encoder);
      encoder.flush();
    } catch (IOException e) {
      throw new UncheckedIOException("writing to a byte array cannot fail", e);
    }
    return out.toByteArray();
  }

  /** The current schema's id under the subject, registered on first use. */
  int registeredId() throws MessageFormatException {
    Integer id = currentId;
    if (id == null) {
      if (subject == null) {
        throw new IllegalStateException(
            "this codec has no subject to register " + recordName + " under; it only reads");
      }
      id = registry.register(subject, current);
      currentId = id;
    }
    return id;
  }

  private MessageFormatException undecodable(int id, String why, Exception cause) {
    return new MessageFormatException(
        MessageErrorCode.UNDECODABLE,
        "Schema Registry framed message for "
            + recordName
            + " (schema id "
            + id
            + ") has a body that does not decode: "
            + why,
        cause);
  }
}
