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
 * The demo models and sample images bundled in the job jar (copied from {@code
 * deploy/model-export/fixtures} at build time). The demo models are tiny InstructBLIPs (ViT,
 * Q-Former, a small Vicuna-style LLaMA or FlanT5-style T5) trained on synthetic scenes of shapes
 * ({@code export.py train-demo}): they answer about shapes, colours, counts and positions, and know
 * nothing else.
 */
public final class DemoModel {
  /** The LLM family of a bundled demo model. */
  public enum Family {
    /** {@code demo-vicuna}: a decoder-only LLaMA. */
    VICUNA,
    /** {@code demo-flant5}: an encoder-decoder T5. */
    FLANT5;

    /** The model's name: its folder among the fixtures and its held-out file's {@code model}. */
    String modelName() {
      return "demo-" + name().toLowerCase(java.util.Locale.ROOT);
    }

    String folder() {
      return modelName() + "/";
    }

    List<String> files() {
      List<String> stages =
          this == VICUNA
              ? List.of("vision_encoder.onnx", "qformer.onnx", "embed_tokens.onnx", "decoder.onnx")
              : List.of(
                  "vision_encoder.onnx",
                  "qformer.onnx",
                  "embed_tokens.onnx",
                  "encoder.onnx",
                  "decoder_init.onnx",
                  "decoder.onnx");
      List<String> all = new ArrayList<>(stages);
      all.addAll(List.of("manifest.json", "llm_tokenizer.json", "qformer_tokenizer.json"));
      return all;
    }
  }

  /** What to tell a user whose answers come from the demo model. */
  public static final String NOTICE =
      "Using the bundled demo model: a tiny InstructBLIP trained on synthetic scenes of shapes; it"
          + " answers about shapes, colours, counts and positions only. Export a real checkpoint"
          + " (deploy/model-export) and pass --model DIR for real answers.";

  private static final String ROOT = "/demo/";

  /**
   * The sample images, in the order {@code local} submits them: three scenes of the demo task that
   * the model never saw in training, and one unrelated pattern for contrast.
   */
  public static final List<String> SAMPLE_IMAGES =
      List.of(
          "demo-samples/red-circle.jpg",
          "demo-samples/two-squares.jpg",
          "demo-samples/three-shapes.jpg",
          "images/baseline.jpg");

  private DemoModel() {}

  /** Copies the Vicuna demo model out of the jar into a temporary folder and returns it. */
  public static Path extract() {
    return extract(Family.VICUNA);
  }

  /** Copies the demo model of {@code family} out of the jar into a temporary folder. */
  public static Path extract(Family family) {
    System.err.println(NOTICE);
    return copy(family.folder(), family.files(), "instructblip-demo-model");
  }

  /** Copies the sample images out of the jar into a temporary folder and returns their paths. */
  public static List<Path> sampleImages() {
    Path dir = copy("", SAMPLE_IMAGES, "instructblip-demo-images");
    List<Path> paths = new ArrayList<>();
    for (String name : SAMPLE_IMAGES) {
      paths.add(dir.resolve(Path.of(name).getFileName().toString()));
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
          Path target = dir.resolve(Path.of(name).getFileName().toString());
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
