package io.instructblip.engine.generate;

import java.util.Arrays;

/**
 * The token ids of one row (one sequence, or one beam): an optional prefix that the model was fed
 * before generating (for encoder_decoder models, {@code decoder_start}) followed by the generated
 * ids. Immutable: {@link #append(int)} returns a new history, so beams can share their parent's.
 *
 * <p>All its ids form the row's <em>penalty set</em> (what HF's {@code input_ids} holds when
 * generating from {@code inputs_embeds}); only the generated ones count as new tokens.
 */
public final class TokenHistory {
  private static final int[] NONE = new int[0];

  private final int[] ids;
  private final int prefixLength;

  private TokenHistory(int[] ids, int prefixLength) {
    this.ids = ids;
    this.prefixLength = prefixLength;
  }

  /** A history with nothing generated yet; {@code prefix} is copied (empty for decoder_only). */
  public static TokenHistory startingWith(int... prefix) {
    int[] copy = prefix.length == 0 ? NONE : prefix.clone();
    return new TokenHistory(copy, copy.length);
  }

  /** This history followed by {@code tokenId}. */
  public TokenHistory append(int tokenId) {
    int[] next = Arrays.copyOf(ids, ids.length + 1);
    next[ids.length] = tokenId;
    return new TokenHistory(next, prefixLength);
  }

  /** How many tokens were generated (the prefix not counted). */
  public int generatedCount() {
    return ids.length - prefixLength;
  }

  /** The number of ids in the penalty set, duplicates included. */
  public int size() {
    return ids.length;
  }

  /** The {@code i}-th id of the whole history (prefix first). */
  public int idAt(int i) {
    return ids[i];
  }

  /** A copy of the generated ids, without the prefix. */
  public int[] generatedIds() {
    return Arrays.copyOfRange(ids, prefixLength, ids.length);
  }

  /** A copy of every id, prefix included. */
  public int[] allIds() {
    return ids.clone();
  }

  @Override
  public String toString() {
    return "TokenHistory{prefix="
        + Arrays.toString(Arrays.copyOf(ids, prefixLength))
        + ", generated="
        + Arrays.toString(generatedIds())
        + "}";
  }
}
