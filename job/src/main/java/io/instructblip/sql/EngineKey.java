package io.instructblip.sql;

import io.instructblip.engine.EngineConfig;
import io.instructblip.engine.model.DeviceSpec;
import io.instructblip.engine.model.SessionSettings;
import java.io.Serializable;
import java.nio.file.Path;
import java.time.Duration;

/**
 * Which shared {@link RowBatcher} a predict function uses: one per model directory, device, threads
 * and batch shape per TaskManager (value equality, as the shared registry needs).
 */
record EngineKey(String modelDir, String device, int intraOpThreads, int maxRows, long maxWaitMs)
    implements Serializable {
  private static final long serialVersionUID = 1L;

  EngineConfig engineConfig() {
    return EngineConfig.builder(Path.of(modelDir))
        .session(
            SessionSettings.builder()
                .device(DeviceSpec.parse(device))
                .intraOpThreads(intraOpThreads)
                .build())
        .build();
  }

  Duration maxWait() {
    return Duration.ofMillis(maxWaitMs);
  }
}
