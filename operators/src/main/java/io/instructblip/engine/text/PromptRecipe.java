package io.instructblip.engine.text;

import java.util.Arrays;
import java.util.List;
import java.util.Objects;

/**
 * The token-level recipe of one text input (manifest {@code prompt.qformer} or {@code prompt.llm},
 * see docs/model-format.md "Token-level recipe"): {@code prefixIds + encode(text) + suffixIds},
 * refused when longer than {@code maxTokens}, batches padded on {@code paddingSide} with {@code
 * padId}.
 *
 * @param prefixIds ids placed before the text (e.g. {@code [CLS]} or BOS)
 * @param suffixIds ids placed after the text (e.g. {@code [SEP]} or T5's {@code </s>})
 * @param maxTokens the longest sequence accepted, specials included
 * @param paddingSide where batches are padded
 * @param padId the id padding positions hold
 */
public record PromptRecipe(
    long[] prefixIds, long[] suffixIds, int maxTokens, PaddingSide paddingSide, long padId) {

  /** Validates the recipe and copies the arrays. */
  public PromptRecipe {
    Objects.requireNonNull(prefixIds, "prefixIds");
    Objects.requireNonNull(suffixIds, "suffixIds");
    Objects.requireNonNull(paddingSide, "paddingSide");
    prefixIds = prefixIds.clone();
    suffixIds = suffixIds.clone();
    if (maxTokens <= prefixIds.length + suffixIds.length) {
      throw new IllegalArgumentException(
          "max_tokens ("
              + maxTokens
              + ") must exceed the "
              + (prefixIds.length + suffixIds.length)
              + " prefix and suffix ids, or no instruction fits");
    }
    for (long id : prefixIds) {
      checkId(id, "prefix_ids");
    }
    for (long id : suffixIds) {
      checkId(id, "suffix_ids");
    }
    checkId(padId, "pad id");
  }

  @Override
  public long[] prefixIds() {
    return prefixIds.clone();
  }

  @Override
  public long[] suffixIds() {
    return suffixIds.clone();
  }

  /** {@code prefixIds + textIds + suffixIds}, without a length check. */
  public long[] wrap(long[] textIds) {
    long[] out = new long[prefixIds.length + textIds.length + suffixIds.length];
    System.arraycopy(prefixIds, 0, out, 0, prefixIds.length);
    System.arraycopy(textIds, 0, out, prefixIds.length, textIds.length);
    System.arraycopy(suffixIds, 0, out, prefixIds.length + textIds.length, suffixIds.length);
    return out;
  }

  /** {@code rows} padded to the longest on {@link #paddingSide()} with {@link #padId()}. */
  public PaddedIds pad(List<long[]> rows) {
    if (rows.isEmpty()) {
      throw new IllegalArgumentException("cannot pad an empty batch");
    }
    int length = 0;
    for (long[] row : rows) {
      length = Math.max(length, row.length);
    }
    int batch = rows.size();
    long[] ids = new long[batch * length];
    long[] mask = new long[batch * length];
    Arrays.fill(ids, padId);
    for (int b = 0; b < batch; b++) {
      long[] row = rows.get(b);
      int start = b * length + (paddingSide == PaddingSide.LEFT ? length - row.length : 0);
      System.arraycopy(row, 0, ids, start, row.length);
      Arrays.fill(mask, start, start + row.length, 1L);
    }
    return new PaddedIds(batch, length, ids, mask);
  }

  @Override
  public boolean equals(Object o) {
    return o instanceof PromptRecipe other
        && Arrays.equals(prefixIds, other.prefixIds)
        && Arrays.equals(suffixIds, other.suffixIds)
        && maxTokens == other.maxTokens
        && paddingSide == other.paddingSide
        && padId == other.padId;
  }

  @Override
  public int hashCode() {
    return Objects.hash(
        Arrays.hashCode(prefixIds), Arrays.hashCode(suffixIds), maxTokens, paddingSide, padId);
  }

  @Override
  public String toString() {
    return "PromptRecipe[prefixIds="
        + Arrays.toString(prefixIds)
        + ", suffixIds="
        + Arrays.toString(suffixIds)
        + ", maxTokens="
        + maxTokens
        + ", paddingSide="
        + paddingSide
        + ", padId="
        + padId
        + "]";
  }

  private static void checkId(long id, String what) {
    if (id < 0) {
      throw new IllegalArgumentException(what + " must be non-negative token ids, got " + id);
    }
  }
}
