package io.instructblip.engine.api;

import java.util.List;
import java.util.Objects;

/**
 * One request to the engine: image(s) and an instruction, and what to do with them.
 *
 * @param id the caller's id, returned unchanged in the result
 * @param images encoded image bytes (JPEG, PNG, ...); several are the frames of one video, in order
 * @param instruction the instruction (prompt); the same text goes to the Q-Former and the LLM
 * @param mode generate an answer, or rank {@code candidates}
 * @param candidates the candidate answers of a {@link TaskMode#RANK} request; empty otherwise
 * @param overrides generation parameters that differ from the model's defaults
 */
public record EngineRequest(
    String id,
    List<byte[]> images,
    String instruction,
    TaskMode mode,
    List<String> candidates,
    GenerationOverrides overrides) {

  public EngineRequest {
    Objects.requireNonNull(id, "id");
    images = List.copyOf(Objects.requireNonNull(images, "images"));
    mode = mode == null ? TaskMode.GENERATE : mode;
    candidates = candidates == null ? List.of() : List.copyOf(candidates);
    overrides = overrides == null ? GenerationOverrides.NONE : overrides;
  }

  /** A generation request with the model's default parameters. */
  public static EngineRequest generate(String id, List<byte[]> images, String instruction) {
    return new EngineRequest(
        id, images, instruction, TaskMode.GENERATE, List.of(), GenerationOverrides.NONE);
  }

  /** A ranking request over {@code candidates}. */
  public static EngineRequest rank(
      String id, List<byte[]> images, String instruction, List<String> candidates) {
    return new EngineRequest(
        id, images, instruction, TaskMode.RANK, candidates, GenerationOverrides.NONE);
  }
}
