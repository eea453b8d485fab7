package io.instructblip.engine.generate;

import io.instructblip.engine.api.EngineException;
import io.instructblip.engine.api.ErrorCode;
import io.instructblip.engine.api.GenerationParameter;
import java.util.function.Function;

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
   * The reference defaults of InstructBLIP (LAVIS and the HF docstring), those of {@link
   * GenerationParameter#referenceDefault()}: 5 beams, 256 new tokens at most, at least 1,
   * repetition penalty 1.5, length penalty 1.0, no sampling, temperature 1.0, top-k off, top-p 0.9.
   */
  public static final GenerationDefaults REFERENCE = of(GenerationParameter::referenceDefault);

  /** Checks every value; see {@link GenerationParameter} for the rules. */
  public GenerationDefaults {
    // In the specification's order (GenerationParamsTest checks the components follow it).
    Object[] values = {
      maxNewTokens,
      minNewTokens,
      numBeams,
      lengthPenalty,
      repetitionPenalty,
      doSample,
      temperature,
      topK,
      topP
    };
    try {
      ParameterRules.check(p -> p.modelDefault() ? values[p.ordinal()] : p.referenceDefault());
    } catch (EngineException e) {
      throw new EngineException(
          ErrorCode.MODEL_INVALID,
          "manifest.json generation_defaults: " + e.getMessage() + "; fix the model directory",
          e);
    }
  }

  /**
   * The defaults {@code value} gives for every parameter a model directory sets ({@link
   * GenerationParameter#modelDefault()}), checked.
   *
   * @throws EngineException {@link ErrorCode#MODEL_INVALID} when one breaks a rule
   */
  public static GenerationDefaults of(Function<GenerationParameter, Object> value) {
    return new GenerationDefaults(
        (Integer) value.apply(GenerationParameter.MAX_NEW_TOKENS),
        (Integer) value.apply(GenerationParameter.MIN_NEW_TOKENS),
        (Integer) value.apply(GenerationParameter.NUM_BEAMS),
        (Double) value.apply(GenerationParameter.LENGTH_PENALTY),
        (Double) value.apply(GenerationParameter.REPETITION_PENALTY),
        (Boolean) value.apply(GenerationParameter.DO_SAMPLE),
        (Double) value.apply(GenerationParameter.TEMPERATURE),
        (Integer) value.apply(GenerationParameter.TOP_K),
        (Double) value.apply(GenerationParameter.TOP_P));
  }

  /**
   * The default of {@code p}: this directory's for those it sets, the reference default for the
   * others ({@code seed}: none; {@code num_return_sequences}: 1).
   */
  public Object get(GenerationParameter p) {
    return switch (p) {
      case MAX_NEW_TOKENS -> maxNewTokens;
      case MIN_NEW_TOKENS -> minNewTokens;
      case NUM_BEAMS -> numBeams;
      case LENGTH_PENALTY -> lengthPenalty;
      case REPETITION_PENALTY -> repetitionPenalty;
      case DO_SAMPLE -> doSample;
      case TEMPERATURE -> temperature;
      case TOP_K -> topK;
      case TOP_P -> topP;
      case SEED, NUM_RETURN_SEQUENCES -> p.referenceDefault();
    };
  }
}
