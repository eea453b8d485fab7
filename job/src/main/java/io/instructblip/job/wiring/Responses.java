package io.instructblip.job.wiring;

import io.instructblip.engine.api.EngineResult;
import io.instructblip.engine.api.ErrorCode;
import io.instructblip.engine.api.InputEcho;
import io.instructblip.engine.generate.RankedCandidate;
import io.instructblip.flink.StageFailure;
import io.instructblip.flink.pipeline.StageAnswer;
import io.instructblip.job.kafka.ResponseEnvelope;
import io.instructblip.job.parse.RequestParser;
import io.instructblip.schema.avro.ErrorInfo;
import io.instructblip.schema.avro.FinishReason;
import io.instructblip.schema.avro.InferenceResponse;
import io.instructblip.schema.avro.ResponseStatus;
import io.instructblip.schema.avro.StageTimings;
import java.time.Clock;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

/**
 * Builds the response record of an answered or failed request, with the request's metadata and
 * headers from its {@link ResponseContext}.
 */
public final class Responses {
  private final String model;
  private final Clock clock;

  public Responses(String model, Clock clock) {
    this.model = model;
    this.clock = clock;
  }

  /** The response of an answer from the llm stage. */
  public ResponseEnvelope answered(StageAnswer answer) {
    ResponseContext context = ResponseContext.decode(answer.context());
    EngineResult r = answer.result();
    long now = clock.millis();
    List<io.instructblip.schema.avro.RankedCandidate> candidates = new ArrayList<>();
    for (RankedCandidate c : r.candidates()) {
      candidates.add(
          io.instructblip.schema.avro.RankedCandidate.newBuilder()
              .setText(c.text())
              .setSumLogprob(c.sumLogprob())
              .setMeanLogprob(c.meanLogprob())
              .build());
    }
    io.instructblip.engine.api.StageTimings t = r.timings();
    InferenceResponse response =
        InferenceResponse.newBuilder()
            .setId(r.id())
            .setStatus(ResponseStatus.OK)
            .setText(r.text())
            .setTokenIds(new ArrayList<>(r.tokenIds()))
            .setCandidates(candidates)
            .setFinishReason(FinishReason.valueOf(r.finishReason().name()))
            .setPromptTokens(r.promptTokens())
            .setGeneratedTokens(r.generatedTokens())
            .setTimings(
                StageTimings.newBuilder()
                    .setQueue(queueMicros(context))
                    .setPreprocess(t.preprocessMicros())
                    .setVisionEncoder(t.visionMicros())
                    .setQformer(t.qformerMicros())
                    .setLlm(t.llmMicros())
                    .setTotal(totalMicros(context, now))
                    .build())
            .setModel(model)
            .setMetadata(context.metadata())
            .setCompletedAtMs(now)
            .build();
    return new ResponseEnvelope(response, context.headers());
  }

  /** The response of a request that a stage failed (error or timeout). */
  public ResponseEnvelope failed(StageFailure failure) {
    return failed(
        failure.requestId(),
        failure.code(),
        failure.message(),
        ResponseContext.decode(failure.context()),
        clock.millis());
  }

  private ResponseEnvelope failed(
      String id, ErrorCode code, String message, ResponseContext context, long now) {
    InferenceResponse response =
        InferenceResponse.newBuilder()
            .setId(id)
            .setStatus(code == ErrorCode.TIMEOUT ? ResponseStatus.TIMEOUT : ResponseStatus.ERROR)
            .setTimings(StageTimings.newBuilder().setTotal(totalMicros(context, now)).build())
            .setModel(model)
            .setError(ErrorInfo.newBuilder().setCode(code.name()).setMessage(message).build())
            .setMetadata(context.metadata())
            .setCompletedAtMs(now)
            .build();
    return new ResponseEnvelope(response, context.headers());
  }

  /**
   * The {@code INTERNAL} error response of a request whose response could not be built (e.g. its
   * context would not decode): the request is answered instead of failing the task.
   */
  public static ResponseEnvelope unexpected(String id, RuntimeException e) {
    return ResponseEnvelope.of(
        RequestParser.errorResponse(
            id,
            Map.of(),
            ErrorCode.INTERNAL.name(),
            "the response could not be built: " + InputEcho.abbreviate(e.toString()),
            System.currentTimeMillis()));
  }

  /** From the producer's {@code created_at_ms} to the job's receipt, when the producer set it. */
  private static Long queueMicros(ResponseContext context) {
    return context.createdAtMs() == null
        ? null
        : Math.max(0, context.receivedAtMs() - context.createdAtMs()) * 1_000;
  }

  private static Long totalMicros(ResponseContext context, long now) {
    return context.receivedAtMs() == 0 ? null : Math.max(0, now - context.receivedAtMs()) * 1_000;
  }
}
