package io.instructblip.job.pipeline;

import io.instructblip.engine.EngineException;
import io.instructblip.engine.EngineRequest;
import io.instructblip.engine.ErrorCode;
import io.instructblip.engine.GenerationOverrides;
import io.instructblip.engine.InputEcho;
import io.instructblip.engine.TaskMode;
import io.instructblip.flink.InFlight;
import io.instructblip.flink.pipeline.StageItem;
import io.instructblip.job.fetch.ImageUriResolver;
import io.instructblip.job.fetch.UriPolicy;
import io.instructblip.job.kafka.RequestEnvelope;
import io.instructblip.job.kafka.ResponseEnvelope;
import io.instructblip.job.parse.RequestParser;
import io.instructblip.schema.avro.GenerationOptions;
import io.instructblip.schema.avro.ImageInput;
import io.instructblip.schema.avro.InferenceRequest;
import io.instructblip.schema.avro.RequestMode;
import java.nio.ByteBuffer;
import java.time.Clock;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.apache.flink.api.common.functions.OpenContext;
import org.apache.flink.streaming.api.functions.ProcessFunction;
import org.apache.flink.util.Collector;
import org.apache.flink.util.OutputTag;

/**
 * Turns a parsed request into a stage item: reads image URIs under the job's {@link UriPolicy},
 * checks the requested model name, maps the generation options and deadline, and packs the response
 * context. A request that fails here (forbidden URI, unreadable image, wrong model) gets an error
 * response on {@link #ERROR_RESPONSES}; the job goes on.
 */
public final class ToStageItems extends ProcessFunction<RequestEnvelope, StageItem> {
  private static final long serialVersionUID = 1L;

  /** Error responses of requests that could not become stage items. */
  public static final OutputTag<ResponseEnvelope> ERROR_RESPONSES =
      new OutputTag<>("to-stage-errors") {};

  private final HashMap<String, String> uriPolicy;
  private final String servedModel;
  private transient ImageUriResolver resolver;
  private transient Clock clock;

  /**
   * @param uriPolicy the {@code instructblip.images.*} settings, without the prefix
   * @param servedModel the model name this job serves (the manifest's {@code name})
   */
  public ToStageItems(Map<String, String> uriPolicy, String servedModel) {
    this.uriPolicy = new HashMap<>(uriPolicy);
    this.servedModel = servedModel;
  }

  @Override
  public void open(OpenContext openContext) {
    resolver = new ImageUriResolver(UriPolicy.fromMap(uriPolicy));
    clock = Clock.systemUTC();
  }

  @Override
  public void processElement(RequestEnvelope envelope, Context ctx, Collector<StageItem> out) {
    InferenceRequest r = envelope.request();
    ResponseContext context =
        new ResponseContext(
            r.getMetadata(), envelope.headers(), r.getCreatedAtMs(), clock.millis());
    try {
      if (r.getModel() != null && !r.getModel().equals(servedModel)) {
        throw new EngineException(
            ErrorCode.INVALID_REQUEST,
            "this job serves the model \""
                + servedModel
                + "\", not \""
                + InputEcho.abbreviate(r.getModel())
                + "\"");
      }
      resolver.checkImageCount(r.getImages().size());
      List<byte[]> images = new ArrayList<>(r.getImages().size());
      for (ImageInput image : r.getImages()) {
        images.add(
            image.getBytes() != null ? bytes(image.getBytes()) : resolver.read(image.getUri()));
      }
      EngineRequest request =
          new EngineRequest(
              r.getId(),
              images,
              r.getInstruction(),
              r.getMode() == RequestMode.RANK ? TaskMode.RANK : TaskMode.GENERATE,
              r.getCandidates(),
              overrides(r.getGeneration()));
      long deadline = r.getDeadlineMs() == null ? InFlight.NO_DEADLINE : r.getDeadlineMs();
      out.collect(StageItem.of(request, deadline, context.encode()));
    } catch (RuntimeException e) {
      // An EngineException carries the request's problem; anything else is answered as INTERNAL
      // rather than failing the task (and failing it again on the same record after the restart).
      EngineException error =
          e instanceof EngineException engine
              ? engine
              : new EngineException(
                  ErrorCode.INTERNAL,
                  "the request could not be mapped: " + InputEcho.abbreviate(e.toString()),
                  e);
      ctx.output(
          ERROR_RESPONSES,
          new ResponseEnvelope(
              RequestParser.errorResponse(
                  r.getId(),
                  r.getMetadata(),
                  error.code().name(),
                  error.getMessage(),
                  clock.millis()),
              envelope.headers()));
    }
  }

  private static byte[] bytes(ByteBuffer buffer) {
    ByteBuffer copy = buffer.duplicate();
    byte[] bytes = new byte[copy.remaining()];
    copy.get(bytes);
    return bytes;
  }

  /** A request's generation options as engine overrides ({@code null} fields stay unset). */
  public static GenerationOverrides overrides(GenerationOptions g) {
    if (g == null) {
      return GenerationOverrides.NONE;
    }
    return GenerationOverrides.builder()
        .maxNewTokens(g.getMaxNewTokens())
        .minNewTokens(g.getMinNewTokens())
        .numBeams(g.getNumBeams())
        .lengthPenalty(g.getLengthPenalty())
        .repetitionPenalty(g.getRepetitionPenalty())
        .doSample(g.getDoSample())
        .temperature(g.getTemperature())
        .topK(g.getTopK())
        .topP(g.getTopP())
        .seed(g.getSeed())
        .numReturnSequences(g.getNumReturnSequences())
        .build();
  }
}
