package io.instructblip.engine.model;

import java.util.Arrays;
import java.util.Objects;

/**
 * An int64 tensor in host memory (token ids, masks, positions): a shape and its elements in
 * row-major order. The arrays are shared, not copied: do not mutate a tensor after handing it over.
 */
public record LongTensor(int[] shape, long[] data) implements HostTensor {

  /** Checks that the element count matches the shape. */
  public LongTensor {
    Objects.requireNonNull(shape, "shape");
    Objects.requireNonNull(data, "data");
    long count = Shapes.elementCount(shape);
    if (count != data.length) {
      throw new IllegalArgumentException(
          "shape "
              + Arrays.toString(shape)
              + " holds "
              + count
              + " elements but data has "
              + data.length);
    }
  }

  /** A [rows, columns] tensor from a rectangular array. */
  public static LongTensor of(long[][] rows) {
    int columns = rows.length == 0 ? 0 : rows[0].length;
    long[] data = new long[rows.length * columns];
    for (int r = 0; r < rows.length; r++) {
      if (rows[r].length != columns) {
        throw new IllegalArgumentException("row " + r + " has " + rows[r].length + " columns");
      }
      System.arraycopy(rows[r], 0, data, r * columns, columns);
    }
    return new LongTensor(new int[] {rows.length, columns}, data);
  }

  /** The size of axis {@code axis}. */
  public int dim(int axis) {
    return shape[axis];
  }

  /** The shape as ONNX Runtime wants it. */
  public long[] longShape() {
    return Shapes.toLong(shape);
  }

  @Override
  public boolean equals(Object other) {
    return other instanceof LongTensor that
        && Arrays.equals(shape, that.shape)
        && Arrays.equals(data, that.data);
  }

  @Override
  public int hashCode() {
    return 31 * Arrays.hashCode(shape) + Arrays.hashCode(data);
  }

  @Override
  public String toString() {
    return "LongTensor" + Arrays.toString(shape);
  }
}
