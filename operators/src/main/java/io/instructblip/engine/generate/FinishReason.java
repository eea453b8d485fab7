package io.instructblip.engine.generate;

import java.util.Locale;

/** Why a sequence stopped, as written in a response's {@code finish_reason}. */
public enum FinishReason {
  /** The sequence generated an end-of-sequence token (not part of the returned ids). */
  EOS,
  /** The sequence reached {@code max_new_tokens}. */
  LENGTH,
  /** The answer is the best candidate of a ranking request (no generation took place). */
  RANK;

  /** The lower-case name used on the wire: {@code eos}, {@code length}, {@code rank}. */
  public String wireName() {
    return name().toLowerCase(Locale.ROOT);
  }
}
