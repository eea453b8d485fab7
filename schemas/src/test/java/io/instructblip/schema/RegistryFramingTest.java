package io.instructblip.schema;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.instructblip.schema.avro.InferenceRequest;
import io.instructblip.schema.avro.InferenceResponse;
import io.instructblip.schema.avro.RequestMode;
import java.io.ByteArrayOutputStream;
import java.nio.ByteBuffer;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.apache.avro.Schema;
import org.apache.avro.generic.GenericData;
import org.apache.avro.generic.GenericDatumWriter;
import org.apache.avro.generic.GenericRecord;
import org.apache.avro.io.BinaryEncoder;
import org.apache.avro.io.EncoderFactory;
import org.junit.jupiter.api.Test;

/** Schema Registry framing: detection, writer-schema resolution, the errors a reader can get. */
class RegistryFramingTest {
  /** A registry held in memory: ids from 1 in registration order, one id per distinct schema. */
  static final class InMemoryRegistry implements SchemaRegistry {
    final List<Schema> schemas = new ArrayList<>();
    final Map<String, List<Integer>> subjects = new HashMap<>();
    int lookups;

    @Override
    public Schema schemaById(int id) throws MessageFormatException {
      lookups++;
      if (id < 1 || id > schemas.size()) {
        throw new MessageFormatException(
            MessageErrorCode.UNKNOWN_SCHEMA, "schema id " + id + " is not registered");
      }
      return schemas.get(id - 1);
    }

    @Override
    public int register(String subject, Schema schema) {
      int index = schemas.indexOf(schema);
      if (index < 0) {
        schemas.add(schema);
        index = schemas.size() - 1;
      }
      subjects.computeIfAbsent(subject, s -> new ArrayList<>()).add(index + 1);
      return index + 1;
    }
  }

  private final InMemoryRegistry registry = new InMemoryRegistry();
  private final MessageCodec<InferenceRequest> requests =
      MessageCodec.requests().withRegistry(registry, "requests-value");

  @Test
  void framedMessagesAreDetectedByTheirMagicByte() throws Exception {
    assertEquals(WireFormat.REGISTRY, WireFormat.detect(new byte[] {0, 0, 0, 0, 1, 2}));
    MessageFormatException e =
        assertThrows(
            MessageFormatException.class, () -> WireFormat.detect(new byte[] {0, 0, 0, 0, 1}));
    assertEquals(MessageErrorCode.UNDECODABLE, e.code());
    assertEquals(
        "message starts like Schema Registry framing (00) but is 5 bytes long, too short for the"
            + " 5-byte header (00 + 4-byte schema id) and a body: 00 00 00 00 01 (5 bytes)",
        e.getMessage());
  }

  @Test
  void roundTripWritesTheIdRegisteredUnderTheSubject() throws Exception {
    InferenceRequest request = SampleMessages.fullRequest();
    byte[] framed = requests.encode(request, WireFormat.REGISTRY);
    assertArrayEquals(new byte[] {0, 0, 0, 0, 1}, Arrays.copyOf(framed, 5));
    assertEquals(List.of(1), registry.subjects.get("requests-value"));
    assertEquals(request, requests.decode(framed));
    assertEquals(1, requests.registeredSchemaId());
  }

  @Test
  void writerSchemaIsResolvedAgainstTheCurrentOneAndLookedUpOncePerCodecReader() throws Exception {
    // An older producer: without the optional "candidates" and "metadata" fields, and with a
    // field the job does not know.
    Schema current = InferenceRequest.getClassSchema();
    List<Schema.Field> fields = new ArrayList<>();
    for (Schema.Field f : current.getFields()) {
      if (!f.name().equals("candidates") && !f.name().equals("metadata")) {
        fields.add(new Schema.Field(f, f.schema()));
      }
    }
    fields.add(new Schema.Field("trace", Schema.create(Schema.Type.STRING), null, "none"));
    Schema older =
        Schema.createRecord(current.getName(), null, current.getNamespace(), false, fields);
    int id = registry.register("requests-value", older);

    GenericRecord record = new GenericData.Record(older);
    GenericRecord image =
        new GenericData.Record(current.getField("images").schema().getElementType());
    image.put("uri", "file:///a.jpg");
    record.put("id", "old-1");
    record.put("images", List.of(image));
    record.put("instruction", "What is this?");
    record.put(
        "mode",
        new GenericData.EnumSymbol(current.getField("mode").schema(), RequestMode.GENERATE));
    record.put("trace", "t-9");
    byte[] framed = frame(id, older, record);

    InferenceRequest decoded = requests.decode(framed);
    assertEquals("old-1", decoded.getId());
    assertEquals("file:///a.jpg", decoded.getImages().get(0).getUri());
    assertEquals(List.of(), decoded.getCandidates());
    assertEquals(Map.of(), decoded.getMetadata());
    requests.decode(framed);
    assertEquals(2, registry.lookups, "the codec asks its registry every time; it caches");
  }

  @Test
  void unknownIdIsUnknownSchema() {
    byte[] framed = {0, 0, 0, 0x03, (byte) 0xE7, 2, 'x'};
    MessageFormatException e =
        assertThrows(MessageFormatException.class, () -> requests.decode(framed));
    assertEquals(MessageErrorCode.UNKNOWN_SCHEMA, e.code());
    assertEquals("schema id 999 is not registered", e.getMessage());
  }

  @Test
  void withoutARegistryAFramedMessageIsUnknownSchemaWithTheKeyToSet() {
    byte[] framed = {0, 0, 0, 0, 7, 2, 'x'};
    MessageFormatException e =
        assertThrows(MessageFormatException.class, () -> MessageCodec.requests().decode(framed));
    assertEquals(MessageErrorCode.UNKNOWN_SCHEMA, e.code());
    assertEquals(
        "message is Schema Registry framed (schema id 7), but no schema registry is configured to"
            + " look the schema up; set instructblip.registry.url",
        e.getMessage());
  }

  @Test
  void anotherRecordTypesSchemaIsUnknownSchema() throws Exception {
    MessageCodec<InferenceResponse> responses =
        MessageCodec.responses().withRegistry(registry, "responses-value");
    byte[] framed =
        responses.encode(
            InferenceResponse.newBuilder(SampleMessages.fullResponse()).build(),
            WireFormat.REGISTRY);
    MessageFormatException e =
        assertThrows(MessageFormatException.class, () -> requests.decode(framed));
    assertEquals(MessageErrorCode.UNKNOWN_SCHEMA, e.code());
    assertTrue(
        e.getMessage()
            .startsWith(
                "Schema Registry framed message has schema id 1, whose schema"
                    + " (io.instructblip.schema.avro.InferenceResponse) cannot be read as"
                    + " InferenceRequest: "),
        e.getMessage());
  }

  @Test
  void truncatedBodyIsUndecodable() throws Exception {
    byte[] framed = requests.encode(SampleMessages.fullRequest(), WireFormat.REGISTRY);
    byte[] truncated = Arrays.copyOf(framed, framed.length - 3);
    MessageFormatException e =
        assertThrows(MessageFormatException.class, () -> requests.decode(truncated));
    assertEquals(MessageErrorCode.UNDECODABLE, e.code());
    assertTrue(
        e.getMessage()
            .startsWith(
                "Schema Registry framed message for InferenceRequest (schema id 1) has a body"
                    + " that does not decode: "),
        e.getMessage());
  }

  @Test
  void writingWithoutARegistryIsRefused() {
    IllegalStateException e =
        assertThrows(
            IllegalStateException.class,
            () ->
                MessageCodec.requests().encode(SampleMessages.fullRequest(), WireFormat.REGISTRY));
    assertEquals(
        "writing Schema Registry framing needs a schema registry; see withRegistry",
        e.getMessage());
  }

  static byte[] frame(int id, Schema writer, GenericRecord record) throws Exception {
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    out.write(0);
    out.write(ByteBuffer.allocate(4).putInt(id).array());
    BinaryEncoder encoder = EncoderFactory.get().binaryEncoder(out, null);
    new GenericDatumWriter<GenericRecord>(writer).write(record, encoder);
    encoder.flush();
    return out.toByteArray();
  }
}
