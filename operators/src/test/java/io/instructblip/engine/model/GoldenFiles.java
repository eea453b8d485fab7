package io.instructblip.engine.model;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;

/** Reads the golden files of {@code deploy/model-export/fixtures/golden}. */
public final class GoldenFiles {
  private static final ObjectMapper JSON = new ObjectMapper();

  private GoldenFiles() {}

  /** {@code golden/<model>/stages.json}; fails if it has not been generated. */
  public static JsonNode stages(String model) {
    Path file = ModelFixtures.root().resolve("golden").resolve(model).resolve("stages.json");
    if (!Files.isRegularFile(file)) {
      throw new IllegalStateException(
          file + " is missing: run python3 deploy/model-export/export.py fixtures");
    }
    try {
      return JSON.readTree(file.toFile());
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  /** A golden tensor {@code {"shape", "dtype", "data"}} as a host tensor. */
  public static HostTensor tensor(JsonNode node) {
    JsonNode shapeNode = node.get("shape");
    int[] shape = new int[shapeNode.size()];
    for (int i = 0; i < shape.length; i++) {
      shape[i] = shapeNode.get(i).asInt();
    }
    JsonNode data = node.get("data");
    String dtype = node.get("dtype").asText();
    switch (dtype) {
      case "int64":
        {
          long[] values = new long[data.size()];
          for (int i = 0; i < values.length; i++) {
            values[i] = data.get(i).asLong();
          }
          return new LongTensor(shape, values);
        }
      case "float32":
        {
          float[] values = new float[data.size()];
          for (int i = 0; i < values.length; i++) {
            values[i] = (float) data.get(i).asDouble();
          }
          return new FloatTensor(shape, values);
        }
      default:
        throw new IllegalArgumentException("unknown dtype " + dtype + " in a golden tensor");
    }
  }
}
