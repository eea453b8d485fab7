package io.instructblip.engine.image;

import java.util.Arrays;

/**
 * How an image becomes {@code pixel_values}: the manifest's {@code image_preprocessing} (see
 * docs/model-format.md). Resize to {@code size x size} with Pillow's bicubic, then per channel
 * {@code (pixel * rescaleFactor - mean[c]) / std[c]}.
 *
 * @param size the square side in pixels (the vision encoder's image size)
 * @param rescaleFactor the factor taking 0..255 to 0..1 (normally 1/255)
 * @param mean per-channel mean, R, G, B
 * @param std per-channel standard deviation, R, G, B (all positive)
 */
public record ImagePreprocessing(int size, double rescaleFactor, double[] mean, double[] std) {

  /** Validates the fields and copies the arrays. */
  public ImagePreprocessing {
    if (size < 1) {
      throw new IllegalArgumentException("image_preprocessing.size must be positive, got " + size);
    }
    if (!(rescaleFactor > 0) || Double.isInfinite(rescaleFactor)) {
      throw new IllegalArgumentException(
          "image_preprocessing.rescale_factor must be a positive number, got " + rescaleFactor);
    }
    mean = checkThree("mean", mean, false);
    std = checkThree("std", std, true);
  }

  /** The mean of channel {@code c} (0 = R, 1 = G, 2 = B). */
  public double mean(int c) {
    return mean[c];
  }

  /** The standard deviation of channel {@code c} (0 = R, 1 = G, 2 = B). */
  public double std(int c) {
    return std[c];
  }

  @Override
  public double[] mean() {
    return mean.clone();
  }

  @Override
  public double[] std() {
    return std.clone();
  }

  @Override
  public boolean equals(Object o) {
    return o instanceof ImagePreprocessing other
        && size == other.size
        && Double.compare(rescaleFactor, other.rescaleFactor) == 0
        && Arrays.equals(mean, other.mean)
        && Arrays.equals(std, other.std);
  }

  @Override
  public int hashCode() {
    return 31 * (31 * (31 * size + Double.hashCode(rescaleFactor)) + Arrays.hashCode(mean))
        + Arrays.hashCode(std);
  }

  @Override
  public String toString() {
    return "ImagePreprocessing[size="
        + size
        + ", rescaleFactor="
        + rescaleFactor
        + ", mean="
        + Arrays.toString(mean)
        + ", std="
        + Arrays.toString(std)
        + "]";
  }

  private static double[] checkThree(String name, double[] values, boolean positive) {
    if (values == null || values.length != 3) {
      throw new IllegalArgumentException(
          "image_preprocessing."
              + name
              + " must have 3 values (R, G, B), got "
              + (values == null ? "none" : Arrays.toString(values)));
    }
    for (double v : values) {
      if (!Double.isFinite(v) || (positive && v <= 0)) {
        throw new IllegalArgumentException(
            "image_preprocessing."
                + name
                + " must be finite"
                + (positive ? " and positive" : "")
                + ", got "
                + Arrays.toString(values));
      }
    }
    return values.clone();
  }
}
