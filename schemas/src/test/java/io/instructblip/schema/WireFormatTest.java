package io.instructblip.schema;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import io.instructblip.schema.avro.InferenceRequest;
import java.nio.charset.StandardCharsets;
import org.junit.jupiter.api.Test;

class WireFormatTest {
  @Test
  void avroSingleObjectIsDetectedByItsMarker() throws Exception {
    byte[] avro = MessageCodec.requests().encode(SampleMessages.minimalRequest());
    assertEquals(WireFormat.AVRO, WireFormat.detect(avro));
    assertEquals(WireFormat.AVRO, WireFormat.detect(new byte[] {(byte) 0xC3, 0x01}));
  }

  @Test
  void jsonObjectIsDetectedAfterWhitespaceAndByteOrderMark() throws Exception {
    assertEquals(WireFormat.JSON, WireFormat.detect(utf8("{}")));
    assertEquals(WireFormat.JSON, WireFormat.detect(utf8(" \t\r\n{\"id\":1}")));
    assertEquals(WireFormat.JSON, WireFormat.detect(utf8("\uFEFF{}")));
  }

  @Test
  void encodedJsonIsDetectedAsJson() throws Exception {
    InferenceRequest request = SampleMessages.minimalRequest();
    byte[] json = MessageCodec.requests().encode(request, WireFormat.JSON);
    assertEquals(WireFormat.JSON, WireFormat.detect(json));
  }

  @Test
  void emptyMessageIsUndecodable() {
    for (byte[] message : new byte[][] {null, new byte[0]}) {
      MessageFormatException e =
          assertThrows(MessageFormatException.class, () -> WireFormat.detect(message));
      assertEquals(MessageErrorCode.UNDECODABLE, e.code());
      assertEquals(
          "message is empty: expected Avro single-object encoding (C3 01 ...), Schema Registry"
              + " framing (00 + schema id ...) or a JSON object",
          e.getMessage());
    }
  }

  @Test
  void otherFirstBytesAreUndecodableWithAHexPreview() {
    MessageFormatException e =
        assertThrows(MessageFormatException.class, () -> WireFormat.detect(utf8("[1, 2, 3]")));
    assertEquals(MessageErrorCode.UNDECODABLE, e.code());
    assertEquals(
        "message is neither Avro single-object encoding (starts with C3 01), Schema Registry"
            + " framing (starts with 00) nor a JSON object (starts with '{'); it starts with 5B 31 2C 20 32 2C 20 33 ... (9 bytes)",
        e.getMessage());

    MessageFormatException other =
        assertThrows(
            MessageFormatException.class,
            () -> WireFormat.detect(new byte[] {(byte) 0xC3, 0x02, 0x00}));
    assertEquals(MessageErrorCode.UNDECODABLE, other.code());
    assertEquals(
        "message is neither Avro single-object encoding (starts with C3 01), Schema Registry"
            + " framing (starts with 00) nor a JSON object (starts with '{'); it starts with C3 02 00 (3 bytes)",
        other.getMessage());
  }

  @Test
  void whitespaceOnlyIsUndecodable() {
    MessageFormatException e =
        assertThrows(MessageFormatException.class, () -> WireFormat.detect(utf8("  \n")));
    assertEquals(MessageErrorCode.UNDECODABLE, e.code());
  }

  private static byte[] utf8(String text) {
    return text.getBytes(StandardCharsets.UTF_8);
  }
}
