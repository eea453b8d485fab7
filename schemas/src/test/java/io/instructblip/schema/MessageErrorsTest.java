package io.instructblip.schema;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import io.instructblip.schema.avro.InferenceRequest;
import io.instructblip.schema.avro.InferenceResponse;
import java.nio.charset.StandardCharsets;
import java.util.Arrays;
import java.util.Optional;
import org.junit.jupiter.api.Test;

/** Every {@link MessageErrorCode}, with the exact message a person will read. */
class MessageErrorsTest {
  private static final String VALID_IMAGE = "\"images\":[{\"uri\":\"file:///a.jpg\"}]";

  private final MessageCodec<InferenceRequest> requests = MessageCodec.requests();
  private final MessageCodec<InferenceResponse> responses = MessageCodec.responses();

  @Test
  void truncatedAvroHeaderIsUndecodable() {
    byte[] avro = requests.encode(SampleMessages.minimalRequest());
    MessageFormatException e = failRequest(Arrays.copyOf(avro, 6), MessageErrorCode.UNDECODABLE);
    assertEquals(
        "Avro single-object message is 6 bytes long, shorter than its 10-byte header"
            + " (C3 01 + 8-byte schema fingerprint)",
        e.getMessage());
  }

  @Test
  void truncatedAvroBodyIsUndecodable() {
    byte[] avro = requests.encode(SampleMessages.minimalRequest());
    MessageFormatException e =
        failRequest(Arrays.copyOf(avro, avro.length - 5), MessageErrorCode.UNDECODABLE);
    assertEquals(
        "Avro single-object message for InferenceRequest (schema fingerprint "
            + AvroSingleObjectCodec.fingerprintHex(avro)
            + ") has a body that does not decode: the message ends inside a number at byte "
            + (avro.length - 5)
            + "",
        e.getMessage());
  }

  @Test
  void avroBodyClaimingAHugeStringIsUndecodableWithoutAllocatingIt() {
    byte[] avro = requests.encode(SampleMessages.minimalRequest());
    byte[] message = Arrays.copyOf(avro, 16);
    // The id's length as a zig-zag varint: 2,000,000,000 bytes, in a 16-byte message.
    byte[] hugeLength = {(byte) 0x80, (byte) 0xD0, (byte) 0xAC, (byte) 0xF3, 0x0E, 0x00};
    System.arraycopy(hugeLength, 0, message, 10, hugeLength.length);
    MessageFormatException e = failRequest(message, MessageErrorCode.UNDECODABLE);
    assertEquals(
        "Avro single-object message for InferenceRequest (schema fingerprint "
            + AvroSingleObjectCodec.fingerprintHex(avro)
            + ") has a body that does not decode: a string at byte 10 declares 2000000000 bytes"
            + " but 1 are left",
        e.getMessage());
  }

  @Test
  void avroBodyWithTrailingBytesIsUndecodable() {
    byte[] avro = requests.encode(SampleMessages.minimalRequest());
    byte[] message = Arrays.copyOf(avro, avro.length + 2);
    MessageFormatException e = failRequest(message, MessageErrorCode.UNDECODABLE);
    assertEquals(
        "Avro single-object message for InferenceRequest (schema fingerprint "
            + AvroSingleObjectCodec.fingerprintHex(avro)
            + ") has a body that does not decode: 2 bytes follow the end of the record (at byte "
            + avro.length
            + ")",
        e.getMessage());
  }

  @Test
  void avroBodyWithAnImpossibleUnionBranchIsUndecodable() {
    byte[] avro = requests.encode(SampleMessages.minimalRequest());
    // id "req-1" (length 5 = varint 0x0A + 5 bytes), images: block of 1, then the bytes union.
    int unionIndex = 10 + 1 + 5 + 1;
    assertEquals(0, avro[unionIndex], "the null branch of images[0].bytes");
    avro[unionIndex] = 0x06; // branch 3
    MessageFormatException e = failRequest(avro, MessageErrorCode.UNDECODABLE);
    assertEquals(
        "Avro single-object message for InferenceRequest (schema fingerprint "
            + AvroSingleObjectCodec.fingerprintHex(avro)
            + ") has a body that does not decode: union branch 3 at byte 17 does not exist in"
            + " [\"null\",\"bytes\"]",
        e.getMessage());
  }

  @Test
  void responseBytesAreAnUnknownSchemaForTheRequestCodec() {
    byte[] response = responses.encode(SampleMessages.minimalResponse());
    MessageFormatException e = failRequest(response, MessageErrorCode.UNKNOWN_SCHEMA);
    assertEquals(
        "Avro single-object message has schema fingerprint "
            + AvroSingleObjectCodec.fingerprintHex(response)
            + ", which is no known version of InferenceRequest; is it another message type,"
            + " or a newer schema this job does not know yet?",
        e.getMessage());
  }

  @Test
  void fingerprintIsPrintedAsTheLittleEndianLong() {
    byte[] header = {(byte) 0xC3, 0x01, 0x01, 0x02, 0x03, 0x04, 0x05, 0x06, 0x07, (byte) 0x88};
    assertEquals("0x8807060504030201", AvroSingleObjectCodec.fingerprintHex(header));
  }

  @Test
  void malformedJsonIsInvalidJson() {
    MessageFormatException e =
        failRequest("{\"id\": \"r\", \"images\": [}", MessageErrorCode.INVALID_JSON);
    assertEquals(
        "InferenceRequest JSON is not well-formed at line 1, column 24: Unexpected close"
            + " marker '}': expected ']' (for Array starting at line 1, column 23)",
        e.getMessage());
  }

  @Test
  void duplicateKeyIsInvalidJson() {
    MessageFormatException e =
        failRequest("{\"id\": \"a\", \"id\": \"b\"}", MessageErrorCode.INVALID_JSON);
    assertEquals(
        "InferenceRequest JSON is not well-formed at line 1, column 17: Duplicate field 'id'",
        e.getMessage());
  }

  @Test
  void trailingContentIsInvalidJson() {
    MessageFormatException e = failRequest("{} {}", MessageErrorCode.INVALID_JSON);
    assertEquals(
        "InferenceRequest JSON has more content after its object, at line 1, column 4:"
            + " send one object per message",
        e.getMessage());
  }

  @Test
  void missingRequiredFieldIsNamed() {
    MessageFormatException e =
        failRequest("{\"id\":\"r7\"," + VALID_IMAGE + "}", MessageErrorCode.MISSING_FIELD);
    assertEquals("missing required field \"instruction\"", e.getMessage());
    assertEquals(Optional.of("r7"), e.requestId());
  }

  @Test
  void nullRequiredFieldIsMissing() {
    MessageFormatException e =
        failRequest(
            "{\"id\":null," + VALID_IMAGE + ",\"instruction\":\"x\"}",
            MessageErrorCode.MISSING_FIELD);
    assertEquals("missing required field \"id\" (it is null)", e.getMessage());
    assertEquals(Optional.empty(), e.requestId());
  }

  @Test
  void missingNestedRequiredFieldIsNamedWithItsPath() {
    MessageFormatException e =
        failResponse(
            "{\"id\":\"r\",\"status\":\"ERROR\",\"completed_at_ms\":1,\"error\":{\"code\":\"X\"}}",
            MessageErrorCode.MISSING_FIELD);
    assertEquals("missing required field \"error.message\"", e.getMessage());
    assertEquals(Optional.of("r"), e.requestId());
  }

  @Test
  void unknownFieldIsRejectedWithTheAllowedNames() {
    MessageFormatException e =
        failRequest(
            "{\"id\":\"r\"," + VALID_IMAGE + ",\"instruction\":\"x\",\"prompt\":\"y\"}",
            MessageErrorCode.INVALID_FIELD);
    assertEquals(
        "unknown field \"prompt\"; allowed at the top level: id, images, instruction, mode,"
            + " candidates, generation, deadline_ms, model, metadata, created_at_ms",
        e.getMessage());
  }

  @Test
  void unknownNestedFieldIsRejectedWithItsPath() {
    MessageFormatException e =
        failRequest(
            "{\"id\":\"r\",\"images\":[{\"uri\":\"file:///a.jpg\"},{\"url\":\"x\"}],"
                + "\"instruction\":\"x\"}",
            MessageErrorCode.INVALID_FIELD);
    assertEquals(
        "unknown field \"images[1].url\"; allowed in \"images[1]\": uri, base64, mime_type",
        e.getMessage());

    MessageFormatException generation =
        failRequest(
            "{\"id\":\"r\"," + VALID_IMAGE + ",\"instruction\":\"x\",\"generation\":{\"beams\":3}}",
            MessageErrorCode.INVALID_FIELD);
    assertEquals(
        "unknown field \"generation.beams\"; allowed in \"generation\": max_new_tokens,"
            + " min_new_tokens, num_beams, length_penalty, repetition_penalty, do_sample,"
            + " temperature, top_k, top_p, seed, num_return_sequences",
        generation.getMessage());
  }

  @Test
  void wrongTypesAreInvalidFields() {
    assertInvalidRequestField(
        "\"generation\":{\"top_k\":\"5\"}",
        "field \"generation.top_k\" must be an integer in the 32-bit range, got the string \"5\"");
    assertInvalidRequestField(
        "\"generation\":{\"max_new_tokens\":1.5}",
        "field \"generation.max_new_tokens\" must be an integer in the 32-bit range,"
            + " got the number 1.5");
    assertInvalidRequestField(
        "\"generation\":{\"num_beams\":3000000000}",
        "field \"generation.num_beams\" must be an integer in the 32-bit range,"
            + " got the number 3000000000");
    assertInvalidRequestField(
        "\"generation\":{\"do_sample\":\"yes\"}",
        "field \"generation.do_sample\" must be true or false, got the string \"yes\"");
    assertInvalidRequestField(
        "\"generation\":{\"temperature\":true}",
        "field \"generation.temperature\" must be a number (or \"NaN\", \"Infinity\","
            + " \"-Infinity\"), got true");
    assertInvalidRequestField(
        "\"generation\":[]", "field \"generation\" must be a JSON object, got an array");
    assertInvalidRequestField(
        "\"mode\":\"rank\"",
        "field \"mode\" must be one of GENERATE, RANK, got the string \"rank\"");
    assertInvalidRequestField(
        "\"candidates\":[\"a\",2]", "field \"candidates[1]\" must be a string, got the number 2");
    assertInvalidRequestField(
        "\"metadata\":{\"k\":1}",
        "field \"metadata\" must map keys to strings, but key \"k\" has the number 1");
    assertInvalidRequestField(
        "\"deadline_ms\":\"tomorrow\"",
        "field \"deadline_ms\" must be an integer in the 64-bit range, got the string \"tomorrow\"");
  }

  @Test
  void imageMustHaveExactlyOneSource() {
    MessageFormatException both =
        failRequest(
            "{\"id\":\"r\",\"images\":[{\"uri\":\"file:///a.jpg\",\"base64\":\"AQID\"}],"
                + "\"instruction\":\"x\"}",
            MessageErrorCode.INVALID_FIELD);
    assertEquals(
        "field \"images[0]\" must have exactly one of \"uri\" or \"base64\", it has both",
        both.getMessage());
    assertEquals(Optional.of("r"), both.requestId());

    MessageFormatException neither =
        failRequest(
            "{\"id\":\"r\",\"images\":[{\"mime_type\":\"image/png\"}],\"instruction\":\"x\"}",
            MessageErrorCode.INVALID_FIELD);
    assertEquals(
        "field \"images[0]\" must have exactly one of \"uri\" or \"base64\", it has neither",
        neither.getMessage());
  }

  @Test
  void badBase64IsAnInvalidField() {
    MessageFormatException e =
        failRequest(
            "{\"id\":\"r\",\"images\":[{\"base64\":\"not base64!\"}],\"instruction\":\"x\"}",
            MessageErrorCode.INVALID_FIELD);
    assertEquals(
        "field \"images[0].base64\" is not standard base64 (RFC 4648, no line breaks):"
            + " Illegal base64 character 20",
        e.getMessage());
  }

  @Test
  void messageThatIsNotAnObjectAtTheTopIsCaughtByDetection() {
    failRequest("\"just a string\"", MessageErrorCode.UNDECODABLE);
  }

  private void assertInvalidRequestField(String extraField, String expectedMessage) {
    MessageFormatException e =
        failRequest(
            "{\"id\":\"r\"," + VALID_IMAGE + ",\"instruction\":\"x\"," + extraField + "}",
            MessageErrorCode.INVALID_FIELD);
    assertEquals(expectedMessage, e.getMessage());
    assertEquals(Optional.of("r"), e.requestId());
  }

  private MessageFormatException failRequest(String json, MessageErrorCode expected) {
    return failRequest(json.getBytes(StandardCharsets.UTF_8), expected);
  }

  private MessageFormatException failRequest(byte[] message, MessageErrorCode expected) {
    MessageFormatException e =
        assertThrows(MessageFormatException.class, () -> requests.decode(message));
    assertEquals(expected, e.code(), e.getMessage());
    return e;
  }

  private MessageFormatException failResponse(String json, MessageErrorCode expected) {
    MessageFormatException e =
        assertThrows(
            MessageFormatException.class,
            () -> responses.decode(json.getBytes(StandardCharsets.UTF_8)));
    assertEquals(expected, e.code(), e.getMessage());
    return e;
  }
}
