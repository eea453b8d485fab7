package io.instructblip.job.submit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import io.instructblip.schema.avro.ImageInput;
import io.instructblip.schema.avro.InferenceRequest;
import java.io.OutputStream;
import java.io.PrintStream;
import java.nio.ByteBuffer;
import java.util.List;
import org.junit.jupiter.api.Test;

/** Requests built elsewhere: sent as they are, and not mixed with an instruction and images. */
class SubmitOptionsTest {
  private static final InferenceRequest GIVEN =
      InferenceRequest.newBuilder()
          .setId("q0")
          .setImages(
              List.of(ImageInput.newBuilder().setBytes(ByteBuffer.wrap(new byte[] {1})).build()))
          .setInstruction("How many squares are there?")
          .build();

  @Test
  void givenRequestsAreSentAsTheyAre() {
    SubmitOptions options =
        SubmitOptions.builder().bootstrapServers("x:1").requests(List.of(GIVEN)).build();
    PrintStream discard = new PrintStream(OutputStream.nullOutputStream());
    assertEquals(List.of(GIVEN), new SubmitClient(options, discard, discard).buildRequests());
  }

  @Test
  void givenRequestsWithAnInstructionAreRefused() {
    IllegalArgumentException e =
        assertThrows(
            IllegalArgumentException.class,
            () ->
                SubmitOptions.builder()
                    .bootstrapServers("x:1")
                    .requests(List.of(GIVEN))
                    .instruction("What?")
                    .build());
    assertEquals(
        "give either the requests to send or the instruction and images to build them from,"
            + " not both",
        e.getMessage());
  }
}
