package io.instructblip.job.wiring;

import io.instructblip.engine.api.EngineException;
import io.instructblip.engine.api.EngineRequest;
import io.instructblip.engine.api.ErrorCode;
import io.instructblip.engine.api.GenerationOverrides;
import io.instructblip.engine.api.GenerationParameter;
import io.instructblip.engine.api.InputEcho;
import io.instructblip.engine.api.TaskMode;
import io.instructblip.flink.InFlight;
import io.instructblip.flink.pipeline.StageItem;
import io.instructblip.schema.avro.GenerationOptions;
import io.instructblip.schema.avro.ImageInput;
import io.instructblip.schema.avro.InferenceRequest;
import io.instructblip.schema.avro.RequestMode;
import java.nio.ByteBuffer;
import java.util.List;

/**
 * Maps a parsed request and its image bytes to an engine request (mode, candidates, generation
 * options) and a stage item (with the deadline and the packed {@link ResponseContext}). Pure; used
 * by {@link FetchImages} once a request's images are read, and by {@code infer --requests}.
 */
public final class StageItems {
  private StageItems() {}

  /** Throws {@code INVALID_REQUEST} when the request names a model other than {@code served}. */
  public static void checkModel(InferenceRequest r, String served) {
    if (r.getModel() != null && !r.getModel().equals(served)) {
      throw new EngineException(
          ErrorCode.INVALID_REQUEST,
          "this job serves the model \""
              + served
              + "\", not \""
              + InputEcho.abbreviate(r.getModel())
              + "\"");
    }
  }

  /** The stage item of {@code r} with its images' bytes, in the request's order. */
  static StageItem of(InferenceRequest r, List<byte[]> images, ResponseContext context) {
    EngineRequest request = engineRequest(r, images);
    long deadline = r.getDeadlineMs() == null ? InFlight.NO_DEADLINE : r.getDeadlineMs();
    return StageItem.of(request, deadline, context.encode());
  }

  /** The engine request of {@code r} with its images' bytes, in the request's order. */
  public static EngineRequest engineRequest(InferenceRequest r, List<byte[]> images) {
    return new EngineRequest(
        r.getId(),
        images,
        r.getInstruction(),
        r.getMode() == RequestMode.RANK ? TaskMode.RANK : TaskMode.GENERATE,
        r.getCandidates(),
        overrides(r.getGeneration()));
  }

  /**
   * The Kafka request that asks what {@code request} asks, its images inline: id, images,
   * instruction, mode, candidates and generation options (the inverse of {@link #engineRequest});
   * the caller may add metadata, a deadline, ...
   */
  public static InferenceRequest.Builder request(EngineRequest request) {
    return InferenceRequest.newBuilder()
        .setId(request.id())
        .setImages(
            request.images().stream()
                .map(b -> ImageInput.newBuilder().setBytes(ByteBuffer.wrap(b)).build())
                .toList())
        .setInstruction(request.instruction())
        .setMode(request.mode() == TaskMode.RANK ? RequestMode.RANK : RequestMode.GENERATE)
        .setCandidates(request.candidates())
        .setGeneration(options(request.overrides()));
  }

  /** A copy of an inline image's bytes. */
  public static byte[] bytes(ByteBuffer buffer) {
    ByteBuffer copy = buffer.duplicate();
    byte[] bytes = new byte[copy.remaining()];
    copy.get(bytes);
    return bytes;
  }

  /**
   * A request's generation options as engine overrides ({@code null} fields stay unset): each
   * {@link GenerationParameter} from the schema field of its key (the schema's fields are the
   * specification's, GenerationOptionsSpecTest checks it).
   */
  public static GenerationOverrides overrides(GenerationOptions g) {
    return g == null ? GenerationOverrides.NONE : GenerationOverrides.of(p -> g.get(p.key()));
  }

  /** Engine overrides as a request's generation options, the inverse of {@link #overrides}. */
  public static GenerationOptions options(GenerationOverrides o) {
    GenerationOptions g = GenerationOptions.newBuilder().build();
    for (GenerationParameter p : GenerationParameter.values()) {
      g.put(p.key(), o.get(p));
    }
    return g;
  }
}
