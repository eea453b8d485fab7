package io.instructblip.engine.stage;

import io.instructblip.engine.model.FloatTensor;
import java.util.Arrays;
import java.util.Objects;

/**
 * The self-attention KV cache of one sequence: {@code rows} rows (one per beam; 1 for greedy or
 * sampling) of equal length, each with a key and a value per layer holding only the sequence's real
 * positions. The LLM classes pack rows of many sequences into one padded batch per step and append
 * the new positions back here, so rows can be added, removed and reordered between any two steps.
 *
 * <p>Storage is position-major ({@code [capacity, kvH, hd]} per row, layer and key/value) so that
 * appending a position is one copy; capacity grows by doubling. Not thread-safe.
 */
public final class SequenceKv {
  private final int layers;
  private final int heads;
  private final int headDim;
  private final int positionSize;
  private int length;
  private int capacity;
  // [layer][row] -> float[capacity * heads * headDim], position-major
  private float[][][] keys;
  private float[][][] values;

  private SequenceKv(int layers, int heads, int headDim, int rows, int capacity) {
    if (layers <= 0 || heads <= 0 || headDim <= 0 || rows <= 0) {
      throw new IllegalArgumentException(
          "layers, heads, headDim and rows must be > 0, found "
              + layers
              + ", "
              + heads
              + ", "
              + headDim
              + ", "
              + rows);
    }
    this.layers = layers;
    this.heads = heads;
    this.headDim = headDim;
    this.positionSize = heads * headDim;
    this.capacity = capacity;
    this.keys = new float[layers][rows][capacity * positionSize];
    this.values = new float[layers][rows][capacity * positionSize];
  }

  /** An empty cache (length 0) of {@code rows} rows. */
  public static SequenceKv empty(int layers, int heads, int headDim, int rows) {
    return new SequenceKv(layers, heads, headDim, rows, 0);
  }

  /** The number of layers. */
  public int layers() {
    return layers;
  }

  /** The number of key/value heads. */
  public int heads() {
    return heads;
  }

  /** The size of one head. */
  public int headDim() {
    return headDim;
  }

  /** The number of rows (beams). */
  public int rows() {
    return keys[0].length;
  }

  /** The number of cached positions, the same for every row. */
  public int length() {
    return length;
  }

  /**
   * Appends {@code n} positions to every row. {@code newKeys[layer]} and {@code newValues[layer]}
   * are {@code [rows, kvH, n, hd]}.
   */
  public void append(FloatTensor[] newKeys, FloatTensor[] newValues) {
    if (newKeys.length != layers || newValues.length != layers) {
      throw new IllegalArgumentException("expected one key and one value tensor per layer");
    }
    int n = newKeys[0].dim(2);
    int[] expected = {rows(), heads, n, headDim};
    for (int layer = 0; layer < layers; layer++) {
      for (FloatTensor tensor : new FloatTensor[] {newKeys[layer], newValues[layer]}) {
        if (!Arrays.equals(tensor.shape(), expected)) {
          throw new IllegalArgumentException(
              "layer "
                  + layer
                  + ": expected shape "
                  + Arrays.toString(expected)
                  + ", found "
                  + Arrays.toString(tensor.shape()));
        }
      }
    }
    reserve(n);
    for (int layer = 0; layer < layers; layer++) {
      for (int row = 0; row < rows(); row++) {
        writeNew(layer, false, row, newKeys[layer].data(), row, n, 0, n);
        writeNew(layer, true, row, newValues[layer].data(), row, n, 0, n);
      }
    }
    commit(n);
  }

  /**
   * A new cache with the given rows of this one, in that order; a row may appear several times (a
   * beam with several children) or not at all. This cache is unchanged.
   */
  public SequenceKv select(int[] rowIndices) {
    checkRows(rowIndices);
    SequenceKv result = new SequenceKv(layers, heads, headDim, rowIndices.length, length);
    result.length = length;
    int used = length * positionSize;
    for (int layer = 0; layer < layers; layer++) {
      for (int i = 0; i < rowIndices.length; i++) {
        System.arraycopy(keys[layer][rowIndices[i]], 0, result.keys[layer][i], 0, used);
        System.arraycopy(values[layer][rowIndices[i]], 0, result.values[layer][i], 0, used);
      }
    }
    return result;
  }

  /**
   * Replaces the rows of this cache by the given rows, in place (beam reordering). Only rows used
   * more than once are copied; the others move.
   */
  public void reorder(int[] rowIndices) {
    checkRows(rowIndices);
    boolean[] moved = new boolean[rows()];
    float[][][] newKeys = new float[layers][rowIndices.length][];
    float[][][] newValues = new float[layers][rowIndices.length][];
    for (int i = 0; i < rowIndices.length; i++) {
      int source = rowIndices[i];
      boolean copy = moved[source];
      moved[source] = true;
      for (int layer = 0; layer < layers; layer++) {
        newKeys[layer][i] = copy ? keys[layer][source].clone() : keys[layer][source];
        newValues[layer][i] = copy ? values[layer][source].clone() : values[layer][source];
      }
    }
    keys = newKeys;
    values = newValues;
  }

  /** An independent copy. */
  public SequenceKv copy() {
    int[] all = new int[rows()];
    Arrays.setAll(all, i -> i);
    return select(all);
  }

  /** The key of one row and layer as {@code [kvH, length, hd]} (a copy). */
  public FloatTensor key(int layer, int row) {
    return headMajor(keys[layer][row]);
  }

  /** The value of one row and layer as {@code [kvH, length, hd]} (a copy). */
  public FloatTensor value(int layer, int row) {
    return headMajor(values[layer][row]);
  }

  private FloatTensor headMajor(float[] storage) {
    float[] data = new float[length * positionSize];
    for (int h = 0; h < heads; h++) {
      for (int p = 0; p < length; p++) {
        System.arraycopy(
            storage, p * positionSize + h * headDim, data, (h * length + p) * headDim, headDim);
      }
    }
    return new FloatTensor(new int[] {heads, length, headDim}, data);
  }

  private void checkRows(int[] rowIndices) {
    Objects.requireNonNull(rowIndices, "rowIndices");
    if (rowIndices.length == 0) {
      throw new IllegalArgumentException("a cache needs at least one row");
    }
    for (int index : rowIndices) {
      Objects.checkIndex(index, rows());
    }
  }

  // ---- packing support for the LLM classes ----

  /**
   * Copies one row's positions of one layer into a left-padded batch tensor {@code [B, kvH, P, hd]}
   * at batch index {@code b}: position {@code p} goes to {@code P - length + p}.
   */
  void writePast(int layer, boolean value, int row, float[] dest, int b, int paddedLength) {
    float[] source = (value ? values : keys)[layer][row];
    int offset = paddedLength - length;
    for (int h = 0; h < heads; h++) {
      int destBase = ((b * heads + h) * paddedLength + offset) * headDim;
      for (int p = 0; p < length; p++) {
        System.arraycopy(
            source, p * positionSize + h * headDim, dest, destBase + p * headDim, headDim);
      }
    }
  }

  /** Makes room for {@code n} more positions in every row. */
  void reserve(int n) {
    int needed = length + n;
    if (needed <= capacity) {
      return;
    }
    int newCapacity = Math.max(needed, Math.max(16, capacity * 2));
    for (int layer = 0; layer < layers; layer++) {
      for (int row = 0; row < rows(); row++) {
        keys[layer][row] = Arrays.copyOf(keys[layer][row], newCapacity * positionSize);
        values[layer][row] = Arrays.copyOf(values[layer][row], newCapacity * positionSize);
      }
    }
    capacity = newCapacity;
  }

  /**
   * Copies positions {@code [from, from + n)} of batch index {@code b} of a present tensor {@code
   * [B, kvH, total, hd]} after this row's current length. Call {@link #reserve} first and {@link
   * #commit} when every row and layer is written.
   */
  void writeNew(
      int layer, boolean value, int row, float[] present, int b, int total, int from, int n) {
    float[] dest = (value ? values : keys)[layer][row];
    for (int h = 0; h < heads; h++) {
      int sourceBase = ((b * heads + h) * total + from) * headDim;
      for (int i = 0; i < n; i++) {
        System.arraycopy(
            present,
            sourceBase + i * headDim,
            dest,
            (length + i) * positionSize + h * headDim,
            headDim);
      }
    }
  }

  /** Records {@code n} appended positions. */
  void commit(int n) {
    length += n;
  }

  @Override
  public String toString() {
    return "SequenceKv[rows=" + rows() + ", length=" + length + "]";
  }
}
