package io.instructblip.engine.generate;

import io.instructblip.engine.api.EngineException;
import io.instructblip.engine.api.ErrorCode;

/**
 * The range rules shared by {@link GenerationParams} and {@link GenerationDefaults}, and the fixed
 * ceilings no configuration may raise: the parser checks them where a request enters (through
 * {@link GenerationParams}), the engine again for every request it runs. The configurable, usually
 * lower ceilings are {@code io.instructblip.engine.RequestLimits}.
 *
 * <p>The temperature floor: logits divided by a temperature below about 1e-2 overflow float
 * arithmetic (a logit of 10 over 1e-300 is infinite) and sampling then fails; at 0.01 the largest
 * logits stay finite and sampling is all but greedy, which is what such a request wants.
 */
public final class ParameterRules {
  /** The most beams any request may ask for (the memory of beam search grows with them). */
  public static final int MAX_NUM_BEAMS = 64;

  /** The largest {@code max_new_tokens} any request may ask for. */
  public static final int MAX_NEW_TOKENS = 16_384;

  /** The largest {@code top_k} (larger than any vocabulary this runtime serves). */
  public static final int MAX_TOP_K = 1_000_000;

  /** The smallest temperature: below it the scaled logits overflow (see the type's note). */
  public static final double MIN_TEMPERATURE = 1e-2;

  /** The largest temperature. */
  public static final double MAX_TEMPERATURE = 100;

  /** The range of {@code repetition_penalty}: from {@code 1/MAX} to {@code MAX}. */
  public static final double MAX_REPETITION_PENALTY = 100;

  /** The range of {@code length_penalty}: from {@code -MAX} to {@code MAX}. */
  public static final double MAX_LENGTH_PENALTY = 100;

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
    if (maxNewTokens < 1 || maxNewTokens > MAX_NEW_TOKENS) {
      throw invalid(
          "max_new_tokens must be between 1 and " + MAX_NEW_TOKENS + ", got " + maxNewTokens);
    }
    if (minNewTokens < 0 || minNewTokens > maxNewTokens) {
      throw invalid(
          "min_new_tokens must be between 0 and max_new_tokens ("
              + maxNewTokens
              + "), got "
              + minNewTokens);
    }
    if (numBeams < 1 || numBeams > MAX_NUM_BEAMS) {
      throw invalid(
          "num_beams must be between 1 (no beam search) and "
              + MAX_NUM_BEAMS
              + ", got "
              + numBeams);
    }
    if (numReturnSequences < 1 || numReturnSequences > numBeams) {
      throw invalid(
          "num_return_sequences must be between 1 and num_beams ("
              + numBeams
              + "), got "
              + numReturnSequences);
    }
    if (!(lengthPenalty >= -MAX_LENGTH_PENALTY && lengthPenalty <= MAX_LENGTH_PENALTY)) {
      throw invalid(
          "length_penalty must be a number between "
              + -MAX_LENGTH_PENALTY
              + " and "
              + MAX_LENGTH_PENALTY
              + ", got "
              + lengthPenalty);
    }
    if (!(repetitionPenalty >= 1 / MAX_REPETITION_PENALTY
        && repetitionPenalty <= MAX_REPETITION_PENALTY)) {
      throw invalid(
          "repetition_penalty must be a number between "
              + 1 / MAX_REPETITION_PENALTY
              + " and "
              + MAX_REPETITION_PENALTY
              + " (1.0 means no penalty), got "
              + repetitionPenalty);
    }
    if (!(temperature >= MIN_TEMPERATURE && temperature <= MAX_TEMPERATURE)) {
      throw invalid(
          "temperature must be a number between "
              + MIN_TEMPERATURE
              + " and "
              + MAX_TEMPERATURE
              + " (lower values overflow; 0.01 is all but greedy, or set do_sample false), got "
              + temperature);
    }
    if (topK < 0 || topK > MAX_TOP_K) {
      throw invalid("top_k must be between 0 (off) and " + MAX_TOP_K + ", got " + topK);
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

  /** An {@link ErrorCode#INVALID_PARAMETER} failure with {@code message}. */
  public static EngineException invalid(String message) {
    return new EngineException(ErrorCode.INVALID_PARAMETER, message);
  }
}
