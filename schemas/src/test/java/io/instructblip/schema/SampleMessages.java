package io.instructblip.schema;

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
import java.nio.ByteBuffer;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/** Messages with every field set (and with only the required ones) for round-trip tests. */
final class SampleMessages {
  static final byte[] IMAGE_BYTES = {(byte) 0xFF, (byte) 0xD8, (byte) 0xFF, 0x00, 0x10, 0x7F};

  private SampleMessages() {}

  static InferenceRequest fullRequest() {
    return InferenceRequest.newBuilder()
        .setId("req-42")
        .setImages(
            List.of(
                ImageInput.newBuilder()
                    .setBytes(ByteBuffer.wrap(IMAGE_BYTES))
                    .setMimeType("image/jpeg")
                    .build(),
                ImageInput.newBuilder().setUri("file:///data/frames/0002.png").build()))
        .setInstruction("What is happening in this video? Answer in one sentence.")
        .setMode(RequestMode.RANK)
        .setCandidates(List.of("a dog runs", "a cat sleeps", "ünïcödé ✓"))
        .setGeneration(
            GenerationOptions.newBuilder()
                .setMaxNewTokens(64)
                .setMinNewTokens(2)
                .setNumBeams(5)
                .setLengthPenalty(1.0)
                .setRepetitionPenalty(1.5)
                .setDoSample(true)
                .setTemperature(0.7)
                .setTopK(50)
                .setTopP(0.9)
                .setSeed(-1234567890123L)
                .setNumReturnSequences(3)
                .build())
        .setDeadlineMs(1_790_000_000_000L)
        .setModel("instructblip-vicuna-7b")
        .setMetadata(orderedMap("tenant", "acme", "trace", "abc-123"))
        .setCreatedAtMs(1_789_999_999_000L)
        .build();
  }

  static InferenceRequest minimalRequest() {
    return InferenceRequest.newBuilder()
        .setId("req-1")
        .setImages(List.of(ImageInput.newBuilder().setUri("file:///data/cat.jpg").build()))
        .setInstruction("Describe this image.")
        .build();
  }

  static InferenceResponse fullResponse() {
    return InferenceResponse.newBuilder()
        .setId("req-42")
        .setStatus(ResponseStatus.OK)
        .setText("a dog runs")
        .setTokenIds(List.of(263, 11203, 6057, 2))
        .setCandidates(
            List.of(
                RankedCandidate.newBuilder()
                    .setText("a dog runs")
                    .setSumLogprob(-1.25)
                    .setMeanLogprob(-0.4166666666666667)
                    .build(),
                RankedCandidate.newBuilder()
                    .setText("a cat sleeps")
                    .setSumLogprob(Double.NEGATIVE_INFINITY)
                    .setMeanLogprob(Double.NEGATIVE_INFINITY)
                    .build()))
        .setFinishReason(FinishReason.RANK)
        .setPromptTokens(140)
        .setGeneratedTokens(4)
        .setTimings(
            StageTimings.newBuilder()
                .setQueue(1200L)
                .setPreprocess(3400L)
                .setVisionEncoder(56000L)
                .setQformer(7800L)
                .setLlm(910000L)
                .setTotal(978400L)
                .build())
        .setModel("instructblip-vicuna-7b")
        .setError(ErrorInfo.newBuilder().setCode("NONE").setMessage("not an error").build())
        .setMetadata(orderedMap("tenant", "acme", "trace", "abc-123"))
        .setCompletedAtMs(1_790_000_000_123L)
        .build();
  }

  static InferenceResponse minimalResponse() {
    return InferenceResponse.newBuilder()
        .setId("req-1")
        .setStatus(ResponseStatus.TIMEOUT)
        .setCompletedAtMs(5L)
        .build();
  }

  private static Map<String, String> orderedMap(String... keysAndValues) {
    Map<String, String> map = new LinkedHashMap<>();
    for (int i = 0; i < keysAndValues.length; i += 2) {
      map.put(keysAndValues[i], keysAndValues[i + 1]);
    }
    return map;
  }
}
