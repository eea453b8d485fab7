package io.instructblip.engine.stage;

import ai.onnxruntime.OnnxJavaType;
import io.instructblip.engine.model.FloatTensor;
import io.instructblip.engine.model.HostTensor;
import java.util.Objects;

/**
 * The cross-attention keys and values of one encoder-decoder sequence: per layer {@code [H, E, hd]}
 * over its real encoder positions only, in the storage of its {@link SequenceKv}. Computed once by
 * {@code decoder_init} and shared, read only, by every beam of the sequence; {@link #close} gives
 * native memory back.
 */
public final class CrossKv implements AutoCloseable {
  private final int length;
  private final KvBlock[] keys;
  private final KvBlock[] values;
  private boolean closed;

  private CrossKv(int length, KvBlock[] keys, KvBlock[] values) {
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

  /** The key of a layer as float32 {@code [H, E, hd]} (a copy). */
  public FloatTensor key(int layer) {
    checkOpen();
    return keys[layer].toFloat(length);
  }

  /** The value of a layer as float32 {@code [H, E, hd]} (a copy). */
  public FloatTensor value(int layer) {
    checkOpen();
    return values[layer].toFloat(length);
  }

  /**
   * Takes positions {@code [0, length)} of batch index {@code b} from per-layer tensors {@code [B,
   * H, E, hd]} of the given storage.
   */
  static CrossKv fromBatch(
      KvStorage storage,
      OnnxJavaType type,
      HostTensor[] batchKeys,
      HostTensor[] batchValues,
      int b,
      int length) {
    int[] shape = batchKeys[0].shape();
    Objects.checkIndex(b, shape[0]);
    KvBlock[] keys = new KvBlock[batchKeys.length];
    KvBlock[] values = new KvBlock[batchKeys.length];
    for (int layer = 0; layer < batchKeys.length; layer++) {
      keys[layer] = KvBlock.allocate(storage, type, shape[1], length, shape[3]);
      keys[layer].readFrom(batchKeys[layer], b, 0, 0, length);
      values[layer] = KvBlock.allocate(storage, type, shape[1], length, shape[3]);
      values[layer].readFrom(batchValues[layer], b, 0, 0, length);
    }
    return new CrossKv(length, keys, values);
  }

  /**
   * Copies one layer into a right-padded batch tensor {@code [B, H, E, hd]} at batch index {@code
   * b}.
   */
  void writePadded(int layer, boolean value, HostTensor dest, int b) {
    checkOpen();
    (value ? values : keys)[layer].writeTo(dest, b, 0, length);
  }

  private void checkOpen() {
    if (closed) {
      throw new IllegalStateException("the cross-attention cache was closed");
    }
  }

  /** Frees every block; closing twice does nothing. */
  @Override
  public void close() {
    if (closed) {
      return;
    }
    closed = true;
    for (int layer = 0; layer < keys.length; layer++) {
      keys[layer].free();
      values[layer].free();
    }
  }
}
