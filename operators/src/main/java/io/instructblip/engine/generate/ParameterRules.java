package io.instructblip.engine.generate;

import io.instructblip.engine.EngineException;
import io.instructblip.engine.ErrorCode;

/** The range rules shared by {@link GenerationParams} and {@link GenerationDefaults}. */
final class ParameterRules {
  private ParameterRules() {}

  static void check(
      int maxNewTokens,
      int minNewTokens,
      int numBeams,
      int numReturnSequences,
      double lengthPenalty,
      double repetitionPenalty,
      boolean doSample,
      double temperature,
      int topK,
      double topP) {
    if (maxNewTokens < 1) {
      throw invalid("max_new_tokens must be at least 1, got " + maxNewTokens);
    }
    if (minNewTokens < 0 || minNewTokens > maxNewTokens) {
      throw invalid(
          "min_new_tokens must be between 0 and max_new_tokens ("
              + maxNewTokens
              + "), got "
              + minNewTokens);
    }
    if (numBeams < 1) {
      throw invalid("num_beams must be at least 1 (1 means no beam search), got " + numBeams);
    }
    if (numReturnSequences < 1 || numReturnSequences > numBeams) {
      throw invalid(
          "num_return_sequences must be between 1 and num_beams ("
              + numBeams
              + "), got "
              + numReturnSequences);
    }
    if (!Double.isFinite(lengthPenalty)) {
      throw invalid("length_penalty must be a finite number, got " + lengthPenalty);
    }
    if (!(repetitionPenalty > 0) || Double.isInfinite(repetitionPenalty)) {
      throw invalid(
          "repetition_penalty must be a finite number greater than 0 (1.0 means no penalty), got "
              + repetitionPenalty);
    }
    if (!(temperature > 0) || Double.isInfinite(temperature)) {
      throw invalid("temperature must be a finite number greater than 0, got " + temperature);
    }
    if (topK < 0) {
      throw invalid("top_k must be at least 0 (0 turns it off), got " + topK);
    }
    if (!(topP > 0 && topP <= 1)) {
      throw invalid("top_p must be greater than 0 and at most 1 (1.0 turns it off), got " + topP);
    }
    if (doSample && numBeams > 1) {
      throw invalid(
          "do_sample cannot be combined with num_beams > 1 (got num_beams "
              + numBeams
              + "): set num_beams to 1 to sample, or do_sample to false for beam search");
    }
  }

  static EngineException invalid(String message) {
    return new EngineException(ErrorCode.INVALID_PARAMETER, message);
  }
}
