package io.instructblip.flink.pipeline;

import io.instructblip.engine.api.EngineRequest;
import io.instructblip.engine.inference.PreparedRequest;
import io.instructblip.engine.model.FloatTensor;
import io.instructblip.flink.InFlight;
import java.util.Objects;

/**
 * One request on its way through the stages: the compact request (what checkpoints keep) plus the
 * payload the next stage needs, which grows and shrinks along the way: prepared inputs after {@code
 * prepare} (pixels until the vision encoder has used them), image embeddings after {@code
 * vision-encoder}, query outputs after {@code qformer}. A stage that receives an item without its
 * payload (restored from a checkpoint) re-derives it from the request. Immutable; never mutate the
 * arrays it holds.
 *
 * @param request the request as it arrived (images as bytes)
 * @param deadlineMillis epoch millis after which the request times out, or {@link
 *     InFlight#NO_DEADLINE}
 * @param context opaque bytes the job passes through to the response (metadata, headers); never
 *     read by the stages
 * @param prepared prepared inputs, or {@code null}
 * @param imageEmbeds {@code [frames, N, Dv]}, or {@code null}
 * @param queryOutputs {@code [frames x Q, Dl]}, or {@code null}
 */
public record StageItem(
    EngineRequest request,
    long deadlineMillis,
    byte[] context,
    PreparedRequest prepared,
    FloatTensor imageEmbeds,
    FloatTensor queryOutputs) {

  public StageItem {
    Objects.requireNonNull(request, "request");
    context = context == null ? new byte[0] : context;
  }

  /** A fresh item, nothing derived yet. */
  public static StageItem of(EngineRequest request, long deadlineMillis, byte[] context) {
    return new StageItem(request, deadlineMillis, context, null, null, null);
  }

  /** The request id. */
  public String id() {
    return request.id();
  }

  /** The compact form only: what a checkpoint keeps and a restored stage starts from. */
  public StageItem compact() {
    return new StageItem(request, deadlineMillis, context, null, null, null);
  }

  public StageItem withPrepared(PreparedRequest value) {
    return new StageItem(request, deadlineMillis, context, value, null, null);
  }

  /** After the vision encoder: the pixels are no longer needed and are dropped. */
  public StageItem withImageEmbeds(PreparedRequest withoutPixels, FloatTensor value) {
    return new StageItem(request, deadlineMillis, context, withoutPixels, value, null);
  }

  /** After the Q-Former: the image embeddings are no longer needed and are dropped. */
  public StageItem withQueryOutputs(PreparedRequest preparedRequest, FloatTensor value) {
    return new StageItem(request, deadlineMillis, context, preparedRequest, null, value);
  }
}
