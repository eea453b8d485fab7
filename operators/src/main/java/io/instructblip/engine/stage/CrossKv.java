package io.instructblip.engine.stage;

import io.instructblip.engine.model.FloatTensor;
import java.util.Objects;

/**
 * The cross-attention keys and values of one encoder-decoder sequence: per layer {@code [H, E, hd]}
 * over its real encoder positions only. Computed once by {@code decoder_init} and shared, read
 * only, by every beam of the sequence.
 */
public final class CrossKv {
  private final int heads;
  private final int headDim;
  private final int length;
  private final float[][] keys;
  private final float[][] values;

  private CrossKv(int heads, int headDim, int length, float[][] keys, float[][] values) {
    this.heads = heads;
    this.headDim = headDim;
    this.length = length;
    this.keys = keys;
    this.values = values;
  }

  /** The number of layers. */
  public int layers() {
    return keys.length;
  }

  /** The number of real encoder positions (E of this sequence). */
  public int length() {
    return length;
  }

  /** The key of a layer as {@code [H, E, hd]} (a copy). */
  public FloatTensor key(int layer) {
    return new FloatTensor(new int[] {heads, length, headDim}, keys[layer].clone());
  }

  /** The value of a layer as {@code [H, E, hd]} (a copy). */
  public FloatTensor value(int layer) {
    return new FloatTensor(new int[] {heads, length, headDim}, values[layer].clone());
  }

  /**
   * Takes positions {@code [0, length)} of batch index {@code b} from per-layer tensors {@code [B,
   * H, E, hd]}.
   */
  static CrossKv fromBatch(FloatTensor[] batchKeys, FloatTensor[] batchValues, int b, int length) {
    Objects.checkIndex(b, batchKeys[0].dim(0));
    int heads = batchKeys[0].dim(1);
    int total = batchKeys[0].dim(2);
    int headDim = batchKeys[0].dim(3);
    float[][] keys = new float[batchKeys.length][];
    float[][] values = new float[batchKeys.length][];
    for (int layer = 0; layer < batchKeys.length; layer++) {
      keys[layer] = take(batchKeys[layer].data(), b, heads, total, headDim, length);
      values[layer] = take(batchValues[layer].data(), b, heads, total, headDim, length);
    }
    return new CrossKv(heads, headDim, length, keys, values);
  }

  private static float[] take(float[] batch, int b, int heads, int total, int headDim, int n) {
    float[] result = new float[heads * n * headDim];
    for (int h = 0; h < heads; h++) {
      System.arraycopy(
          batch, ((b * heads + h) * total) * headDim, result, h * n * headDim, n * headDim);
    }
    return result;
  }

  /**
   * Copies one layer into a right-padded batch tensor {@code [B, H, E, hd]} at batch index {@code
   * b}.
   */
  void writePadded(int layer, boolean value, float[] dest, int b, int paddedLength) {
    float[] source = (value ? values : keys)[layer];
    for (int h = 0; h < heads; h++) {
      System.arraycopy(
          source,
          h * length * headDim,
          dest,
          ((b * heads + h) * paddedLength) * headDim,
          length * headDim);
    }
  }
}
