package io.instructblip.schema;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import org.apache.avro.Schema;
import org.apache.avro.generic.GenericData;
import org.apache.avro.generic.GenericRecord;
import org.apache.avro.generic.GenericRecordBuilder;
import org.apache.avro.message.BinaryMessageEncoder;

/**
 * Writes the committed v1 fixtures ({@code src/test/resources/io/instructblip/schema/v1/*.bin}):
 * one request and one response, encoded with the v1 writer schemas from the history resources (not
 * the generated classes, so the fixtures stay v1 whatever the current schema becomes). Run once,
 * from the {@code schemas} folder; the files are committed and must not be regenerated.
 *
 * <pre>
 * java -cp target/classes:target/test-classes:$(deps) io.instructblip.schema.V1FixtureWriter
 * </pre>
 */
final class V1FixtureWriter {
  static final String REQUEST_RESOURCE = "/io/instructblip/schema/v1/InferenceRequest.v1.bin";
  static final String RESPONSE_RESOURCE = "/io/instructblip/schema/v1/InferenceResponse.v1.bin";

  private V1FixtureWriter() {}

  public static void main(String[] args) throws IOException {
    Path root = Path.of("src/test/resources");
    write(root, REQUEST_RESOURCE, SchemaHistory.load("InferenceRequest").versions().get(0), true);
    write(
        root, RESPONSE_RESOURCE, SchemaHistory.load("InferenceResponse").versions().get(0), false);
  }

  private static void write(Path root, String resource, Schema v1, boolean request)
      throws IOException {
    byte[] bytes = encode(v1, request ? request(v1) : response(v1));
    Path file = root.resolve(resource.substring(1));
    Files.createDirectories(file.getParent());
    Files.write(file, bytes);
    System.out.println("wrote " + file + " (" + bytes.length + " bytes)");
  }

  static byte[] encode(Schema writer, GenericRecord record) throws IOException {
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    new BinaryMessageEncoder<GenericRecord>(GenericData.get(), writer).encode(record, out);
    return out.toByteArray();
  }

  static GenericRecord request(Schema v1) {
    Schema image = v1.getField("images").schema().getElementType();
    Schema generation = v1.getField("generation").schema().getTypes().get(1);
    Schema mode = v1.getField("mode").schema();
    return new GenericRecordBuilder(v1)
        .set("id", "v1-request")
        .set(
            "images",
            List.of(
                new GenericRecordBuilder(image)
                    .set("bytes", ByteBuffer.wrap(new byte[] {(byte) 0x89, 'P', 'N', 'G'}))
                    .set("mime_type", "image/png")
                    .build(),
                new GenericRecordBuilder(image).set("uri", "file:///data/v1.jpg").build()))
        .set("instruction", "Which animal is this?")
        .set("mode", new GenericData.EnumSymbol(mode, "RANK"))
        .set("candidates", List.of("cat", "dog"))
        .set(
            "generation",
            new GenericRecordBuilder(generation)
                .set("max_new_tokens", 10)
                .set("min_new_tokens", 1)
                .set("num_beams", 5)
                .set("length_penalty", 1.0)
                .set("repetition_penalty", 1.5)
                .set("do_sample", false)
                .set("temperature", 1.0)
                .set("top_k", 0)
                .set("top_p", 0.9)
                .set("seed", 7L)
                .set("num_return_sequences", 1)
                .build())
        .set("deadline_ms", 1_800_000_000_000L)
        .set("model", "tiny")
        .set("metadata", Map.of("source", "v1"))
        .set("created_at_ms", 1_799_999_999_000L)
        .build();
  }

  static GenericRecord response(Schema v1) {
    Schema candidate = v1.getField("candidates").schema().getElementType();
    Schema finishReason = v1.getField("finish_reason").schema().getTypes().get(1);
    Schema timings = v1.getField("timings").schema();
    Schema error = v1.getField("error").schema().getTypes().get(1);
    return new GenericRecordBuilder(v1)
        .set("id", "v1-response")
        .set("status", new GenericData.EnumSymbol(v1.getField("status").schema(), "OK"))
        .set("text", "cat")
        .set("token_ids", List.of(6635, 2))
        .set(
            "candidates",
            List.of(
                new GenericRecordBuilder(candidate)
                    .set("text", "cat")
                    .set("sum_logprob", -0.5)
                    .set("mean_logprob", -0.25)
                    .build(),
                new GenericRecordBuilder(candidate)
                    .set("text", "dog")
                    .set("sum_logprob", -3.0)
                    .set("mean_logprob", -1.5)
                    .build()))
        .set("finish_reason", new GenericData.EnumSymbol(finishReason, "RANK"))
        .set("prompt_tokens", 40)
        .set("generated_tokens", 2)
        .set(
            "timings",
            new GenericRecordBuilder(timings)
                .set("queue", 1L)
                .set("preprocess", 2L)
                .set("vision_encoder", 3L)
                .set("qformer", 4L)
                .set("llm", 5L)
                .set("total", 15L)
                .build())
        .set("model", "tiny")
        .set(
            "error",
            new GenericRecordBuilder(error).set("code", "NONE").set("message", "none").build())
        .set("metadata", Map.of("source", "v1"))
        .set("completed_at_ms", 1_800_000_000_001L)
        .build();
  }
}
