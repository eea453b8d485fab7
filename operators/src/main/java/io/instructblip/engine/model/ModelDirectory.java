package io.instructblip.engine.model;

import io.instructblip.engine.api.EngineException;
import io.instructblip.engine.api.ErrorCode;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Objects;

/**
 * A model directory (docs/model-format.md) whose manifest has been read and checked, and whose
 * named files all exist. Opening one loads no model; {@link ModelSessions} does that.
 *
 * <pre>{@code
 * ModelDirectory dir = ModelDirectory.open(Path.of("/models/instructblip-vicuna-7b"));
 * Path decoder = dir.stagePath(StageFile.DECODER);
 * }</pre>
 */
public final class ModelDirectory {
  private final Path root;
  private final ModelManifest manifest;

  private ModelDirectory(Path root, ModelManifest manifest) {
    this.root = root;
    this.manifest = manifest;
  }

  /**
   * Reads {@code root/manifest.json}, checks it against the format's field rules and checks that
   * every file it names exists.
   *
   * @throws EngineException {@link ErrorCode#MODEL_INVALID} naming the file and field at fault
   */
  public static ModelDirectory open(Path root) {
    Objects.requireNonNull(root, "root");
    if (!Files.isDirectory(root)) {
      throw new EngineException(
          ErrorCode.MODEL_INVALID,
          "model directory " + root + " does not exist or is not a directory");
    }
    Path manifestPath = root.resolve(ManifestParser.FILE_NAME);
    if (!Files.isRegularFile(manifestPath)) {
      throw new EngineException(
          ErrorCode.MODEL_INVALID,
          ManifestParser.FILE_NAME
              + ": not found in "
              + root
              + " (is this a model directory written by deploy/model-export?)");
    }
    String text;
    try {
      text = Files.readString(manifestPath, StandardCharsets.UTF_8);
    } catch (IOException e) {
      throw new EngineException(
          ErrorCode.MODEL_INVALID,
          ManifestParser.FILE_NAME + ": cannot be read (" + e.getMessage() + ")",
          e);
    }
    ModelManifest manifest = ManifestParser.parse(text);
    for (StageFile stage : StageFile.values()) {
      manifest.stageFile(stage).ifPresent(name -> requireFile(root, "files." + stage.key(), name));
    }
    requireFile(root, "files.llm_tokenizer", manifest.llmTokenizerFile());
    requireFile(root, "files.qformer_tokenizer", manifest.qformerTokenizerFile());
    return new ModelDirectory(root, manifest);
  }

  private static void requireFile(Path root, String field, String name) {
    Path file = root.resolve(name).normalize();
    if (!file.startsWith(root.normalize()) || name.contains("/") || name.contains("\\")) {
      throw ManifestParser.invalid(
          field + " is \"" + name + "\": files must be plain names inside the model directory");
    }
    if (!Files.isRegularFile(file)) {
      throw ManifestParser.invalid(
          field + " names \"" + name + "\", which does not exist in " + root);
    }
  }

  /** The directory itself. */
  public Path root() {
    return root;
  }

  /** The validated manifest. */
  public ModelManifest manifest() {
    return manifest;
  }

  /**
   * The path of a stage's ONNX file.
   *
   * @throws IllegalArgumentException if the model's family does not use that stage
   */
  public Path stagePath(StageFile stage) {
    return root.resolve(
        manifest
            .stageFile(stage)
            .orElseThrow(
                () ->
                    new IllegalArgumentException(
                        "llm_family "
                            + manifest.llmFamily().wireName()
                            + " has no "
                            + stage.key()
                            + " file")));
  }

  /** The path of the LLM tokenizer file. */
  public Path llmTokenizerPath() {
    return root.resolve(manifest.llmTokenizerFile());
  }

  /** The path of the Q-Former tokenizer file. */
  public Path qformerTokenizerPath() {
    return root.resolve(manifest.qformerTokenizerFile());
  }

  @Override
  public String toString() {
    return "ModelDirectory[" + root + ", " + manifest.name() + "]";
  }
}
