package io.instructblip.schema;

import com.fasterxml.jackson.core.JsonGenerator;
import io.instructblip.schema.avro.ErrorInfo;
import io.instructblip.schema.avro.FinishReason;
import io.instructblip.schema.avro.InferenceResponse;
import io.instructblip.schema.avro.RankedCandidate;
import io.instructblip.schema.avro.ResponseStatus;
import io.instructblip.schema.avro.StageTimings;
import java.io.IOException;
import java.util.ArrayList;
import java.util.List;

/** JSON form of {@link InferenceResponse}. */
final class ResponseJson implements JsonMapping<InferenceResponse> {
  static final List<String> FIELDS =
      List.of(
          "id",
          "status",
          "text",
          "token_ids",
          "candidates",
          "finish_reason",
          "prompt_tokens",
          "generated_tokens",
          "timings",
          "model",
          "error",
          "metadata",
          "completed_at_ms");
  static final List<String> CANDIDATE_FIELDS = List.of("text", "sum_logprob", "mean_logprob");
  static final List<String> TIMING_FIELDS =
      List.of("queue", "preprocess", "vision_encoder", "qformer", "llm", "total");
  static final List<String> ERROR_FIELDS = List.of("code", "message");

  @Override
  public InferenceResponse read(JsonObjectReader in) throws MessageFormatException {
    in.rejectUnknownFields(FIELDS);
    String id = in.requiredString("id");
    ResponseStatus status = in.requiredEnum("status", ResponseStatus.class);
    List<RankedCandidate> candidates = new ArrayList<>();
    for (JsonObjectReader.Element element : in.optionalArray("candidates")) {
      JsonObjectReader candidate = element.asObject().rejectUnknownFields(CANDIDATE_FIELDS);
      candidates.add(
          RankedCandidate.newBuilder()
              .setText(candidate.requiredString("text"))
              .setSumLogprob(candidate.requiredDouble("sum_logprob"))
              .setMeanLogprob(candidate.requiredDouble("mean_logprob"))
              .build());
    }
    JsonObjectReader timings = in.optionalObject("timings");
    JsonObjectReader error = in.optionalObject("error");
    return InferenceResponse.newBuilder()
        .setId(id)
        .setStatus(status)
        .setText(in.optionalString("text"))
        .setTokenIds(in.intList("token_ids"))
        .setCandidates(candidates)
        .setFinishReason(in.optionalEnum("finish_reason", FinishReason.class))
        .setPromptTokens(in.intOrDefault("prompt_tokens", 0))
        .setGeneratedTokens(in.intOrDefault("generated_tokens", 0))
        .setTimings(readTimings(timings))
        .setModel(in.optionalString("model"))
        .setError(error == null ? null : readError(error))
        .setMetadata(in.stringMap("metadata"))
        .setCompletedAtMs(in.requiredLong("completed_at_ms"))
        .build();
  }

  private static StageTimings readTimings(JsonObjectReader in) throws MessageFormatException {
    StageTimings.Builder timings = StageTimings.newBuilder();
    if (in == null) {
      return timings.build();
    }
    in.rejectUnknownFields(TIMING_FIELDS);
    return timings
        .setQueue(in.optionalLong("queue"))
        .setPreprocess(in.optionalLong("preprocess"))
        .setVisionEncoder(in.optionalLong("vision_encoder"))
        .setQformer(in.optionalLong("qformer"))
        .setLlm(in.optionalLong("llm"))
        .setTotal(in.optionalLong("total"))
        .build();
  }

  private static ErrorInfo readError(JsonObjectReader in) throws MessageFormatException {
    in.rejectUnknownFields(ERROR_FIELDS);
    return ErrorInfo.newBuilder()
        .setCode(in.requiredString("code"))
        .setMessage(in.requiredString("message"))
        .build();
  }

  @Override
  public void toJson(InferenceResponse response, JsonGenerator out) throws IOException {
    out.writeStartObject();
    out.writeStringField("id", response.getId());
    out.writeStringField("status", response.getStatus().name());
    JsonWriting.writeIfNotNull(out, "text", response.getText());
    out.writeArrayFieldStart("token_ids");
    for (int tokenId : response.getTokenIds()) {
      out.writeNumber(tokenId);
    }
    out.writeEndArray();
    out.writeArrayFieldStart("candidates");
    for (RankedCandidate candidate : response.getCandidates()) {
      out.writeStartObject();
      out.writeStringField("text", candidate.getText());
      out.writeNumberField("sum_logprob", candidate.getSumLogprob());
      out.writeNumberField("mean_logprob", candidate.getMeanLogprob());
      out.writeEndObject();
    }
    out.writeEndArray();
    if (response.getFinishReason() != null) {
      out.writeStringField("finish_reason", response.getFinishReason().name());
    }
    out.writeNumberField("prompt_tokens", response.getPromptTokens());
    out.writeNumberField("generated_tokens", response.getGeneratedTokens());
    StageTimings timings = response.getTimings();
    out.writeObjectFieldStart("timings");
    JsonWriting.writeIfNotNull(out, "queue", timings.getQueue());
    JsonWriting.writeIfNotNull(out, "preprocess", timings.getPreprocess());
    JsonWriting.writeIfNotNull(out, "vision_encoder", timings.getVisionEncoder());
    JsonWriting.writeIfNotNull(out, "qformer", timings.getQformer());
    JsonWriting.writeIfNotNull(out, "llm", timings.getLlm());
    JsonWriting.writeIfNotNull(out, "total", timings.getTotal());
    out.writeEndObject();
    JsonWriting.writeIfNotNull(out, "model", response.getModel());
    ErrorInfo error = response.getError();
    if (error != null) {
      out.writeObjectFieldStart("error");
      out.writeStringField("code", error.getCode());
      out.writeStringField("message", error.getMessage());
      out.writeEndObject();
    }
    JsonWriting.writeStringMap(out, "metadata", response.getMetadata());
    out.writeNumberField("completed_at_ms", response.getCompletedAtMs());
    out.writeEndObject();
  }
}
