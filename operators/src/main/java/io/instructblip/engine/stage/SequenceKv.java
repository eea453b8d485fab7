package io.instructblip.engine.stage;

import ai.onnxruntime.OnnxJavaType;
import io.instructblip.engine.model.FloatTensor;
import io.instructblip.engine.model.HostTensor;
import java.util.Arrays;
import java.util.Objects;

/**
 * The self-attention KV cache of one sequence: {@code rows} rows (one per beam; 1 for greedy or
 * sampling) of equal length, each with a key and a value per layer holding only the sequence's real
 * positions. The LLM classes pack rows of many sequences into one padded batch per step and append
 * the new positions back here, so rows can be added, removed and reordered between any two steps.
 *
 * <p>Each row, layer and key/value is a {@link KvBlock} ({@code [kvH, capacity, hd]}, head-major
 * like the decoder's tensors); capacity grows by doubling. The blocks live where {@link KvStorage}
 * says: native memory in the model's dtype, or float32 on the heap. {@link #close} gives native
 * memory back; a sequence that leaves the batch must be closed. Not thread-safe.
 */
public final class SequenceKv implements AutoCloseable {
  private final KvStorage storage;
  private final OnnxJavaType type;
  private final int layers;
  private final int heads;
  private final int headDim;
  private int length;
  private int capacity;
  private boolean closed;
  // changes whenever positions are appended, rows reordered or the cache closed (see KvCarry)
  private long version;
  // [layer][row]
  private KvBlock[][] keys;
  private KvBlock[][] values;

  private SequenceKv(
      KvStorage storage,
      OnnxJavaType type,
      int heads,
      int headDim,
      int capacity,
      KvBlock[][] keys,
      KvBlock[][] values) {
    this.storage = storage;
    this.type = type;
    this.layers = keys.length;
    this.heads = heads;
    this.headDim = headDim;
    this.capacity = capacity;
    this.keys = keys;
    this.values = values;
  }

  /** An empty float32 cache (length 0) of {@code rows} rows on the heap. */
  public static SequenceKv empty(int layers, int heads, int headDim, int rows) {
    return empty(KvStorage.HEAP, OnnxJavaType.FLOAT, layers, heads, headDim, rows);
  }

  /**
   * An empty cache (length 0) of {@code rows} rows in the given storage; {@code type} is the
   * model's KV element type (native storage keeps it; the heap holds float32).
   */
  public static SequenceKv empty(
      KvStorage storage, OnnxJavaType type, int layers, int heads, int headDim, int rows) {
    Objects.requireNonNull(storage, "storage");
    Objects.requireNonNull(type, "type");
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
    KvBlock[][] keys = new KvBlock[layers][rows];
    KvBlock[][] values = new KvBlock[layers][rows];
    for (int layer = 0; layer < layers; layer++) {
      for (int row = 0; row < rows; row++) {
        keys[layer][row] = KvBlock.allocate(storage, type, heads, 0, headDim);
        values[layer][row] = KvBlock.allocate(storage, type, heads, 0, headDim);
      }
    }
    return new SequenceKv(storage, type, heads, headDim, 0, keys, values);
  }

  /** Where the blocks live. */
  public KvStorage storage() {
    return storage;
  }

  /** The element type of the blocks: the model's in native memory, float32 on the heap. */
  public OnnxJavaType elementType() {
    return storage == KvStorage.HEAP ? OnnxJavaType.FLOAT : type;
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
   * are {@code [rows, kvH, n, hd]}, of this cache's storage.
   */
  public void append(HostTensor[] newKeys, HostTensor[] newValues) {
    checkOpen();
    if (newKeys.length != layers || newValues.length != layers) {
      throw new IllegalArgumentException("expected one key and one value tensor per layer");
    }
    int n = newKeys[0].shape()[2];
    int[] expected = {rows(), heads, n, headDim};
    for (int layer = 0; layer < layers; layer++) {
      for (HostTensor tensor : new HostTensor[] {newKeys[layer], newValues[layer]}) {
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
        writeNew(layer, false, row, newKeys[layer], row, 0, n);
        writeNew(layer, true, row, newValues[layer], row, 0, n);
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
    KvBlock[][] newKeys = new KvBlock[layers][rowIndices.length];
    KvBlock[][] newValues = new KvBlock[layers][rowIndices.length];
    for (int layer = 0; layer < layers; layer++) {
      for (int i = 0; i < rowIndices.length; i++) {
        newKeys[layer][i] = keys[layer][rowIndices[i]].resized(length, length);
        newValues[layer][i] = values[layer][rowIndices[i]].resized(length, length);
      }
    }
    SequenceKv result = new SequenceKv(storage, type, heads, headDim, length, newKeys, newValues);
    result.length = length;
    return result;
  }

  /**
   * Replaces the rows of this cache by the given rows, in place (beam reordering). Only rows used
   * more than once are copied; the others move, and rows not used are freed.
   */
  public void reorder(int[] rowIndices) {
    checkRows(rowIndices);
    if (isIdentity(rowIndices)) {
      return;
    }
    version++;
    boolean[] moved = new boolean[rows()];
    KvBlock[][] newKeys = new KvBlock[layers][rowIndices.length];
    KvBlock[][] newValues = new KvBlock[layers][rowIndices.length];
    for (int i = 0; i < rowIndices.length; i++) {
      int source = rowIndices[i];
      boolean copy = moved[source];
      moved[source] = true;
      for (int layer = 0; layer < layers; layer++) {
        KvBlock key = keys[layer][source];
        KvBlock value = values[layer][source];
        newKeys[layer][i] = copy ? key.resized(capacity, length) : key;
        newValues[layer][i] = copy ? value.resized(capacity, length) : value;
      }
    }
    for (int row = 0; row < moved.length; row++) {
      if (!moved[row]) {
        for (int layer = 0; layer < layers; layer++) {
          keys[layer][row].free();
          values[layer][row].free();
        }
      }
    }
    keys = newKeys;
    values = newValues;
  }

  private boolean isIdentity(int[] rowIndices) {
    if (rowIndices.length != rows()) {
      return false;
    }
    for (int i = 0; i < rowIndices.length; i++) {
      if (rowIndices[i] != i) {
        return false;
      }
    }
    return true;
  }

  /** An independent copy. */
  public SequenceKv copy() {
    int[] all = new int[rows()];
    Arrays.setAll(all, i -> i);
    return select(all);
  }

  /** The key of one row and layer as float32 {@code [kvH, length, hd]} (a copy). */
  public FloatTensor key(int layer, int row) {
    checkOpen();
    return keys[layer][row].toFloat(length);
  }

  /** The value of one row and layer as float32 {@code [kvH, length, hd]} (a copy). */
  public FloatTensor value(int layer, int row) {
    checkOpen();
    return values[layer][row].toFloat(length);
  }

  private void checkRows(int[] rowIndices) {
    checkOpen();
    Objects.requireNonNull(rowIndices, "rowIndices");
    if (rowIndices.length == 0) {
      throw new IllegalArgumentException("a cache needs at least one row");
    }
    for (int index : rowIndices) {
      Objects.checkIndex(index, rows());
    }
  }

  private void checkOpen() {
    if (closed) {
      throw new IllegalStateException("the KV cache was closed");
    }
  }

  /** Whether {@link #close} was called. */
  public boolean isClosed() {
    return closed;
  }

  /** Frees every block (native memory goes back at once); closing twice does nothing. */
  @Override
  public void close() {
    if (closed) {
      return;
    }
    closed = true;
    version++;
    for (int layer = 0; layer < layers; layer++) {
      for (int row = 0; row < rows(); row++) {
        keys[layer][row].free();
        values[layer][row].free();
      }
    }
  }

  // ---- packing support for the LLM classes ----

  /**
   * Copies one row's positions of one layer into a left-padded batch tensor {@code [B, kvH, P, hd]}
   * at batch index {@code b}: position {@code p} goes to {@code P - length + p}.
   */
  void writePast(int layer, boolean value, int row, HostTensor dest, int b) {
    checkOpen();
    int padded = dest.shape()[2];
    (value ? values : keys)[layer][row].writeTo(dest, b, padded - length, length);
  }

  /** Makes room for {@code n} more positions in every row. */
  void reserve(int n) {
    checkOpen();
    int needed = length + n;
    if (needed <= capacity) {
      return;
    }
    int newCapacity = Math.max(needed, Math.max(16, capacity * 2));
    for (int layer = 0; layer < layers; layer++) {
      for (int row = 0; row < rows(); row++) {
        KvBlock key = keys[layer][row];
        KvBlock value = values[layer][row];
        keys[layer][row] = key.resized(newCapacity, length);
        values[layer][row] = value.resized(newCapacity, length);
        key.free();
        value.free();
      }
    }
    capacity = newCapacity;
  }

  /**
   * Copies positions {@code [from, from + n)} of batch index {@code b} of a present tensor {@code
   * [B, kvH, total, hd]} after this row's current length. Call {@link #reserve} first and {@link
   * #commit} when every row and layer is written.
   */
  void writeNew(int layer, boolean value, int row, HostTensor present, int b, int from, int n) {
    (value ? values : keys)[layer][row].readFrom(present, b, from, length, n);
  }

  /** Records {@code n} appended positions. */
  void commit(int n) {
    length += n;
    version++;
  }

  /** Changes whenever the content changes other than by growing capacity. */
  long version() {
    return version;
  }

  @Override
  public String toString() {
    return "SequenceKv[" + storage.wireName() + ", rows=" + rows() + ", length=" + length + "]";
  }
}
