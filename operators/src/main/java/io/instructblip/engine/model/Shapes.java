package io.instructblip.engine.model;

/** Small helpers for tensor shapes. */
final class Shapes {
  private Shapes() {}

  static long elementCount(int[] shape) {
    long count = 1;
    for (int size : shape) {
      if (size < 0) {
        throw new IllegalArgumentException("negative dimension " + size);
      }
      count *= size;
    }
    return count;
  }

  static long[] toLong(int[] shape) {
    long[] result = new long[shape.length];
    for (int i = 0; i < shape.length; i++) {
      result[i] = shape[i];
    }
    return result;
  }
}
