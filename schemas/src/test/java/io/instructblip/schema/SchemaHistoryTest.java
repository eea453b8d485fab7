package io.instructblip.schema;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.instructblip.schema.avro.ErrorInfo;
import io.instructblip.schema.avro.FinishReason;
import io.instructblip.schema.avro.GenerationOptions;
import io.instructblip.schema.avro.ImageInput;
import io.instructblip.schema.avro.InferenceRequest;
import io.instructblip.schema.avro.InferenceResponse;
import io.instructblip.schema.avro.RankedCandidate;
import io.instructblip.schema.avro.RequestMode;
import io.instructblip.schema.avro.ResponseStatus;
import io.instructblip.schema.avro.StageTimings;
import java.io.IOException;
import java.io.InputStream;
import java.nio.ByteBuffer;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.apache.avro.Schema;
import org.apache.avro.SchemaCompatibility;
import org.apache.avro.SchemaCompatibility.SchemaCompatibilityType;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

class SchemaHistoryTest {
  @Test
  void requestWrittenWithV1IsStillReadable() throws Exception {
    InferenceRequest expected =
        InferenceRequest.newBuilder()
            .setId("v1-request")
            .setImages(
                List.of(
                    ImageInput.newBuilder()
                        .setBytes(ByteBuffer.wrap(new byte[] {(byte) 0x89, 'P', 'N', 'G'}))
                        .setMimeType("image/png")
                        .build(),
                    ImageInput.newBuilder().setUri("file:///data/v1.jpg").build()))
            .setInstruction("Which animal is this?")
            .setMode(RequestMode.RANK)
            .setCandidates(List.of("cat", "dog"))
            .setGeneration(
                GenerationOptions.newBuilder()
                    .setMaxNewTokens(10)
                    .setMinNewTokens(1)
                    .setNumBeams(5)
                    .setLengthPenalty(1.0)
                    .setRepetitionPenalty(1.5)
                    .setDoSample(false)
                    .setTemperature(1.0)
                    .setTopK(0)
                    .setTopP(0.9)
                    .setSeed(7L)
                    .setNumReturnSequences(1)
                    .build())
            .setDeadlineMs(1_800_000_000_000L)
            .setModel("tiny")
            .setMetadata(Map.of("source", "v1"))
            .setCreatedAtMs(1_799_999_999_000L)
            .build();
    assertEquals(
        expected, MessageCodec.requests().decode(resource(V1FixtureWriter.REQUEST_RESOURCE)));
  }

  @Test
  void responseWrittenWithV1IsStillReadable() throws Exception {
    InferenceResponse expected =
        InferenceResponse.newBuilder()
            .setId("v1-response")
            .setStatus(ResponseStatus.OK)
            .setText("cat")
            .setTokenIds(List.of(6635, 2))
            .setCandidates(
                List.of(
                    new RankedCandidate("cat", -0.5, -0.25),
                    new RankedCandidate("dog", -3.0, -1.5)))
            .setFinishReason(FinishReason.RANK)
            .setPromptTokens(40)
            .setGeneratedTokens(2)
            .setTimings(new StageTimings(1L, 2L, 3L, 4L, 5L, 15L))
            .setModel("tiny")
            .setError(new ErrorInfo("NONE", "none"))
            .setMetadata(Map.of("source", "v1"))
            .setCompletedAtMs(1_800_000_000_001L)
            .build();
    assertEquals(
        expected, MessageCodec.responses().decode(resource(V1FixtureWriter.RESPONSE_RESOURCE)));
  }

  @Test
  void committedFixturesAreWhatTheirWriterWritesWithTheV1Schemas() throws Exception {
    Schema request = SchemaHistory.load("InferenceRequest").versions().get(0);
    Schema response = SchemaHistory.load("InferenceResponse").versions().get(0);
    assertArrayEquals(
        resource(V1FixtureWriter.REQUEST_RESOURCE),
        V1FixtureWriter.encode(request, V1FixtureWriter.request(request)));
    assertArrayEquals(
        resource(V1FixtureWriter.RESPONSE_RESOURCE),
        V1FixtureWriter.encode(response, V1FixtureWriter.response(response)));
  }

  @ParameterizedTest
  @ValueSource(strings = {"InferenceRequest", "InferenceResponse"})
  void currentSchemaReadsEveryRecordedVersion(String recordName) {
    Schema current = currentSchema(recordName);
    for (Schema writer : SchemaHistory.load(recordName).versions()) {
      SchemaCompatibility.SchemaPairCompatibility result =
          SchemaCompatibility.checkReaderWriterCompatibility(current, writer);
      assertEquals(SchemaCompatibilityType.COMPATIBLE, result.getType(), result.getDescription());
    }
  }

  @ParameterizedTest
  @ValueSource(strings = {"InferenceRequest", "InferenceResponse"})
  void currentSchemaIsTheNewestRecordedVersion(String recordName) {
    SchemaHistory history = SchemaHistory.load(recordName);
    assertEquals(
        SchemaHistory.fingerprint(history.latest()),
        SchemaHistory.fingerprint(currentSchema(recordName)),
        "src/main/avro/"
            + recordName
            + ".avsc changed: copy it to src/main/resources/io/instructblip/schema/history/"
            + recordName
            + ".v"
            + (history.versions().size() + 1)
            + ".avsc");
  }

  @ParameterizedTest
  @ValueSource(strings = {"InferenceRequest", "InferenceResponse"})
  void everyFieldIsDocumented(String recordName) {
    List<String> undocumented = new ArrayList<>();
    collectUndocumented(currentSchema(recordName), undocumented, new ArrayList<>());
    assertEquals(List.of(), undocumented);
  }

  @Test
  void missingHistoryIsAnErrorThatNamesTheResource() {
    IllegalStateException e =
        assertThrows(IllegalStateException.class, () -> SchemaHistory.load("NoSuchRecord"));
    assertEquals(
        "no schema history for NoSuchRecord: expected the resource"
            + " io/instructblip/schema/history/NoSuchRecord.v1.avsc on the classpath",
        e.getMessage());
  }

  @Test
  void historyStoreResolvesV1Fingerprint() {
    SchemaHistory history = SchemaHistory.load("InferenceRequest");
    Schema v1 = history.versions().get(0);
    assertNotNull(history.toSchemaStore().findByFingerprint(SchemaHistory.fingerprint(v1)));
    assertEquals("InferenceRequest", history.recordName());
  }

  private static Schema currentSchema(String recordName) {
    return recordName.equals("InferenceRequest")
        ? InferenceRequest.getClassSchema()
        : InferenceResponse.getClassSchema();
  }

  private static void collectUndocumented(Schema schema, List<String> out, List<String> seen) {
    switch (schema.getType()) {
      case RECORD:
        if (seen.contains(schema.getFullName())) {
          return;
        }
        seen.add(schema.getFullName());
        for (Schema.Field field : schema.getFields()) {
          if (field.doc() == null || field.doc().isBlank()) {
            out.add(schema.getName() + "." + field.name());
          }
          collectUndocumented(field.schema(), out, seen);
        }
        return;
      case UNION:
        schema.getTypes().forEach(type -> collectUndocumented(type, out, seen));
        return;
      case ARRAY:
        collectUndocumented(schema.getElementType(), out, seen);
        return;
      case MAP:
        collectUndocumented(schema.getValueType(), out, seen);
        return;
      default:
        return;
    }
  }

  private static byte[] resource(String name) throws IOException {
    try (InputStream in = SchemaHistoryTest.class.getResourceAsStream(name)) {
      assertNotNull(in, name);
      byte[] bytes = in.readAllBytes();
      assertFalse(bytes.length == 0);
      assertTrue((bytes[0] & 0xFF) == 0xC3);
      return bytes;
    }
  }
}
