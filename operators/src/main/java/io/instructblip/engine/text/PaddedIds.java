package io.instructblip.engine.text;

/**
 * A batch of token sequences padded to one length, row-major, ready for {@code [B, T]} int64
 * tensors.
 *
 * @param batchSize the number of rows {@code B}
 * @param length the padded length {@code T}
 * @param ids the token ids, {@code B * T}, padding positions hold the pad id
 * @param mask {@code 1} for a real token, {@code 0} for padding, {@code B * T}
 */
public record PaddedIds(int batchSize, int length, long[] ids, long[] mask) {}
