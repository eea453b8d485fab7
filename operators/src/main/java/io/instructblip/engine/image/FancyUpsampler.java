package io.instructblip.engine.image;

import java.awt.image.BufferedImage;
import java.awt.image.DataBufferInt;

/**
 * 4:2:0 Y'CbCr to RGB as libwebp outputs it by default: chroma upsampled by its "fancy" upsampler
 * (each pixel mixes the four nearest chroma samples 9:3:3:1) and converted with its 14-bit
 * fixed-point BT.601 matrix ({@code VP8YuvToRgb} in {@code dsp/yuv.h}).
 */
final class FancyUpsampler {
  private FancyUpsampler() {}

  /** The RGB image ({@link BufferedImage#TYPE_INT_RGB}) of the planes. */
  static BufferedImage toRgb(Vp8Decoder.Planes planes) {
    int width = planes.width();
    int height = planes.height();
    BufferedImage image = new BufferedImage(width, height, BufferedImage.TYPE_INT_RGB);
    int[] rgb = ((DataBufferInt) image.getRaster().getDataBuffer()).getData();
    for (int row = 0; row < height; row++) {
      if (row == 0) {
        upsampleRow(planes, row, 0, 0, rgb);
      } else if ((row & 1) == 1) {
        // The upper row of a pair: nearer to chroma row (row - 1) / 2, unless it is the last row.
        int k = (row + 1) >> 1;
        upsampleRow(planes, row, k - 1, row + 1 < height ? k : k - 1, rgb);
      } else {
        int k = row >> 1;
        upsampleRow(planes, row, k, k - 1, rgb); // the lower row: nearer to chroma row k
      }
    }
    return image;
  }

  /**
   * One output row of libwebp's {@code UpsampleRgbLinePair}: chroma rows {@code near} (weight 3)
   * and {@code far} (weight 1) straddle it.
   */
  private static void upsampleRow(Vp8Decoder.Planes p, int row, int near, int far, int[] rgb) {
    int width = p.width();
    int cw = p.uvStride();
    byte[] y = p.y();
    byte[] u = p.u();
    byte[] v = p.v();
    int nearAt = near * cw;
    int farAt = far * cw;
    int out = row * width;
    int yAt = row * p.yStride();
    // Vertically mixed chroma (times 4) of the left sample, then of each next sample.
    int leftU = 3 * (u[nearAt] & 0xFF) + (u[farAt] & 0xFF);
    int leftV = 3 * (v[nearAt] & 0xFF) + (v[farAt] & 0xFF);
    rgb[out] = yuvToRgb(y[yAt] & 0xFF, (leftU + 2) >> 2, (leftV + 2) >> 2);
    int lastPair = (width - 1) >> 1;
    for (int x = 1; x <= lastPair; x++) {
      int nextU = 3 * (u[nearAt + x] & 0xFF) + (u[farAt + x] & 0xFF);
      int nextV = 3 * (v[nearAt + x] & 0xFF) + (v[farAt + x] & 0xFF);
      rgb[out + 2 * x - 1] =
          yuvToRgb(y[yAt + 2 * x - 1] & 0xFF, mix(leftU, nextU), mix(leftV, nextV));
      rgb[out + 2 * x] = yuvToRgb(y[yAt + 2 * x] & 0xFF, mix(nextU, leftU), mix(nextV, leftV));
      leftU = nextU;
      leftV = nextV;
    }
    if ((width & 1) == 0) {
      rgb[out + width - 1] =
          yuvToRgb(y[yAt + width - 1] & 0xFF, (leftU + 2) >> 2, (leftV + 2) >> 2);
    }
  }

  /** (3 * near + far + 8) / 16 of two vertically mixed samples: the 9:3:3:1 mix, rounded. */
  private static int mix(int nearColumn, int farColumn) {
    return (3 * nearColumn + farColumn + 8) >> 4;
  }

  /** libwebp's {@code VP8YuvToRgb}, packed as {@code 0xRRGGBB}. */
  static int yuvToRgb(int y, int u, int v) {
    int luma = multHi(y, 19077);
    int r = clip8(luma + multHi(v, 26149) - 14234);
    int g = clip8(luma - multHi(u, 6419) - multHi(v, 13320) + 8708);
    int b = clip8(luma + multHi(u, 33050) - 17685);
    return r << 16 | g << 8 | b;
  }

  private static int multHi(int value, int coefficient) {
    return (value * coefficient) >> 8;
  }

  private static int clip8(int value) {
    return (value & ~16383) == 0 ? value >> 6 : value < 0 ? 0 : 255;
  }
}
