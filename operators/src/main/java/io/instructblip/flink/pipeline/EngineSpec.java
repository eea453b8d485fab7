package io.instructblip.flink.pipeline;

import io.instructblip.engine.EngineConfig;
import io.instructblip.engine.InstructBlipEngine;
import io.instructblip.engine.model.DeviceSpec;
import io.instructblip.engine.model.SessionSettings;
import io.instructblip.flink.SharedEngineRegistry;
import java.io.Serializable;
import java.nio.file.Path;
import java.util.Objects;

/**
 * Which engine the stages use: a model directory on a device, with ONNX Runtime threads per
 * session. Serializable (it travels with the job graph) and a value, so that it is also the key
 * under which {@link SharedEngineRegistry} shares one engine per TaskManager JVM.
 *
 * @param modelDir the model directory, as a path on the TaskManagers
 * @param device {@code cpu}, {@code cuda}, {@code cuda:N} or {@code auto}
 * @param intraOpThreads ONNX Runtime intra-op threads per session (0: its default)
 */
public record EngineSpec(String modelDir, String device, int intraOpThreads)
    implements Serializable {

  public EngineSpec {
    Objects.requireNonNull(modelDir, "modelDir");
    Objects.requireNonNull(device, "device");
    DeviceSpec.parse(device);
    if (intraOpThreads < 0 || intraOpThreads > SessionSettings.MAX_THREADS) {
      throw new IllegalArgumentException(
          "--threads (instructblip.model.intra-op-threads) must be between 0 (ONNX Runtime's"
              + " choice) and "
              + SessionSettings.MAX_THREADS
              + ", got "
              + intraOpThreads);
    }
  }

  /** Opens the engine this spec names (slow: loads every model). */
  public InstructBlipEngine open() {
    SessionSettings session =
        SessionSettings.builder()
            .device(DeviceSpec.parse(device))
            .intraOpThreads(intraOpThreads)
            .build();
    return InstructBlipEngine.open(
        EngineConfig.builder(Path.of(modelDir)).session(session).build());
  }

  /** A lease on the JVM's shared engine for this spec; close it to release it. */
  public SharedEngineRegistry.Lease<InstructBlipEngine> acquire() throws Exception {
    return SharedEngineRegistry.global().acquire(this, this::open);
  }
}
