package io.instructblip.engine.model;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.stream.Stream;

/**
 * Where the committed fixtures are: the environment variable {@code INSTRUCTBLIP_FIXTURES} if set,
 * else the system property {@code instructblip.fixtures} that surefire sets to {@code
 * deploy/model-export/fixtures}.
 */
public final class ModelFixtures {
  private ModelFixtures() {}

  /** The fixtures folder. */
  public static Path root() {
    String env = System.getenv("INSTRUCTBLIP_FIXTURES");
    String dir =
        env != null && !env.isBlank() ? env : System.getProperty("instructblip.fixtures", "");
    if (dir.isBlank()) {
      throw new IllegalStateException(
          "no fixtures folder: set -Dinstructblip.fixtures or INSTRUCTBLIP_FIXTURES");
    }
    return Path.of(dir);
  }

  /** A fixture model directory, e.g. {@code tiny-vicuna}; fails if it has not been generated. */
  public static Path modelDir(String name) {
    Path dir = root().resolve(name);
    if (!Files.isRegularFile(dir.resolve("manifest.json"))) {
      throw new IllegalStateException(
          "fixture model "
              + dir
              + " is missing: run python3 deploy/model-export/export.py fixtures");
    }
    return dir;
  }

  /** Copies a fixture model directory into {@code target} (a fresh folder) and returns it. */
  public static Path copyModel(String name, Path target) {
    Path source = modelDir(name);
    try {
      Files.createDirectories(target);
      try (Stream<Path> files = Files.list(source)) {
        for (Path file : (Iterable<Path>) files::iterator) {
          Files.copy(file, target.resolve(file.getFileName().toString()));
        }
      }
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
    return target;
  }
}
