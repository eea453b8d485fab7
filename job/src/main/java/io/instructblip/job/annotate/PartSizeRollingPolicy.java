package io.instructblip.job.annotate;

import io.instructblip.schema.avro.InferenceResponse;
import java.io.IOException;
import org.apache.flink.streaming.api.functions.sink.filesystem.PartFileInfo;
import org.apache.flink.streaming.api.functions.sink.filesystem.rollingpolicies.CheckpointRollingPolicy;

/**
 * Rolls a part file on every checkpoint (what makes the output exactly once: a part file is
 * committed with the checkpoint that covers its rows) and when it reaches a size.
 */
final class PartSizeRollingPolicy extends CheckpointRollingPolicy<InferenceResponse, String> {
  private static final long serialVersionUID = 1L;
  private final long maxBytes;

  PartSizeRollingPolicy(long maxBytes) {
    this.maxBytes = maxBytes;
  }

  @Override
  public boolean shouldRollOnEvent(PartFileInfo<String> partFile, InferenceResponse element)
      throws IOException {
    return partFile.getSize() >= maxBytes;
  }

  @Override
  public boolean shouldRollOnProcessingTime(PartFileInfo<String> partFile, long currentTime) {
    return false;
  }
}
