package io.instructblip.schema;

import com.fasterxml.jackson.core.JsonGenerator;
import io.instructblip.schema.avro.GenerationOptions;
import io.instructblip.schema.avro.ImageInput;
import io.instructblip.schema.avro.InferenceRequest;
import io.instructblip.schema.avro.RequestMode;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.util.ArrayList;
import java.util.Base64;
import java.util.List;
import org.apache.avro.Schema;

/**
 * JSON form of {@link InferenceRequest}. Images are {@code {"uri": ...}} or {@code {"base64": ...}}
 * (standard base64 of the image file), each with an optional {@code mime_type}.
 */
final class RequestJson implements JsonMapping<InferenceRequest> {
  static final List<String> FIELDS =
      List.of(
          "id",
          "images",
          "instruction",
          "mode",
          "candidates",
          "generation",
          "deadline_ms",
          "model",
          "metadata",
          "created_at_ms");
  static final List<String> IMAGE_FIELDS = List.of("uri", "base64", "mime_type");

  /**
   * The generation parameters: the fields of the schema's {@code GenerationOptions}, read and
   * written by their Avro types (the engine's {@code GenerationParameter} specification has exactly
   * these fields, checked by a test in the job module).
   */
  static final List<String> GENERATION_FIELDS =
      GenerationOptions.getClassSchema().getFields().stream().map(Schema.Field::name).toList();

  @Override
  public InferenceRequest read(JsonObjectReader in) throws MessageFormatException {
    in.rejectUnknownFields(FIELDS);
    String id = in.requiredString("id");
    List<ImageInput> images = new ArrayList<>();
    for (JsonObjectReader.Element element : in.requiredArray("images")) {
      images.add(readImage(element));
    }
    String instruction = in.requiredString("instruction");
    RequestMode mode = in.optionalEnum("mode", RequestMode.class);
    JsonObjectReader generation = in.optionalObject("generation");
    return InferenceRequest.newBuilder()
        .setId(id)
        .setImages(images)
        .setInstruction(instruction)
        .setMode(mode == null ? RequestMode.GENERATE : mode)
        .setCandidates(in.stringList("candidates"))
        .setGeneration(generation == null ? null : readGeneration(generation))
        .setDeadlineMs(in.optionalLong("deadline_ms"))
        .setModel(in.optionalString("model"))
        .setMetadata(in.stringMap("metadata"))
        .setCreatedAtMs(in.optionalLong("created_at_ms"))
        .build();
  }

  private static ImageInput readImage(JsonObjectReader.Element element)
      throws MessageFormatException {
    JsonObjectReader image = element.asObject().rejectUnknownFields(IMAGE_FIELDS);
    String uri = image.optionalString("uri");
    String base64 = image.optionalString("base64");
    if ((uri == null) == (base64 == null)) {
      throw new MessageFormatException(
          MessageErrorCode.INVALID_FIELD,
          "field \""
              + element.path()
              + "\" must have exactly one of \"uri\" or \"base64\", "
              + (uri == null ? "it has neither" : "it has both"));
    }
    ByteBuffer bytes = null;
    if (base64 != null) {
      try {
        bytes = ByteBuffer.wrap(Base64.getDecoder().decode(base64));
      } catch (IllegalArgumentException e) {
        throw new MessageFormatException(
            MessageErrorCode.INVALID_FIELD,
            "field \""
                + image.pathOf("base64")
                + "\" is not standard base64 (RFC 4648, no line breaks): "
                + e.getMessage(),
            e);
      }
    }
    return ImageInput.newBuilder()
        .setBytes(bytes)
        .setUri(uri)
        .setMimeType(image.optionalString("mime_type"))
        .build();
  }

  private static GenerationOptions readGeneration(JsonObjectReader in)
      throws MessageFormatException {
    in.rejectUnknownFields(GENERATION_FIELDS);
    GenerationOptions options = GenerationOptions.newBuilder().build();
    for (Schema.Field field : GenerationOptions.getClassSchema().getFields()) {
      String name = field.name();
      options.put(
          field.pos(),
          switch (valueType(field)) {
            case INT -> in.optionalInt(name);
            case LONG -> in.optionalLong(name);
            case DOUBLE -> in.optionalDouble(name);
            case BOOLEAN -> in.optionalBoolean(name);
            default -> throw new IllegalStateException("no JSON form for generation field " + name);
          });
    }
    return options;
  }

  /** The type of an optional ({@code ["null", T]}) field. */
  private static Schema.Type valueType(Schema.Field field) {
    for (Schema branch : field.schema().getTypes()) {
      if (branch.getType() != Schema.Type.NULL) {
        return branch.getType();
      }
    }
    throw new IllegalStateException("generation field " + field.name() + " has no type");
  }

  private static void writeGeneration(GenerationOptions generation, JsonGenerator out)
      throws IOException {
    out.writeObjectFieldStart("generation");
    for (Schema.Field field : GenerationOptions.getClassSchema().getFields()) {
      Object value = generation.get(field.pos());
      if (value instanceof Boolean b) {
        out.writeBooleanField(field.name(), b);
      } else if (value instanceof Integer i) {
        JsonWriting.writeIfNotNull(out, field.name(), i);
      } else if (value instanceof Long l) {
        JsonWriting.writeIfNotNull(out, field.name(), l);
      } else if (value instanceof Double d) {
        JsonWriting.writeIfNotNull(out, field.name(), d);
      }
    }
    out.writeEndObject();
  }

  @Override
  public void toJson(InferenceRequest request, JsonGenerator out) throws IOException {
    out.writeStartObject();
    out.writeStringField("id", request.getId());
    out.writeArrayFieldStart("images");
    for (ImageInput image : request.getImages()) {
      out.writeStartObject();
      if (image.getUri() != null) {
        out.writeStringField("uri", image.getUri());
      }
      if (image.getBytes() != null) {
        out.writeStringField("base64", Base64.getEncoder().encodeToString(toArray(image)));
      }
      JsonWriting.writeIfNotNull(out, "mime_type", image.getMimeType());
      out.writeEndObject();
    }
    out.writeEndArray();
    out.writeStringField("instruction", request.getInstruction());
    out.writeStringField("mode", request.getMode().name());
    out.writeArrayFieldStart("candidates");
    for (String candidate : request.getCandidates()) {
      out.writeString(candidate);
    }
    out.writeEndArray();
    GenerationOptions generation = request.getGeneration();
    if (generation != null) {
      writeGeneration(generation, out);
    }
    JsonWriting.writeIfNotNull(out, "deadline_ms", request.getDeadlineMs());
    JsonWriting.writeIfNotNull(out, "model", request.getModel());
    JsonWriting.writeStringMap(out, "metadata", request.getMetadata());
    JsonWriting.writeIfNotNull(out, "created_at_ms", request.getCreatedAtMs());
    out.writeEndObject();
  }

  private static byte[] toArray(ImageInput image) {
    ByteBuffer view = image.getBytes().duplicate();
    byte[] bytes = new byte[view.remaining()];
    view.get(bytes);
    return bytes;
  }
}
