package io.instructblip.engine.model;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.instructblip.engine.api.EngineRequest;
import io.instructblip.engine.api.GenerationOverrides;
import io.instructblip.engine.api.TaskMode;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

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

  /**
   * A golden reference case ({@code golden/<model>/reference.json}) as an engine request: its
   * images, instruction, parameters and candidates (ranking when it has some).
   */
  public static EngineRequest request(String id, JsonNode c) throws IOException {
    List<byte[]> images = new ArrayList<>();
    for (JsonNode path : c.get("images")) {
      images.add(Files.readAllBytes(ModelFixtures.root().resolve(path.asText())));
    }
    GenerationOverrides overrides = GenerationParametersJson.overrides(c.get("params"));
    JsonNode candidates = c.get("candidates");
    List<String> texts = new ArrayList<>();
    if (candidates != null && !candidates.isNull()) {
      candidates.forEach(t -> texts.add(t.asText()));
    }
    return new EngineRequest(
        id, images, c.get("instruction").asText(), TaskMode.forCandidates(texts), texts, overrides);
  }
}
