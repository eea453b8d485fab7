package io.instructblip.flink.pipeline;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;

import io.instructblip.engine.EngineRequest;
import io.instructblip.engine.EngineResult;
import io.instructblip.engine.ErrorCode;
import io.instructblip.engine.GenerationOverrides;
import io.instructblip.engine.StageTimings;
import io.instructblip.engine.TaskMode;
import io.instructblip.engine.generate.FinishReason;
import io.instructblip.engine.generate.GenerationParams;
import io.instructblip.engine.generate.RankedCandidate;
import io.instructblip.engine.model.FloatTensor;
import io.instructblip.engine.pipeline.PreparedRequest;
import io.instructblip.flink.InFlight;
import java.io.IOException;
import java.util.List;
import org.apache.flink.core.memory.DataInputDeserializer;
import org.apache.flink.core.memory.DataOutputSerializer;
import org.junit.jupiter.api.Test;

/** Round trips of the stage types through their Flink serializers and the checkpoint codec. */
class StageSerializersTest {

  private static EngineRequest request() {
    return new EngineRequest(
        "req-1",
        List.of(new byte[] {1, 2, 3}, new byte[] {4}),
        "What is it?",
        TaskMode.RANK,
        List.of("yes", "no"),
        GenerationOverrides.builder().numBeams(3).doSample(false).seed(9L).topP(0.5).build());
  }

  private static PreparedRequest prepared() {
    GenerationParams params = GenerationParams.builder().numBeams(3).eosTokenIds(2).seed(9).build();
    return new PreparedRequest(
        "req-1",
        TaskMode.RANK,
        2,
        new float[] {0.5f, -1f},
        new long[] {2, 7, 3},
        new long[] {2, 9},
        params,
        List.of("yes", "no"),
        List.of(new long[] {5, 2}, new long[] {6, 2}),
        new StageTimings(1, 2, 3, 4));
  }

  @Test
  void anItemWithEveryPayloadSurvivesTheSerializer() throws IOException {
    FloatTensor embeds = new FloatTensor(new int[] {2, 1, 2}, new float[] {1, 2, 3, 4});
    StageItem item = new StageItem(request(), 1234L, new byte[] {7, 7}, prepared(), embeds, null);
    DataOutputSerializer out = new DataOutputSerializer(64);
    StageSerializers.ItemSerializer.INSTANCE.serialize(item, out);
    StageItem back =
        StageSerializers.ItemSerializer.INSTANCE.deserialize(
            new DataInputDeserializer(out.getCopyOfBuffer()));
    assertEquals("req-1", back.id());
    assertEquals(1234L, back.deadlineMillis());
    assertArrayEquals(new byte[] {7, 7}, back.context());
    assertEquals(request().overrides(), back.request().overrides());
    assertEquals(List.of("yes", "no"), back.request().candidates());
    assertArrayEquals(new byte[] {1, 2, 3}, back.request().images().get(0));
    assertEquals(prepared().params(), back.prepared().params());
    assertArrayEquals(new long[] {6, 2}, back.prepared().candidateIds().get(1));
    assertEquals(new StageTimings(1, 2, 3, 4), back.prepared().timings());
    assertEquals(embeds, back.imageEmbeds());
    assertNull(back.queryOutputs());
  }

  @Test
  void theCheckpointedFormKeepsOnlyTheRequest() {
    StageItem item =
        new StageItem(request(), 99L, new byte[] {1}, prepared(), null, FloatTensor.zeros(64, 32));
    StageItemCodec codec = new StageItemCodec();
    InFlight inFlight = codec.toInFlight(item);
    assertEquals("req-1", inFlight.requestId());
    assertEquals(99L, inFlight.deadlineMillis());
    StageItem back = codec.fromInFlight(inFlight);
    assertEquals(item.compact().request().instruction(), back.request().instruction());
    assertArrayEquals(new byte[] {1}, back.context());
    assertNull(back.prepared());
    assertNull(back.queryOutputs());
    // 64 x 32 floats of payload would be 8 KB: the compact form holds the request alone.
    assertEquals(
        true, inFlight.payload().length < 200, "compact size " + inFlight.payload().length);
  }

  @Test
  void anAnswerSurvivesTheSerializer() throws IOException {
    EngineResult result =
        new EngineResult(
            "a",
            "yes",
            List.of(5, 2),
            FinishReason.RANK,
            List.of(new RankedCandidate(0, "yes", List.of(5, 2), -1.5, -0.75)),
            List.of(2, 7, 3),
            List.of(2, 9),
            new StageTimings(5, 6, 7, 8),
            null,
            null);
    StageAnswer answer = new StageAnswer(result, new byte[] {3});
    DataOutputSerializer out = new DataOutputSerializer(64);
    StageSerializers.AnswerSerializer.INSTANCE.serialize(answer, out);
    StageAnswer back =
        StageSerializers.AnswerSerializer.INSTANCE.deserialize(
            new DataInputDeserializer(out.getCopyOfBuffer()));
    assertEquals(result, back.result());
    assertArrayEquals(new byte[] {3}, back.context());

    EngineResult failed =
        EngineResult.failed(
            "b",
            new io.instructblip.engine.EngineException(ErrorCode.MODEL_ERROR, "boom"),
            StageTimings.ZERO);
    out.clear();
    StageSerializers.AnswerSerializer.INSTANCE.serialize(new StageAnswer(failed, null), out);
    assertEquals(
        failed,
        StageSerializers.AnswerSerializer.INSTANCE
            .deserialize(new DataInputDeserializer(out.getCopyOfBuffer()))
            .result());
  }
}
