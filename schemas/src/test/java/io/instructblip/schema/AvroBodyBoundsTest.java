package io.instructblip.schema;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;

import io.instructblip.schema.avro.InferenceRequest;
import io.instructblip.schema.avro.InferenceResponse;
import java.io.ByteArrayOutputStream;
import org.apache.avro.Schema;
import org.apache.avro.io.BinaryEncoder;
import org.apache.avro.io.EncoderFactory;
import org.apache.avro.specific.SpecificDatumWriter;
import org.apache.avro.specific.SpecificRecord;
import org.junit.jupiter.api.Test;

class AvroBodyBoundsTest {
  private static final Schema STRING_MAP =
      new Schema.Parser().parse("{\"type\":\"map\",\"values\":\"string\"}");

  @Test
  void bodiesWrittenWithSizedBlocksFit() throws Exception {
    // The blocking encoder writes negative block counts followed by block sizes.
    assertFits(SampleMessages.fullRequest(), InferenceRequest.getClassSchema());
    assertFits(SampleMessages.fullResponse(), InferenceResponse.getClassSchema());
  }

  @Test
  void mapBlockWithMoreItemsThanBytesDoesNotFit() {
    // count 1000 (zig-zag 2000 = D0 0F), then 1 byte.
    byte[] body = {(byte) 0xD0, 0x0F, 0x00};
    assertEquals(
        "a block of 1000 items at byte 0 cannot fit in the 1 bytes left",
        AvroBodyBounds.check(STRING_MAP, body, 0));
  }

  @Test
  void mapKeyLongerThanTheMessageDoesNotFit() {
    // one item, key of length 3 (zig-zag 6), but only 2 bytes follow.
    byte[] body = {0x02, 0x06, 'a', 'b'};
    assertEquals(
        "a map key at byte 1 declares 3 bytes but 2 are left",
        AvroBodyBounds.check(STRING_MAP, body, 0));
  }

  @Test
  void numberLongerThanTenBytesDoesNotFit() {
    byte[] body = new byte[12];
    java.util.Arrays.fill(body, (byte) 0x80);
    assertEquals(
        "the number at byte 0 is longer than 10 bytes",
        AvroBodyBounds.check(Schema.create(Schema.Type.LONG), body, 0));
  }

  @Test
  void truncatedDoubleDoesNotFit() {
    assertEquals(
        "the message ends inside a double at byte 1",
        AvroBodyBounds.check(Schema.create(Schema.Type.DOUBLE), new byte[] {0, 1, 2, 3}, 1));
  }

  private static <T extends SpecificRecord> void assertFits(T record, Schema schema)
      throws Exception {
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    BinaryEncoder encoder = EncoderFactory.get().blockingBinaryEncoder(out, null);
    new SpecificDatumWriter<T>(schema).write(record, encoder);
    encoder.flush();
    assertNull(AvroBodyBounds.check(schema, out.toByteArray(), 0));
  }
}
