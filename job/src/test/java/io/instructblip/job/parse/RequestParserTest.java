package io.instructblip.job.parse;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertSame;

import io.instructblip.job.kafka.DeadLetter;
import io.instructblip.job.kafka.RawHeader;
import io.instructblip.job.kafka.RawRecord;
import io.instructblip.schema.MessageCodec;
import io.instructblip.schema.WireFormat;
import io.instructblip.schema.avro.ImageInput;
import io.instructblip.schema.avro.InferenceRequest;
import io.instructblip.schema.avro.InferenceResponse;
import io.instructblip.schema.avro.RequestMode;
import io.instructblip.schema.avro.ResponseStatus;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.time.Clock;
import java.time.Instant;
import java.time.ZoneOffset;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

class RequestParserTest {
  private static final long NOW = 1_790_000_000_000L;
  private static final List<RawHeader> HEADERS = List.of(RawHeader.utf8("trace", "t-1"));

  private final RequestParser parser =
      new RequestParser(Clock.fixed(Instant.ofEpochMilli(NOW), ZoneOffset.UTC));

  private static InferenceRequest.Builder request() {
    return InferenceRequest.newBuilder()
        .setId("req-1")
        .setImages(List.of(ImageInput.newBuilder().setUri("file:///data/cat.jpg").build()))
        .setInstruction("What is in the image?")
        .setMetadata(Map.of("tenant", "acme"));
  }

  private static RawRecord record(byte[] value) {
    return new RawRecord("requests", 2, 41, 7L, null, value, HEADERS);
  }

  private static RawRecord avro(InferenceRequest request) {
    return record(MessageCodec.requests().encode(request));
  }

  private static RawRecord json(String json) {
    return record(json.getBytes(StandardCharsets.UTF_8));
  }

  @Test
  void acceptsAValidAvroRequestWithItsHeaders() {
    InferenceRequest request = request().build();
    ParseResult.Accepted accepted =
        assertInstanceOf(ParseResult.Accepted.class, parser.parse(avro(request)));
    assertEquals(request, accepted.request().request());
    assertEquals(HEADERS, accepted.request().headers());
  }

  @Test
  void acceptsAValidJsonRequest() {
    ParseResult.Accepted accepted =
        assertInstanceOf(
            ParseResult.Accepted.class,
            parser.parse(
                json(
                    "{\"id\":\"j-1\",\"images\":[{\"base64\":\"AAEC\"}],\"instruction\":\"Rank\","
                        + "\"mode\":\"RANK\",\"candidates\":[\"a\",\"b\"]}")));
    InferenceRequest r = accepted.request().request();
    assertEquals("j-1", r.getId());
    assertEquals(ByteBuffer.wrap(new byte[] {0, 1, 2}), r.getImages().get(0).getBytes());
    assertEquals(RequestMode.RANK, r.getMode());
    assertEquals(List.of("a", "b"), r.getCandidates());
  }

  @Test
  void deadLettersGarbageWithTheCodecsCodeAndMessage() {
    RawRecord garbage = json("[1, 2, 3]");
    DeadLetter dead =
        assertInstanceOf(ParseResult.DeadLettered.class, parser.parse(garbage)).deadLetter();
    assertSame(garbage, dead.record());
    assertEquals("UNDECODABLE", dead.errorCode());
    assertEquals(
        "message is neither Avro single-object encoding (starts with C3 01), Schema Registry"
            + " framing (starts with 00) nor a JSON object (starts with '{');"
            + " it starts with 5B 31 2C 20 32 2C 20 33 ... (9 bytes)",
        dead.errorMessage());
  }

  @Test
  void deadLettersANullValue() {
    DeadLetter dead =
        assertInstanceOf(ParseResult.DeadLettered.class, parser.parse(record(null))).deadLetter();
    assertEquals("UNDECODABLE", dead.errorCode());
  }

  @Test
  void deadLettersJsonThatFailsBeforeItsId() {
    DeadLetter dead =
        assertInstanceOf(
                ParseResult.DeadLettered.class,
                parser.parse(json("{\"instruction\":\"x\",\"images\":[]}")))
            .deadLetter();
    assertEquals("MISSING_FIELD", dead.errorCode());
  }

  @Test
  void deadLettersABlankId() {
    DeadLetter dead =
        assertInstanceOf(
                ParseResult.DeadLettered.class, parser.parse(avro(request().setId(" ").build())))
            .deadLetter();
    assertEquals("INVALID_REQUEST", dead.errorCode());
    assertEquals(
        "field \"id\" is blank; give every request a unique, non-empty id", dead.errorMessage());
  }

  @Test
  void answersMalformedJsonWithAnIdWithAnErrorResponse() {
    InferenceResponse response =
        rejected(json("{\"id\":\"j-2\",\"images\":[{\"uri\":\"file:///a.jpg\"}],\"num_beam\":3}"));
    assertEquals("j-2", response.getId());
    assertEquals(ResponseStatus.ERROR, response.getStatus());
    assertEquals("INVALID_REQUEST", response.getError().getCode());
    assertEquals(NOW, response.getCompletedAtMs());
    assertEquals(Map.of(), response.getMetadata());
  }

  @Test
  void answersAnEmptyImageListWithInvalidImageCount() {
    InferenceResponse response = rejected(avro(request().setImages(List.of()).build()));
    assertError(
        response,
        "INVALID_IMAGE_COUNT",
        "field \"images\" is empty; a request needs at least one image");
    assertEquals(Map.of("tenant", "acme"), response.getMetadata());
    assertNull(response.getText());
  }

  @Test
  void answersAnImageWithBothBytesAndUri() {
    ImageInput both =
        ImageInput.newBuilder()
            .setUri("file:///a.jpg")
            .setBytes(ByteBuffer.wrap(new byte[] {1}))
            .build();
    assertError(
        rejected(avro(request().setImages(List.of(both)).build())),
        "INVALID_REQUEST",
        "images[0] has both \"bytes\" and \"uri\"; give exactly one");
  }

  @Test
  void answersAnImageWithNeitherBytesNorUri() {
    ImageInput ok = ImageInput.newBuilder().setUri("file:///a.jpg").build();
    ImageInput neither = ImageInput.newBuilder().build();
    assertError(
        rejected(avro(request().setImages(List.of(ok, neither)).build())),
        "INVALID_REQUEST",
        "images[1] has neither \"bytes\" nor \"uri\"; give exactly one");
  }

  @Test
  void answersABlankInstruction() {
    assertError(
        rejected(avro(request().setInstruction("  \n").build())),
        "INSTRUCTION_EMPTY",
        "field \"instruction\" is blank; ask a question or give an instruction");
  }

  @Test
  void answersRankWithoutCandidates() {
    assertError(
        rejected(avro(request().setMode(RequestMode.RANK).build())),
        "INVALID_REQUEST",
        "mode RANK needs at least one entry in \"candidates\"");
  }

  @Test
  void answersGenerateWithCandidates() {
    assertError(
        rejected(avro(request().setCandidates(List.of("a", "b")).build())),
        "INVALID_REQUEST",
        "mode GENERATE takes no \"candidates\" (2 given); set \"mode\": \"RANK\" to rank them");
  }

  @Test
  void errorResponsesEncodeAndCarryTheRequestHeaders() {
    ParseResult.Rejected rejected =
        assertInstanceOf(
            ParseResult.Rejected.class,
            parser.parse(avro(request().setMode(RequestMode.RANK).build())));
    assertEquals(HEADERS, rejected.errorResponse().headers());
    byte[] json =
        MessageCodec.responses().encode(rejected.errorResponse().response(), WireFormat.JSON);
    assertEquals(
        "{\"id\":\"req-1\",\"status\":\"ERROR\",\"token_ids\":[],\"candidates\":[],"
            + "\"prompt_tokens\":0,\"generated_tokens\":0,\"timings\":{},"
            + "\"error\":{\"code\":\"INVALID_REQUEST\","
            + "\"message\":\"mode RANK needs at least one entry in \\\"candidates\\\"\"},"
            + "\"metadata\":{\"tenant\":\"acme\"},\"completed_at_ms\":1790000000000}",
        new String(json, StandardCharsets.UTF_8));
  }

  // ---- poison records and limits (issue 10) ----

  @Test
  void answersJsonThatBreaksAfterItsIdUnderThatId() {
    // Truncated after the id: dead-lettered before, although docs/kafka.md promised an answer.
    InferenceResponse truncated =
        rejected(json("{\"id\":\"t-1\",\"images\":[{\"uri\":\"file:///a.jpg\"}],\"instr"));
    assertEquals("t-1", truncated.getId());
    assertEquals("INVALID_REQUEST", truncated.getError().getCode());
    byte[] bad =
        "{\"id\":\"t-2\",\"instruction\":\"x\u00ff\"}".getBytes(StandardCharsets.ISO_8859_1);
    assertEquals("t-2", rejected(record(bad)).getId());
    InferenceResponse trailing =
        rejected(
            json(
                "{\"id\":\"t-3\",\"images\":[{\"uri\":\"file:///a.jpg\"}],"
                    + "\"instruction\":\"x\"} junk"));
    assertEquals("t-3", trailing.getId());
    // Broken before the id: still a dead letter.
    assertInstanceOf(ParseResult.DeadLettered.class, parser.parse(json("{\"id\":\"t-")));
  }

  @Test
  void deadLettersIdsThatCannotKeyAResponse() {
    DeadLetter lone =
        assertInstanceOf(
                ParseResult.DeadLettered.class,
                // A JSON escape: the Avro encoder would already have replaced it by '?'.
                parser.parse(
                    json(
                        "{\"id\":\"a\\ud800b\",\"images\":[{\"uri\":\"file:///a.jpg\"}],"
                            + "\"instruction\":\"x\"}")))
            .deadLetter();
    assertEquals("INVALID_REQUEST", lone.errorCode());
    assertEquals(
        "field \"id\" holds a lone UTF-16 surrogate at index 1 (not valid Unicode, so no response"
            + " could be keyed by it); send a valid string",
        lone.errorMessage());
    DeadLetter huge =
        assertInstanceOf(
                ParseResult.DeadLettered.class,
                parser.parse(avro(request().setId("i".repeat(70_000)).build())))
            .deadLetter();
    assertEquals(
        "field \"id\" has 70000 characters; at most 512 (instructblip.limits.id-max-chars); such"
            + " an id cannot key a response",
        huge.errorMessage());
    // A valid pair (an emoji) is fine.
    assertInstanceOf(
        ParseResult.Accepted.class, parser.parse(avro(request().setId("r-\ud83d\ude00").build())));
  }

  @Test
  void refusesOversizedFieldsWithoutEchoingThem() {
    String big = "\u20ac".repeat(70_000);
    InferenceResponse instruction = rejected(avro(request().setInstruction(big).build()));
    assertError(
        instruction,
        "INSTRUCTION_TOO_LONG",
        "field \"instruction\" has 70000 characters; at most 8192"
            + " (instructblip.limits.instruction-max-chars)");
    InferenceResponse metadata = rejected(avro(request().setMetadata(Map.of("k", big)).build()));
    assertError(
        metadata,
        "INVALID_REQUEST",
        "field \"metadata\" (keys and values) has 70001 characters; at most 16384"
            + " (instructblip.limits.metadata-max-chars)");
    assertEquals(Map.of(), metadata.getMetadata());
    ParseResult.Rejected header =
        assertInstanceOf(
            ParseResult.Rejected.class,
            parser.parse(
                new RawRecord(
                    "requests",
                    0,
                    1,
                    7L,
                    null,
                    MessageCodec.requests().encode(request().build()),
                    List.of(RawHeader.utf8(big, "v")))));
    assertEquals(List.of(), header.errorResponse().headers());
    assertError(
        header.errorResponse().response(),
        "INVALID_REQUEST",
        "the record's headers take 210001 bytes; at most 16384"
            + " (instructblip.limits.headers-max-bytes)");
    assertError(
        rejected(
            avro(
                request()
                    .setImages(
                        List.of(
                            ImageInput.newBuilder()
                                .setUri("file:///" + "a".repeat(600_000))
                                .build()))
                    .build())),
        "INVALID_REQUEST",
        "images[0].uri has 600008 characters; at most 4096 (instructblip.limits.uri-max-chars)");
    assertError(
        rejected(
            avro(request().setMode(RequestMode.RANK).setCandidates(List.of("yes", big)).build())),
        "INVALID_REQUEST",
        "candidates[1] has 70000 characters; at most 1024"
            + " (instructblip.limits.candidate-max-chars)");
    assertError(
        rejected(
            avro(
                request()
                    .setMode(RequestMode.RANK)
                    .setCandidates(java.util.Collections.nCopies(65, "a"))
                    .build())),
        "INVALID_REQUEST",
        "field \"candidates\" has 65 entries; at most 64"
            + " (instructblip.limits.candidates-max-count)");
  }

  @Test
  void anInstructionOfUnicodeSpacesIsBlank() {
    assertError(
        rejected(avro(request().setInstruction("\u00a0\u2007\u202f\u3000\u200b").build())),
        "INSTRUCTION_EMPTY",
        "field \"instruction\" is blank; ask a question or give an instruction");
  }

  @Test
  void refusesGenerationParametersOverTheirBoundsWhereTheRequestEnters() {
    assertError(
        rejected(json(generation("\"num_beams\":1000000"))),
        "INVALID_PARAMETER",
        "num_beams must be between 1 (no beam search) and 64, got 1000000");
    assertError(
        rejected(json(generation("\"num_beams\":17"))),
        "INVALID_PARAMETER",
        "num_beams must be at most 16 (instructblip.limits.num-beams-max), got 17");
    assertError(
        rejected(json(generation("\"do_sample\":true,\"temperature\":1e-300"))),
        "INVALID_PARAMETER",
        "temperature must be a number between 0.01 and 100.0 (lower values overflow; 0.01 is all"
            + " but greedy, or set do_sample false), got 1.0E-300");
    assertError(
        rejected(json(generation("\"num_beams\":16,\"max_new_tokens\":1000"))),
        "INVALID_PARAMETER",
        "num_beams x max_new_tokens = 16 x 1000 = 16000 is over this job's work limit of 8192"
            + " tokens per request (instructblip.limits.work-max-tokens); ask for fewer beams or"
            + " fewer new tokens");
    assertInstanceOf(
        ParseResult.Accepted.class,
        parser.parse(json(generation("\"num_beams\":16,\"max_new_tokens\":512"))));
  }

  private static String generation(String fields) {
    return "{\"id\":\"req-1\",\"images\":[{\"uri\":\"file:///a.jpg\"}],\"instruction\":\"x\","
        + "\"generation\":{"
        + fields
        + "}}";
  }

  private InferenceResponse rejected(RawRecord record) {
    return assertInstanceOf(ParseResult.Rejected.class, parser.parse(record))
        .errorResponse()
        .response();
  }

  private static void assertError(InferenceResponse response, String code, String message) {
    assertEquals("req-1", response.getId());
    assertEquals(ResponseStatus.ERROR, response.getStatus());
    assertEquals(code, response.getError().getCode());
    assertEquals(message, response.getError().getMessage());
    assertEquals(NOW, response.getCompletedAtMs());
  }
}
