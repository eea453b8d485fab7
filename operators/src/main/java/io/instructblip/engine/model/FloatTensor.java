package io.instructblip.engine.model;

import java.util.Arrays;
import java.util.Objects;

/**
 * A float32 tensor in host memory: a shape and its elements in row-major order. The common currency
 * of the engine's stage runners; fp16 models are converted at the ONNX boundary, so callers only
 * see float32. The arrays are shared, not copied: do not mutate a tensor after handing it over.
 */
public record FloatTensor(int[] shape, float[] data) implements HostTensor {

  /** Checks that the element count matches the shape. */
  public FloatTensor {
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

  /** A tensor of zeros of the given shape. */
  public static FloatTensor zeros(int... shape) {
    return new FloatTensor(shape.clone(), new float[Math.toIntExact(Shapes.elementCount(shape))]);
  }

  /** The size of axis {@code axis}. */
  public int dim(int axis) {
    return shape[axis];
  }

  /** The number of axes. */
  public int rank() {
    return shape.length;
  }

  /**
   * The sub-tensor at index {@code index} of the first axis, as a copy (shape without the first
   * axis).
   */
  public FloatTensor slice(int index) {
    Objects.checkIndex(index, shape[0]);
    int[] rest = Arrays.copyOfRange(shape, 1, shape.length);
    int size = Math.toIntExact(Shapes.elementCount(rest));
    return new FloatTensor(rest, Arrays.copyOfRange(data, index * size, (index + 1) * size));
  }

  /** The shape as ONNX Runtime wants it. */
  public long[] longShape() {
    return Shapes.toLong(shape);
  }

  @Override
  public boolean equals(Object other) {
    return other instanceof FloatTensor that
        && Arrays.equals(shape, that.shape)
        && Arrays.equals(data, that.data);
  }

  @Override
  public int hashCode() {
    return 31 * Arrays.hashCode(shape) + Arrays.hashCode(data);
  }

  @Override
  public String toString() {
    return "FloatTensor" + Arrays.toString(shape);
  }
}
