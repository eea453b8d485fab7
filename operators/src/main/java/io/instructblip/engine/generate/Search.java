package io.instructblip.engine.generate;

import java.util.List;

/**
 * The search of one sequence (one request), chosen once at admission: it holds one row (greedy,
 * sampling) or up to {@code num_beams} rows (beam search), takes the logits of the last position of
 * each live row per step, and says which token each row is fed next and which previous row's KV
 * cache it continues.
 *
 * <p>Protocol: after the prefill (one row), call {@link #step(float[][])} with the logits of the
 * last position of each of the {@link #rows()} rows; unless {@link #isDone()}, feed {@link
 * #nextTokens()}{@code [i]} to new row {@code i}, whose cache is the cache of old row {@link
 * #parentRows()}{@code [i]}. When done, read {@link #result()}. Not thread-safe.
 */
public interface Search {
  /** Live rows to feed the model at the next step (1 before the first step; 0 when done). */
  int rows();

  /**
   * Advances by one token.
   *
   * @param logits {@code [rows()][V]}: the logits of the last position of each live row
   */
  void step(float[][] logits);

  /** The token fed to each row at the next step ({@code rows()} entries). */
  int[] nextTokens();

  /** For each next row, the index of the row of the last {@link #step} it continues. */
  int[] parentRows();

  /** Whether the sequence is finished (EOS or {@code max_new_tokens}). */
  boolean isDone();

  /** The answer; only when {@link #isDone()}. */
  SearchResult result();

  /** The best {@code num_return_sequences} answers, best first; only when {@link #isDone()}. */
  default List<SearchResult> results() {
    return List.of(result());
  }

  /** How many tokens each live row has generated so far. */
  int generatedCount();

  /**
   * The search that {@code params} ask for.
   *
   * @param decoderPrefix the ids the decoder was fed before generating, part of the penalty set:
   *     the manifest's {@code decoder_start} for encoder_decoder models, nothing for decoder_only
   */
  static Search create(GenerationParams params, int... decoderPrefix) {
    return switch (params.searchKind()) {
      case GREEDY -> new GreedySearch(params, decoderPrefix);
      case SAMPLING -> new SamplingSearch(params, decoderPrefix);
      case BEAM -> new BeamSearch(params, decoderPrefix);
    };
  }
}
