package io.instructblip.engine.generate;

import io.instructblip.engine.api.EngineException;
import io.instructblip.engine.api.ErrorCode;

/**
 * The failure of a broken generation rule. The rules themselves are {@link
 * io.instructblip.engine.api.GenerationParameter}'s (the one specification); the configurable,
 * usually lower ceilings are {@code io.instructblip.engine.RequestLimits}.
 */
public final class ParameterRules {

  private ParameterRules() {}

  /** An {@link ErrorCode#INVALID_PARAMETER} failure with {@code message}. */
  public static EngineException invalid(String message) {
    return new EngineException(ErrorCode.INVALID_PARAMETER, message);
  }
}
