package io.instructblip.engine.image;

import java.awt.image.BufferedImage;
import java.util.Objects;

/**
 * Turns encoded image bytes into the vision encoder's {@code pixel_values} for one image: decode
 * (with limits, EXIF orientation and Pillow's RGB conversion), Pillow bicubic resize to {@code size
 * x size}, rescale and normalise, channels first. Thread-safe.
 *
 * <pre>{@code
 * ImagePreprocessor pre = new ImagePreprocessor(preprocessing, new ImageDecoder(ImageLimits.defaults()));
 * float[] chw = pre.pixelValues(jpegBytes); // 3 * size * size floats, R plane then G then B
 * }</pre>
 */
public final class ImagePreprocessor {

  private final ImagePreprocessing preprocessing;
  private final ImageDecoder decoder;
  private final float[][] lut;

  /** A preprocessor applying {@code preprocessing} to images decoded by {@code decoder}. */
  public ImagePreprocessor(ImagePreprocessing preprocessing, ImageDecoder decoder) {
    this.preprocessing = Objects.requireNonNull(preprocessing, "preprocessing");
    this.decoder = Objects.requireNonNull(decoder, "decoder");
    this.lut = new float[3][256];
    for (int c = 0; c < 3; c++) {
      for (int v = 0; v < 256; v++) {
        // As the reference (preprocess.py normalize): all in float32, rescale, then (x - mean) /
        // std.
        float rescaled = (float) v * (float) preprocessing.rescaleFactor();
        lut[c][v] = (rescaled - (float) preprocessing.mean(c)) / (float) preprocessing.std(c);
      }
    }
  }

  /** The preprocessing parameters. */
  public ImagePreprocessing preprocessing() {
    return preprocessing;
  }

  /** The side of the square output image. */
  public int size() {
    return preprocessing.size();
  }

  /**
   * The normalised pixels of {@code imageBytes}, {@code float[3 * size * size]} in CHW order.
   *
   * @throws io.instructblip.engine.api.EngineException IMAGE_UNREADABLE or IMAGE_TOO_LARGE
   */
  public float[] pixelValues(byte[] imageBytes) {
    float[] out = new float[3 * size() * size()];
    pixelValues(imageBytes, out, 0);
    return out;
  }

  /** Like {@link #pixelValues(byte[])}, writing into {@code out} from {@code offset} (a batch). */
  public void pixelValues(byte[] imageBytes, float[] out, int offset) {
    int plane = size() * size();
    if (offset < 0 || offset + 3 * plane > out.length) {
      throw new IllegalArgumentException(
          "out has room for "
              + (out.length - offset)
              + " floats from offset "
              + offset
              + ", need "
              + 3 * plane);
    }
    int[] rgb = PilRgbConverter.pixels(resized(imageBytes));
    for (int i = 0; i < plane; i++) {
      int p = rgb[i];
      out[offset + i] = lut[0][(p >> 16) & 0xFF];
      out[offset + plane + i] = lut[1][(p >> 8) & 0xFF];
      out[offset + 2 * plane + i] = lut[2][p & 0xFF];
    }
  }

  /**
   * The decoded image resized to {@code size x size}, 8-bit RGB (TYPE_INT_RGB), before rescaling:
   * what the golden {@code preprocess.json} files compare.
   */
  public BufferedImage resized(byte[] imageBytes) {
    BufferedImage rgb = decoder.decode(imageBytes);
    return PilBicubicResizer.resize(rgb, size(), size());
  }
}
