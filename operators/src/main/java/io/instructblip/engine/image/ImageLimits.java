package io.instructblip.engine.image;

/**
 * Bounds on an input image, checked before it is decoded: the encoded size in bytes and the decoded
 * size in pixels ({@code width * height}, read from the header).
 *
 * <pre>{@code
 * ImageLimits limits = ImageLimits.builder().maxBytes(8L << 20).maxPixels(4096L * 4096).build();
 * }</pre>
 *
 * @param maxBytes the largest encoded image accepted, in bytes (at least 1)
 * @param maxPixels the largest {@code width * height} accepted (at least 1)
 */
public record ImageLimits(long maxBytes, long maxPixels) {

  /** Default byte limit: 20 MiB of encoded image. */
  public static final long DEFAULT_MAX_BYTES = 20L * 1024 * 1024;

  /**
   * Default pixel limit: 36 megapixels (6000 x 6000), about 144 MB once decoded to packed RGB.
   * Pillow's own decompression-bomb warning starts at about 89 megapixels.
   */
  public static final long DEFAULT_MAX_PIXELS = 6000L * 6000L;

  /** Validates the limits. */
  public ImageLimits {
    if (maxBytes < 1) {
      throw new IllegalArgumentException(
          "maxBytes must be at least 1, got " + maxBytes + "; the default is " + DEFAULT_MAX_BYTES);
    }
    if (maxPixels < 1) {
      throw new IllegalArgumentException(
          "maxPixels must be at least 1, got "
              + maxPixels
              + "; the default is "
              + DEFAULT_MAX_PIXELS);
    }
  }

  /** The default limits ({@link #DEFAULT_MAX_BYTES}, {@link #DEFAULT_MAX_PIXELS}). */
  public static ImageLimits defaults() {
    return builder().build();
  }

  /** A builder starting from the defaults. */
  public static Builder builder() {
    return new Builder();
  }

  /** Builder of {@link ImageLimits}; every field starts at its default. */
  public static final class Builder {
    private long maxBytes = DEFAULT_MAX_BYTES;
    private long maxPixels = DEFAULT_MAX_PIXELS;

    private Builder() {}

    /** The largest encoded image accepted, in bytes. */
    public Builder maxBytes(long maxBytes) {
      this.maxBytes = maxBytes;
      return this;
    }

    /** The largest {@code width * height} accepted. */
    public Builder maxPixels(long maxPixels) {
      this.maxPixels = maxPixels;
      return this;
    }

    /** Builds and validates the limits. */
    public ImageLimits build() {
      return new ImageLimits(maxBytes, maxPixels);
    }
  }
}
