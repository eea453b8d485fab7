package io.instructblip.engine.generate;

import io.instructblip.engine.api.EngineException;
import io.instructblip.engine.api.ErrorCode;
import io.instructblip.engine.api.GenerationParameter;
import java.util.function.Function;

/**
 * Checks a full set of generation parameters against the rules of {@link GenerationParameter} (the
 * one specification of names, bounds and rules) and the one rule that ties two of them: no {@code
 * do_sample} with {@code num_beams > 1}. {@link GenerationParams} and {@link GenerationDefaults}
 * call it; the parser checks where a request enters (through {@link GenerationParams}), the engine
 * again for every request it runs. The configurable, usually lower ceilings are {@code
 * io.instructblip.engine.RequestLimits}.
 */
public final class ParameterRules {

  private ParameterRules() {}

  /**
   * Checks every parameter's rule, in the specification's order, then the cross rule.
   *
   * @param values every parameter's value ({@code null} only for {@link GenerationParameter#SEED})
   * @throws EngineException {@link ErrorCode#INVALID_PARAMETER} naming the first broken rule
   */
  static void check(Function<GenerationParameter, Object> values) {
    for (GenerationParameter p : GenerationParameter.values()) {
      Object value = values.apply(p);
      if (value == null) {
        continue;
      }
      String violation = p.violation(value, values);
      if (violation != null) {
        throw invalid(violation);
      }
    }
    int numBeams = (Integer) values.apply(GenerationParameter.NUM_BEAMS);
    if ((Boolean) values.apply(GenerationParameter.DO_SAMPLE) && numBeams > 1) {
      throw invalid(
          "do_sample cannot be combined with num_beams > 1 (got num_beams "
              + numBeams
              + "): set num_beams to 1 to sample, or do_sample to false for beam search");
    }
  }

  /**
   * Checks one parameter on its own (a bound that is another parameter is not checked), as the
   * logits processors do for the value they are given.
   *
   * @throws EngineException {@link ErrorCode#INVALID_PARAMETER} naming the broken rule
   */
  static void check(GenerationParameter p, Object value) {
    String violation = p.violation(value, other -> null);
    if (violation != null) {
      throw invalid(violation);
    }
  }

  /** An {@link ErrorCode#INVALID_PARAMETER} failure with {@code message}. */
  public static EngineException invalid(String message) {
    return new EngineException(ErrorCode.INVALID_PARAMETER, message);
  }
}
