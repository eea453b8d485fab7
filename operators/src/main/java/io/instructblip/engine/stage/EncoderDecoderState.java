package io.instructblip.engine.stage;

import java.util.Objects;

/**
 * The decoder state of one encoder-decoder sequence: the self-attention cache of each of its rows
 * (beams) and the cross-attention cache its rows share. {@link #select} and {@link #reorder} act on
 * the rows; the cross cache never changes. {@link #close} frees both caches; a state made by {@link
 * #select} shares the cross cache, so close only the state that stays in use.
 */
public final class EncoderDecoderState implements AutoCloseable {
  private final SequenceKv self;
  private final CrossKv cross;

  /** A state from its parts. */
  public EncoderDecoderState(SequenceKv self, CrossKv cross) {
    this.self = Objects.requireNonNull(self, "self");
    this.cross = Objects.requireNonNull(cross, "cross");
  }

  /** The self-attention cache (decoder positions so far, starting with {@code decoder_start}). */
  public SequenceKv self() {
    return self;
  }

  /** The cross-attention cache. */
  public CrossKv cross() {
    return cross;
  }

  /** The number of rows (beams). */
  public int rows() {
    return self.rows();
  }

  /** A new state with the given rows, in that order (rows may repeat); this one is unchanged. */
  public EncoderDecoderState select(int[] rowIndices) {
    return new EncoderDecoderState(self.select(rowIndices), cross);
  }

  /** Replaces the rows by the given rows, in place (beam reordering). */
  public void reorder(int[] rowIndices) {
    self.reorder(rowIndices);
  }

  /** Frees the self and cross caches. */
  @Override
  public void close() {
    self.close();
    cross.close();
  }

  @Override
  public String toString() {
    return "EncoderDecoderState[rows="
        + rows()
        + ", decoded="
        + self.length()
        + ", encoded="
        + cross.length()
        + "]";
  }
}
