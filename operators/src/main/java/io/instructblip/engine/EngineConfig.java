package io.instructblip.engine;

import io.instructblip.engine.image.ImageLimits;
import io.instructblip.engine.model.SessionSettings;
import java.nio.file.Path;
import java.util.Objects;

/**
 * How to open an {@link InstructBlipEngine}: the model directory, ONNX Runtime session settings
 * (device, threads) and the input limits enforced on every request.
 *
 * <pre>{@code
 * EngineConfig config = EngineConfig.builder(Path.of("models/tiny-vicuna"))
 *     .session(SessionSettings.builder().device(DeviceSpec.parse("auto")).build())
 *     .maxImagesPerRequest(4)
 *     .build();
 * }</pre>
 *
 * @param modelDir a model directory (docs/model-format.md)
 * @param session ONNX Runtime settings, the device among them
 * @param imageLimits byte and pixel limits checked before an image is decoded
 * @param maxImagesPerRequest the most images (video frames) one request may carry
 * @param maxCandidates the most candidate answers one ranking request may carry
 */
public record EngineConfig(
    Path modelDir,
    SessionSettings session,
    ImageLimits imageLimits,
    int maxImagesPerRequest,
    int maxCandidates) {

  /** Default for {@link #maxImagesPerRequest}: the paper's videos use 4 frames. */
  public static final int DEFAULT_MAX_IMAGES = 8;

  /** Default for {@link #maxCandidates}. */
  public static final int DEFAULT_MAX_CANDIDATES = 64;

  public EngineConfig {
    Objects.requireNonNull(modelDir, "modelDir");
    Objects.requireNonNull(session, "session");
    Objects.requireNonNull(imageLimits, "imageLimits");
    if (maxImagesPerRequest < 1) {
      throw new IllegalArgumentException(
          "maxImagesPerRequest must be >= 1, got " + maxImagesPerRequest);
    }
    if (maxCandidates < 1) {
      throw new IllegalArgumentException("maxCandidates must be >= 1, got " + maxCandidates);
    }
  }

  /** A builder with the defaults: CPU-or-GPU per {@link SessionSettings#defaults()}. */
  public static Builder builder(Path modelDir) {
    return new Builder(modelDir);
  }

  /** Builds an {@link EngineConfig}; the defaults are set in the constructor below, once. */
  public static final class Builder {
    private final Path modelDir;
    private SessionSettings session = SessionSettings.defaults();
    private ImageLimits imageLimits = ImageLimits.defaults();
    private int maxImagesPerRequest = DEFAULT_MAX_IMAGES;
    private int maxCandidates = DEFAULT_MAX_CANDIDATES;

    private Builder(Path modelDir) {
      this.modelDir = Objects.requireNonNull(modelDir, "modelDir");
    }

    public Builder session(SessionSettings value) {
      this.session = Objects.requireNonNull(value, "session");
      return this;
    }

    public Builder imageLimits(ImageLimits value) {
      this.imageLimits = Objects.requireNonNull(value, "imageLimits");
      return this;
    }

    public Builder maxImagesPerRequest(int value) {
      this.maxImagesPerRequest = value;
      return this;
    }

    public Builder maxCandidates(int value) {
      this.maxCandidates = value;
      return this;
    }

    public EngineConfig build() {
      return new EngineConfig(modelDir, session, imageLimits, maxImagesPerRequest, maxCandidates);
    }
  }
}
