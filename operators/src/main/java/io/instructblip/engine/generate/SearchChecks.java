package io.instructblip.engine.generate;

import io.instructblip.engine.api.EngineException;
import io.instructblip.engine.api.ErrorCode;

/** Shape checks at the boundary of a {@link Search}: they catch wiring mistakes of the engine. */
final class SearchChecks {
  private SearchChecks() {}

  /** Checks {@code logits} is {@code [rows][V]} with one V for all rows; returns V. */
  static int vocabSize(float[][] logits, int rows, int knownVocab, boolean done) {
    if (done) {
      throw new EngineException(
          ErrorCode.INTERNAL, "step() called on a finished search: read result() instead");
    }
    if (logits == null || logits.length != rows) {
      throw new EngineException(
          ErrorCode.INTERNAL,
          "step() needs logits for "
              + rows
              + " live row(s), got "
              + (logits == null ? "null" : logits.length + " row(s)"));
    }
    int vocab = knownVocab;
    for (int r = 0; r < rows; r++) {
      int length = logits[r] == null ? 0 : logits[r].length;
      if (length == 0 || (vocab > 0 && length != vocab)) {
        throw new EngineException(
            ErrorCode.INTERNAL,
            "logits row "
                + r
                + " has "
                + length
                + " scores, expected "
                + (vocab > 0 ? vocab : "the vocabulary size (> 0)"));
      }
      vocab = length;
    }
    return vocab;
  }

  /** Checks every id of the history and every EOS id is a valid index into a row of size V. */
  static void idsWithinVocab(TokenHistory history, GenerationParams params, int vocab) {
    for (int i = 0; i < history.size(); i++) {
      int id = history.idAt(i);
      if (id < 0 || id >= vocab) {
        throw new EngineException(
            ErrorCode.INVALID_PARAMETER,
            "decoder prefix id " + id + " is outside the vocabulary [0, " + vocab + ")");
      }
    }
    for (int eos : params.eosTokenIds()) {
      if (eos >= vocab) {
        throw new EngineException(
            ErrorCode.INVALID_PARAMETER,
            "eos token id " + eos + " is outside the vocabulary [0, " + vocab + ")");
      }
    }
  }

  static EngineException notDone() {
    return new EngineException(
        ErrorCode.INTERNAL, "result() called before the search finished: check isDone() first");
  }
}
