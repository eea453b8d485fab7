package io.instructblip.engine.inference;

import io.instructblip.engine.api.StageTimings;
import io.instructblip.engine.api.TaskMode;
import io.instructblip.engine.generate.GenerationParams;
import java.util.List;
import java.util.Objects;

/**
 * A request after the CPU step: its images as normalized pixels and its text as token ids, ready
 * for the model stages. Built by {@link RequestPreparer}; never holds model outputs.
 *
 * @param id the request's id
 * @param mode generate or rank
 * @param frames how many images (frames) the request has
 * @param pixels {@code frames x 3 x S x S} normalized pixel values, channels first
 * @param qformerIds the Q-Former text ids (with [CLS]/[SEP] as the manifest says)
 * @param promptIds the LLM prompt ids (with the manifest's prefix/suffix)
 * @param params resolved and validated generation parameters
 * @param candidateTexts ranking: the candidates as given
 * @param candidateIds ranking: each candidate's scored ids (EOS appended when the manifest says)
 * @param timings time spent so far (preprocessing)
 */
public record PreparedRequest(
    String id,
    TaskMode mode,
    int frames,
    float[] pixels,
    long[] qformerIds,
    long[] promptIds,
    GenerationParams params,
    List<String> candidateTexts,
    List<long[]> candidateIds,
    StageTimings timings) {

  public PreparedRequest {
    Objects.requireNonNull(id, "id");
    Objects.requireNonNull(mode, "mode");
    Objects.requireNonNull(pixels, "pixels");
    Objects.requireNonNull(qformerIds, "qformerIds");
    Objects.requireNonNull(promptIds, "promptIds");
    Objects.requireNonNull(params, "params");
    candidateTexts = List.copyOf(candidateTexts);
    candidateIds = List.copyOf(candidateIds);
    Objects.requireNonNull(timings, "timings");
  }

  /** The same request without its pixels (once the vision encoder has used them). */
  public PreparedRequest withoutPixels() {
    return new PreparedRequest(
        id,
        mode,
        frames,
        new float[0],
        qformerIds,
        promptIds,
        params,
        candidateTexts,
        candidateIds,
        timings);
  }

  /** The same request with other timings. */
  public PreparedRequest withTimings(StageTimings newTimings) {
    return new PreparedRequest(
        id,
        mode,
        frames,
        pixels,
        qformerIds,
        promptIds,
        params,
        candidateTexts,
        candidateIds,
        newTimings);
  }
}
