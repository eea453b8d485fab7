package io.instructblip.flink.pipeline;

import io.instructblip.flink.InFlight;
import io.instructblip.flink.InFlightCodec;

/**
 * The checkpointed form of a {@link StageItem}: its request and context only, never the prepared
 * pixels or embeddings. Every stage restores items without payload and re-derives it.
 */
public final class StageItemCodec implements InFlightCodec<StageItem> {
  private static final long serialVersionUID = 1L;

  @Override
  public InFlight toInFlight(StageItem element) {
    return new InFlight(element.id(), element.deadlineMillis(), StageWire.compactBytes(element));
  }

  @Override
  public byte[] context(StageItem element) {
    return element.context();
  }

  @Override
  public StageItem fromInFlight(InFlight inFlight) {
    return StageWire.fromCompactBytes(inFlight.payload(), inFlight.deadlineMillis());
  }
}
