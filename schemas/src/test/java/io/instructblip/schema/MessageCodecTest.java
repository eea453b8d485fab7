package io.instructblip.schema;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.instructblip.schema.avro.GenerationOptions;
import io.instructblip.schema.avro.ImageInput;
import io.instructblip.schema.avro.InferenceRequest;
import io.instructblip.schema.avro.InferenceResponse;
import io.instructblip.schema.avro.RequestMode;
import io.instructblip.schema.avro.ResponseStatus;
import io.instructblip.schema.avro.StageTimings;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

class MessageCodecTest {
  private final RegistryFramingTest.InMemoryRegistry registry =
      new RegistryFramingTest.InMemoryRegistry();
  private final MessageCodec<InferenceRequest> requests =
      MessageCodec.requests().withRegistry(registry, "requests-value");
  private final MessageCodec<InferenceResponse> responses =
      MessageCodec.responses().withRegistry(registry, "responses-value");

  @Test
  void fullRequestSurvivesAvroRoundTrip() throws Exception {
    InferenceRequest request = SampleMessages.fullRequest();
    assertEquals(request, requests.decode(requests.encode(request)));
  }

  @Test
  void fullRequestSurvivesJsonRoundTrip() throws Exception {
    InferenceRequest request = SampleMessages.fullRequest();
    assertEquals(request, requests.decode(requests.encode(request, WireFormat.JSON)));
  }

  @Test
  void minimalRequestSurvivesBothRoundTripsWithDefaults() throws Exception {
    InferenceRequest request = SampleMessages.minimalRequest();
    for (WireFormat format : WireFormat.values()) {
      InferenceRequest decoded = requests.decode(requests.encode(request, format));
      assertEquals(request, decoded, format.name());
      assertEquals(RequestMode.GENERATE, decoded.getMode());
      assertEquals(List.of(), decoded.getCandidates());
      assertEquals(Map.of(), decoded.getMetadata());
      assertNull(decoded.getGeneration());
      assertNull(decoded.getDeadlineMs());
    }
  }

  @Test
  void fullResponseSurvivesAvroRoundTrip() throws Exception {
    InferenceResponse response = SampleMessages.fullResponse();
    assertEquals(response, responses.decode(responses.encode(response)));
  }

  @Test
  void fullResponseSurvivesJsonRoundTrip() throws Exception {
    InferenceResponse response = SampleMessages.fullResponse();
    assertEquals(response, responses.decode(responses.encode(response, WireFormat.JSON)));
  }

  @Test
  void minimalResponseSurvivesBothRoundTripsWithDefaults() throws Exception {
    InferenceResponse response = SampleMessages.minimalResponse();
    for (WireFormat format : WireFormat.values()) {
      InferenceResponse decoded = responses.decode(responses.encode(response, format));
      assertEquals(response, decoded, format.name());
      assertEquals(List.of(), decoded.getTokenIds());
      assertEquals(StageTimings.newBuilder().build(), decoded.getTimings());
      assertEquals(0, decoded.getPromptTokens());
      assertNull(decoded.getError());
    }
  }

  @Test
  void avroEncodingStartsWithMarkerAndCurrentSchemaFingerprint() {
    byte[] encoded = requests.encode(SampleMessages.minimalRequest());
    long fingerprint = SchemaHistory.fingerprint(InferenceRequest.getClassSchema());
    byte[] header = new byte[10];
    header[0] = (byte) 0xC3;
    header[1] = 0x01;
    for (int i = 0; i < 8; i++) {
      header[2 + i] = (byte) (fingerprint >>> (8 * i));
    }
    assertArrayEquals(header, Arrays.copyOf(encoded, 10));
  }

  @Test
  void requestJsonHasSchemaFieldNamesAndLeavesOutNulls() {
    InferenceRequest request =
        InferenceRequest.newBuilder(SampleMessages.minimalRequest())
            .setImages(
                List.of(
                    ImageInput.newBuilder()
                        .setBytes(ByteBuffer.wrap(new byte[] {1, 2, 3}))
                        .setMimeType("image/png")
                        .build()))
            .setGeneration(GenerationOptions.newBuilder().setNumBeams(1).setTopP(0.5).build())
            .setMetadata(Map.of("k", "v"))
            .build();
    assertEquals(
        "{\"id\":\"req-1\",\"images\":[{\"base64\":\"AQID\",\"mime_type\":\"image/png\"}],"
            + "\"instruction\":\"Describe this image.\",\"mode\":\"GENERATE\",\"candidates\":[],"
            + "\"generation\":{\"num_beams\":1,\"top_p\":0.5},\"metadata\":{\"k\":\"v\"}}",
        new String(requests.encode(request, WireFormat.JSON), StandardCharsets.UTF_8));
  }

  @Test
  void responseJsonHasSchemaFieldNamesAndWritesNonFiniteScoresAsStrings() {
    InferenceResponse response = SampleMessages.fullResponse();
    assertEquals(
        "{\"id\":\"req-42\",\"status\":\"OK\",\"text\":\"a dog runs\","
            + "\"token_ids\":[263,11203,6057,2],\"candidates\":["
            + "{\"text\":\"a dog runs\",\"sum_logprob\":-1.25,\"mean_logprob\":-0.4166666666666667},"
            + "{\"text\":\"a cat sleeps\",\"sum_logprob\":\"-Infinity\",\"mean_logprob\":\"-Infinity\"}],"
            + "\"finish_reason\":\"RANK\",\"prompt_tokens\":140,\"generated_tokens\":4,"
            + "\"timings\":{\"queue\":1200,\"preprocess\":3400,\"vision_encoder\":56000,"
            + "\"qformer\":7800,\"llm\":910000,\"total\":978400},"
            + "\"model\":\"instructblip-vicuna-7b\","
            + "\"error\":{\"code\":\"NONE\",\"message\":\"not an error\"},"
            + "\"metadata\":{\"tenant\":\"acme\",\"trace\":\"abc-123\"},"
            + "\"completed_at_ms\":1790000000123}",
        new String(responses.encode(response, WireFormat.JSON), StandardCharsets.UTF_8));
  }

  @Test
  void jsonAcceptsNullForOptionalFieldsAndLeadingWhitespace() throws Exception {
    String json =
        " \r\n\t{\"id\":\"r\",\"images\":[{\"uri\":\"file:///a.jpg\",\"mime_type\":null}],"
            + "\"instruction\":\"Describe this image.\",\"mode\":null,\"candidates\":null,"
            + "\"generation\":{\"top_k\":null},\"deadline_ms\":null,\"model\":null,"
            + "\"metadata\":null,\"created_at_ms\":null}";
    InferenceRequest decoded = requests.decode(json.getBytes(StandardCharsets.UTF_8));
    InferenceRequest expected =
        InferenceRequest.newBuilder()
            .setId("r")
            .setImages(List.of(ImageInput.newBuilder().setUri("file:///a.jpg").build()))
            .setInstruction("Describe this image.")
            .setGeneration(GenerationOptions.newBuilder().build())
            .build();
    assertEquals(expected, decoded);
  }

  @Test
  void nonFiniteScoresReadFromJsonStrings() throws Exception {
    InferenceResponse decoded =
        responses.decode(
            ("{\"id\":\"r\",\"status\":\"OK\",\"completed_at_ms\":7,\"candidates\":["
                    + "{\"text\":\"x\",\"sum_logprob\":\"NaN\",\"mean_logprob\":\"Infinity\"}]}")
                .getBytes(StandardCharsets.UTF_8));
    assertTrue(Double.isNaN(decoded.getCandidates().get(0).getSumLogprob()));
    assertEquals(Double.POSITIVE_INFINITY, decoded.getCandidates().get(0).getMeanLogprob());
  }

  @Test
  void responseWithOnlyRequiredJsonFieldsGetsDefaults() throws Exception {
    InferenceResponse decoded =
        responses.decode(
            "{\"id\":\"r\",\"status\":\"ERROR\",\"completed_at_ms\":7}"
                .getBytes(StandardCharsets.UTF_8));
    assertEquals(
        InferenceResponse.newBuilder()
            .setId("r")
            .setStatus(ResponseStatus.ERROR)
            .setCompletedAtMs(7L)
            .build(),
        decoded);
  }
}
