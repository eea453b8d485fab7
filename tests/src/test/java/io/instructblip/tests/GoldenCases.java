package io.instructblip.tests;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.instructblip.engine.api.EngineRequest;
import io.instructblip.engine.api.GenerationOverrides;
import io.instructblip.engine.api.TaskMode;
import io.instructblip.engine.eval.HeldOutSet;
import io.instructblip.engine.model.GenerationParametersJson;
import io.instructblip.job.wiring.StageItems;
import io.instructblip.schema.avro.InferenceRequest;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/**
 * The committed fixtures for integration tests: model directories, images, the reference cases of
 * {@code golden/<model>/reference.json} as engine requests with their expected answers, and the
 * demo models' held-out sets.
 */
public final class GoldenCases {
  private static final ObjectMapper JSON = new ObjectMapper();

  /** One reference case: the request and the token ids the reference generated (or ranked). */
  public record Case(String name, EngineRequest request, List<Integer> expectedTokens) {

    /**
     * The case as a Kafka request: its id, images as bytes, instruction, mode, candidates and
     * generation parameters.
     */
    public InferenceRequest.Builder kafkaRequest() {
      return StageItems.request(request);
    }
  }

  private GoldenCases() {}

  /** The fixtures folder (surefire sets {@code instructblip.fixtures}). */
  public static Path fixtures() {
    return Path.of(System.getProperty("instructblip.fixtures"));
  }

  /** A fixture model directory. */
  public static Path model(String name) {
    return fixtures().resolve(name);
  }

  /** A fixture file's bytes. */
  public static byte[] bytes(String relative) {
    try {
      return Files.readAllBytes(fixtures().resolve(relative));
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  /** Every reference case of {@code model}, ids prefixed with {@code idPrefix}. */
  public static List<Case> cases(String model, String idPrefix) {
    try {
      JsonNode golden =
          JSON.readTree(
              fixtures().resolve("golden").resolve(model).resolve("reference.json").toFile());
      List<Case> cases = new ArrayList<>();
      for (JsonNode c : golden.get("cases")) {
        List<byte[]> images = new ArrayList<>();
        c.get("images").forEach(p -> images.add(bytes(p.asText())));
        GenerationOverrides overrides = GenerationParametersJson.overrides(c.get("params"));
        List<String> candidates = new ArrayList<>();
        if (c.hasNonNull("candidates")) {
          c.get("candidates").forEach(t -> candidates.add(t.asText()));
        }
        String name = c.get("name").asText();
        EngineRequest request =
            new EngineRequest(
                idPrefix + name,
                images,
                c.get("instruction").asText(),
                TaskMode.forCandidates(candidates),
                candidates,
                overrides);
        List<Integer> tokens = new ArrayList<>();
        c.get("expected").get("token_ids").forEach(t -> tokens.add(t.asInt()));
        cases.add(new Case(name, request, tokens));
      }
      return cases;
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  /** The Kafka request of a reference case: its id, images (as bytes), instruction and options. */
  public static InferenceRequest.Builder request(Case c) {
    return c.kafkaRequest();
  }

  /**
   * The held-out set of a demo model ({@code golden/<model>/heldout.json}), ids {@code q0, q1,
   * ...}, as eval-demo asked it.
   */
  public static HeldOutSet heldOut(String model) {
    try {
      return HeldOutSet.ofModel(fixtures(), model);
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }
}
