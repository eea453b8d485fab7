package io.instructblip.job.wiring;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;

import io.instructblip.job.kafka.RawHeader;
import java.io.ByteArrayOutputStream;
import java.io.DataOutputStream;
import java.io.IOException;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/** The response context's bytes: any string length, and the first encoding still read. */
class ResponseContextTest {

  @Test
  void metadataAndHeaderKeysOfAnyLengthRoundTrip() {
    String big = "\u20ac".repeat(70_000); // 210,000 UTF-8 bytes, over writeUTF's 65,535
    ResponseContext context =
        new ResponseContext(
            Map.of(big, big, "k", "\ud800 lone"),
            List.of(new RawHeader(big, new byte[] {1, 2}), new RawHeader("n", null)),
            5L,
            9L);
    ResponseContext back = ResponseContext.decode(context.encode());
    assertEquals(context.metadata(), back.metadata());
    assertEquals(big, back.headers().get(0).key());
    assertArrayEquals(new byte[] {1, 2}, back.headers().get(0).value());
    assertNull(back.headers().get(1).value());
    assertEquals(5L, back.createdAtMs());
    assertEquals(9L, back.receivedAtMs());
  }

  @Test
  void theFirstEncodingIsStillRead() throws IOException {
    ByteArrayOutputStream bytes = new ByteArrayOutputStream();
    try (DataOutputStream out = new DataOutputStream(bytes)) {
      out.writeInt(1);
      out.writeUTF("team");
      out.writeUTF("vision");
      out.writeInt(1);
      out.writeUTF("trace");
      out.writeInt(1);
      out.write(7);
      out.writeLong(Long.MIN_VALUE);
      out.writeLong(42L);
    }
    ResponseContext back = ResponseContext.decode(bytes.toByteArray());
    assertEquals(Map.of("team", "vision"), back.metadata());
    assertEquals("trace", back.headers().get(0).key());
    assertNull(back.createdAtMs());
    assertEquals(42L, back.receivedAtMs());
  }

  @Test
  void anAnswerWhoseContextCannotBeReadIsAnsweredWithAnInternalError() {
    io.instructblip.engine.api.EngineResult result =
        new io.instructblip.engine.api.EngineResult(
            "req-7",
            "x",
            java.util.List.of(),
            io.instructblip.engine.generate.FinishReason.EOS,
            java.util.List.of(),
            java.util.List.of(),
            java.util.List.of(),
            io.instructblip.engine.api.StageTimings.ZERO);
    byte[] corrupt = {0, 0, 0, 5, 1}; // claims 5 metadata entries, holds none
    var response =
        new RequestPipeline.Answered("m")
            .map(new io.instructblip.flink.pipeline.StageAnswer(result, corrupt))
            .response();
    assertEquals("req-7", response.getId());
    assertEquals("INTERNAL", response.getError().getCode());
  }
}
