package io.instructblip.flink.pipeline;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;

import io.instructblip.engine.api.EngineRequest;
import io.instructblip.engine.api.EngineResult;
import io.instructblip.engine.api.GenerationOverrides;
import io.instructblip.engine.api.GenerationParameter;
import io.instructblip.engine.api.StageTimings;
import io.instructblip.engine.api.TaskMode;
import io.instructblip.engine.generate.FinishReason;
import io.instructblip.engine.generate.GenerationParams;
import io.instructblip.engine.generate.RankedCandidate;
import io.instructblip.engine.inference.PreparedRequest;
import io.instructblip.engine.model.FloatTensor;
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

  /**
   * StageWire writes the generation parameters in the specification's order: a parameter added to
   * {@link GenerationParameter} changes the format of checkpoints, so it needs a new {@code
   * StageWire.VERSION} (and this count raised with it).
   */
  @Test
  void theWireFormatVersionKnowsEveryGenerationParameter() {
    assertEquals(2, StageWire.VERSION);
    assertEquals(11, GenerationParameter.values().length);
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
            new StageTimings(5, 6, 7, 8));
    StageAnswer answer = new StageAnswer(result, new byte[] {3});
    DataOutputSerializer out = new DataOutputSerializer(64);
    StageSerializers.AnswerSerializer.INSTANCE.serialize(answer, out);
    StageAnswer back =
        StageSerializers.AnswerSerializer.INSTANCE.deserialize(
            new DataInputDeserializer(out.getCopyOfBuffer()));
    assertEquals(result, back.result());
    assertArrayEquals(new byte[] {3}, back.context());
  }

  /** A string of {@code chars} characters, 3 UTF-8 bytes each: far over writeUTF's 65,535 bytes. */
  private static String huge(char c, int chars) {
    return String.valueOf(c).repeat(chars);
  }

  @Test
  void stringsOfAnySizeSurviveTheSerializerAndTheCheckpointedForm() throws IOException {
    String id = huge('\u20ac', 70_000);
    String instruction = huge('\u4e2d', 70_000);
    String candidate = huge('x', 70_000);
    EngineRequest big =
        new EngineRequest(
            id,
            List.of(new byte[] {1}),
            instruction,
            TaskMode.RANK,
            List.of(candidate, "no"),
            GenerationOverrides.builder().build());
    StageItem item = StageItem.of(big, 5L, new byte[] {9});
    DataOutputSerializer out = new DataOutputSerializer(64);
    StageSerializers.ItemSerializer.INSTANCE.serialize(item, out);
    StageItem back =
        StageSerializers.ItemSerializer.INSTANCE.deserialize(
            new DataInputDeserializer(out.getCopyOfBuffer()));
    assertEquals(id, back.id());
    assertEquals(instruction, back.request().instruction());
    assertEquals(candidate, back.request().candidates().get(0));

    StageItemCodec codec = new StageItemCodec();
    StageItem restored = codec.fromInFlight(codec.toInFlight(item));
    assertEquals(id, restored.id());
    assertEquals(instruction, restored.request().instruction());

    EngineResult result =
        new EngineResult(
            id,
            instruction,
            List.of(5),
            FinishReason.RANK,
            List.of(new RankedCandidate(0, candidate, List.of(5), -1, -1)),
            List.of(),
            List.of(),
            StageTimings.ZERO);
    DataOutputSerializer answerOut = new DataOutputSerializer(64);
    StageSerializers.AnswerSerializer.INSTANCE.serialize(
        new StageAnswer(result, new byte[0]), answerOut);
    assertEquals(
        result,
        StageSerializers.AnswerSerializer.INSTANCE
            .deserialize(new DataInputDeserializer(answerOut.getCopyOfBuffer()))
            .result());
  }

  @Test
  void checkpointsOfTheFirstFormatStillRestore() throws IOException {
    // Version 1 wrote strings with DataOutput.writeUTF; a checkpoint taken before still restores.
    java.io.ByteArrayOutputStream bytes = new java.io.ByteArrayOutputStream();
    try (java.io.DataOutputStream out = new java.io.DataOutputStream(bytes)) {
      out.writeInt(1);
      out.writeUTF("old-1");
      out.writeInt(1);
      out.writeInt(1);
      out.write(7);
      out.writeBoolean(true);
      out.writeUTF("What is it?");
      out.writeUTF("GENERATE");
      out.writeInt(0);
      for (int i = 0; i < 3; i++) {
        out.writeBoolean(false); // max, min new tokens, num beams
      }
      out.writeBoolean(false); // length penalty
      out.writeBoolean(false); // repetition penalty
      out.writeByte(-1); // do_sample
      out.writeBoolean(false); // temperature
      out.writeBoolean(false); // top_k
      out.writeBoolean(false); // top_p
      out.writeBoolean(false); // seed
      out.writeBoolean(false); // num_return_sequences
      out.writeInt(2);
      out.write(new byte[] {4, 4});
    }
    StageItem back =
        new StageItemCodec().fromInFlight(new InFlight("old-1", 77L, bytes.toByteArray()));
    assertEquals("old-1", back.id());
    assertEquals("What is it?", back.request().instruction());
    assertArrayEquals(new byte[] {4, 4}, back.context());
  }
}
