package io.instructblip.job.cli;

import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.ArrayList;
import java.util.List;

/**
 * The tiny demo model and sample images bundled in the job jar (copied from {@code
 * deploy/model-export/fixtures} at build time). The model's weights are random: it shows the
 * pipeline working, not InstructBLIP's answers.
 */
public final class DemoModel {
  /** What to tell a user whose answers come from the demo model. */
  public static final String WARNING =
      "Using the bundled tiny demo model: its weights are random, so its answers are random words."
          + " Export a real checkpoint (deploy/model-export) and pass --model DIR for real answers.";

  private static final String ROOT = "/demo/";
  private static final List<String> MODEL_FILES =
      List.of(
          "manifest.json",
          "vision_encoder.onnx",
          "qformer.onnx",
          "embed_tokens.onnx",
          "decoder.onnx",
          "llm_tokenizer.json",
          "qformer_tokenizer.json");

  /** The sample images, in the order {@code local} submits them. */
  public static final List<String> SAMPLE_IMAGES =
      List.of("rgb.png", "baseline.jpg", "progressive.jpg", "palette.png");

  private DemoModel() {}

  /** Copies the demo model out of the jar into a temporary folder and returns the folder. */
  public static Path extract() {
    System.err.println(WARNING);
    return copy("tiny-vicuna/", MODEL_FILES, "instructblip-demo-model");
  }

  /** Copies the sample images out of the jar into a temporary folder and returns their paths. */
  public static List<Path> sampleImages() {
    Path dir = copy("images/", SAMPLE_IMAGES, "instructblip-demo-images");
    List<Path> paths = new ArrayList<>();
    for (String name : SAMPLE_IMAGES) {
      paths.add(dir.resolve(name));
    }
    return paths;
  }

  private static Path copy(String folder, List<String> names, String prefix) {
    try {
      Path dir = Files.createTempDirectory(prefix);
      dir.toFile().deleteOnExit();
      for (String name : names) {
        try (InputStream in = DemoModel.class.getResourceAsStream(ROOT + folder + name)) {
          if (in == null) {
            throw new IllegalStateException(
                "the job jar has no " + ROOT + folder + name + "; rebuild it with mvn package");
          }
          Path target = dir.resolve(name);
          Files.copy(in, target, StandardCopyOption.REPLACE_EXISTING);
          target.toFile().deleteOnExit();
        }
      }
      return dir;
    } catch (IOException e) {
      throw new UncheckedIOException("cannot extract the demo files: " + e.getMessage(), e);
    }
  }
}
