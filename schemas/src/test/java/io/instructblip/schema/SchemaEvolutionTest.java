package io.instructblip.schema;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;

import io.instructblip.schema.avro.ImageInput;
import io.instructblip.schema.avro.InferenceRequest;
import io.instructblip.schema.avro.RequestMode;
import java.io.ByteArrayOutputStream;
import java.util.List;
import java.util.Map;
import org.apache.avro.Schema;
import org.apache.avro.generic.GenericData;
import org.apache.avro.generic.GenericRecord;
import org.apache.avro.generic.GenericRecordBuilder;
import org.apache.avro.message.BinaryMessageEncoder;
import org.apache.avro.specific.SpecificData;
import org.junit.jupiter.api.Test;

/**
 * Resolution of an older writer schema through the history: a message written by a producer that
 * knows fewer fields decodes into the current classes with the defaults of the missing fields.
 */
class SchemaEvolutionTest {
  /** The request as an imagined older producer knew it: no mode, candidates or metadata. */
  private static final Schema OLDER_REQUEST =
      new Schema.Parser()
          .parse(
              "{\"type\":\"record\",\"name\":\"InferenceRequest\","
                  + "\"namespace\":\"io.instructblip.schema.avro\",\"fields\":["
                  + "{\"name\":\"id\",\"type\":\"string\"},"
                  + "{\"name\":\"images\",\"type\":{\"type\":\"array\",\"items\":"
                  + "{\"type\":\"record\",\"name\":\"ImageInput\",\"fields\":["
                  + "{\"name\":\"uri\",\"type\":[\"null\",\"string\"],\"default\":null}]}}},"
                  + "{\"name\":\"instruction\",\"type\":\"string\"}]}");

  @Test
  void olderWriterSchemaInTheHistoryResolvesWithDefaults() throws Exception {
    SchemaHistory history =
        SchemaHistory.of(
            "InferenceRequest", List.of(OLDER_REQUEST, InferenceRequest.getClassSchema()));
    AvroSingleObjectCodec<InferenceRequest> codec =
        new AvroSingleObjectCodec<>(
            SpecificData.getForClass(InferenceRequest.class),
            InferenceRequest.getClassSchema(),
            history);

    Schema imageSchema = OLDER_REQUEST.getField("images").schema().getElementType();
    GenericRecord old =
        new GenericRecordBuilder(OLDER_REQUEST)
            .set("id", "old-1")
            .set(
                "images",
                List.of(new GenericRecordBuilder(imageSchema).set("uri", "file:///x.jpg").build()))
            .set("instruction", "What is this?")
            .build();
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    new BinaryMessageEncoder<GenericRecord>(GenericData.get(), OLDER_REQUEST).encode(old, out);

    InferenceRequest decoded = codec.decode(out.toByteArray());
    assertEquals("old-1", decoded.getId());
    assertEquals(
        List.of(ImageInput.newBuilder().setUri("file:///x.jpg").build()), decoded.getImages());
    assertEquals(RequestMode.GENERATE, decoded.getMode());
    assertEquals(List.of(), decoded.getCandidates());
    assertEquals(Map.of(), decoded.getMetadata());
    assertNull(decoded.getGeneration());
  }

  @Test
  void olderWriterSchemaMissingFromTheHistoryIsUnknown() throws Exception {
    GenericRecord old =
        new GenericRecordBuilder(OLDER_REQUEST)
            .set("id", "old-1")
            .set("images", List.of())
            .set("instruction", "What is this?")
            .build();
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    new BinaryMessageEncoder<GenericRecord>(GenericData.get(), OLDER_REQUEST).encode(old, out);
    MessageFormatException e =
        assertThrows(
            MessageFormatException.class, () -> MessageCodec.requests().decode(out.toByteArray()));
    assertEquals(MessageErrorCode.UNKNOWN_SCHEMA, e.code());
  }
}
