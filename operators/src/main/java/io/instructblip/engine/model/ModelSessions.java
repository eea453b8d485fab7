package io.instructblip.engine.model;

import ai.onnxruntime.OrtEnvironment;
import io.instructblip.engine.api.EngineException;
import io.instructblip.engine.api.ErrorCode;
import java.util.EnumMap;
import java.util.Map;

/**
 * Every stage model of a {@link ModelDirectory}, loaded in ONNX Runtime on one device and checked
 * against docs/model-format.md. Close it to free the native sessions.
 *
 * <pre>{@code
 * try (ModelSessions sessions =
 *     ModelSessions.open(ModelDirectory.open(dir), SessionSettings.defaults())) {
 *   StageSession decoder = sessions.session(StageFile.DECODER);
 * }
 * }</pre>
 */
public final class ModelSessions implements AutoCloseable {
  private final ModelDirectory directory;
  private final DeviceSpec device;
  private final Map<StageFile, StageSession> sessions;

  private ModelSessions(
      ModelDirectory directory, DeviceSpec device, Map<StageFile, StageSession> sessions) {
    this.directory = directory;
    this.device = device;
    this.sessions = sessions;
  }

  /**
   * Loads every stage file with the given settings.
   *
   * @throws EngineException {@link ErrorCode#MODEL_INVALID} for a file that does not match the
   *     format, {@link ErrorCode#DEVICE_UNAVAILABLE} for a device that cannot be used
   */
  public static ModelSessions open(ModelDirectory directory, SessionSettings settings) {
    return open(directory, settings, new SessionOptionsFactory());
  }

  /** Loads every stage file, settling the device with the given factory. */
  public static ModelSessions open(
      ModelDirectory directory, SessionSettings settings, SessionOptionsFactory optionsFactory) {
    OrtEnvironment environment = OrtEnvironment.getEnvironment();
    StageSpecs specs = new StageSpecs(directory.manifest());
    Map<StageFile, StageSession> opened = new EnumMap<>(StageFile.class);
    try (SessionOptionsFactory.Prepared prepared = optionsFactory.create(settings)) {
      for (StageFile stage : StageFile.requiredFor(directory.manifest().llmFamily())) {
        opened.put(
            stage,
            StageSession.open(
                environment,
                directory.stagePath(stage),
                prepared.options(),
                specs.inputs(stage),
                specs.outputs(stage)));
      }
      return new ModelSessions(directory, prepared.device(), opened);
    } catch (RuntimeException e) {
      opened.values().forEach(ModelSessions::closeQuietly);
      throw e;
    }
  }

  private static void closeQuietly(StageSession session) {
    try {
      session.close();
    } catch (RuntimeException ignored) {
      // an earlier failure is the one to report
    }
  }

  /** The directory the sessions were loaded from. */
  public ModelDirectory directory() {
    return directory;
  }

  /** The manifest of that directory. */
  public ModelManifest manifest() {
    return directory.manifest();
  }

  /** The device the sessions run on ({@code cpu} or {@code cuda:N}, never {@code auto}). */
  public DeviceSpec device() {
    return device;
  }

  /**
   * The session of a stage.
   *
   * @throws IllegalArgumentException if the model's family has no such stage
   */
  public StageSession session(StageFile stage) {
    StageSession session = sessions.get(stage);
    if (session == null) {
      throw new IllegalArgumentException(
          "llm_family " + manifest().llmFamily().wireName() + " has no " + stage.key() + " model");
    }
    return session;
  }

  /** The session of the stage whose file has this name, e.g. {@code decoder.onnx}. */
  public StageSession sessionForFile(String fileName) {
    for (Map.Entry<StageFile, StageSession> entry : sessions.entrySet()) {
      if (entry.getValue().fileName().equals(fileName)) {
        return entry.getValue();
      }
    }
    throw new IllegalArgumentException(
        "no stage file named " + fileName + " in " + directory.root());
  }

  @Override
  public void close() {
    RuntimeException first = null;
    for (StageSession session : sessions.values()) {
      try {
        session.close();
      } catch (RuntimeException e) {
        if (first == null) {
          first = e;
        }
      }
    }
    sessions.clear();
    if (first != null) {
      throw first;
    }
  }
}
