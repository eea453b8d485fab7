package io.instructblip.engine.generate;

import io.instructblip.engine.api.EngineException;
import io.instructblip.engine.api.ErrorCode;

/**
 * The generation parameters a model directory recommends ({@code manifest.json} field {@code
 * generation_defaults}, see docs/model-format.md). A request's {@link GenerationParams} start from
 * these and override what the request names.
 *
 * <p>The values are checked with the same rules as {@link GenerationParams}; a broken value is a
 * broken model directory, so it fails with {@link ErrorCode#MODEL_INVALID} and a message naming the
 * manifest field.
 */
public record GenerationDefaults(
    int maxNewTokens,
    int minNewTokens,
    int numBeams,
    double lengthPenalty,
    double repetitionPenalty,
    boolean doSample,
    double temperature,
    int topK,
    double topP)
    implements java.io.Serializable {

  /**
   * The reference defaults of InstructBLIP (LAVIS and the HF docstring): 5 beams, 256 new tokens at
   * most, at least 1, repetition penalty 1.5, length penalty 1.0, no sampling, temperature 1.0,
   * top-k off, top-p 0.9.
   */
  public static final GenerationDefaults REFERENCE =
      new GenerationDefaults(256, 1, 5, 1.0, 1.5, false, 1.0, 0, 0.9);

  /** Checks every value; see {@link GenerationParams} for the rules. */
  public GenerationDefaults {
    try {
      ParameterRules.check(
          maxNewTokens,
          minNewTokens,
          numBeams,
          1,
          lengthPenalty,
          repetitionPenalty,
          doSample,
          temperature,
          topK,
          topP);
    } catch (EngineException e) {
      throw new EngineException(
          ErrorCode.MODEL_INVALID,
          "manifest.json generation_defaults: " + e.getMessage() + "; fix the model directory",
          e);
    }
  }
}
