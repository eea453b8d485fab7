package io.instructblip.engine.image;

import java.awt.image.BufferedImage;

/**
 * Resizes 8-bit RGB images exactly like Pillow's {@code Image.resize(size, Image.BICUBIC)}: an
 * antialiased separable convolution with the bicubic kernel ({@code a = -0.5}, support 2 scaled by
 * the downscale factor), coefficients normalised per output pixel and converted to 22-bit fixed
 * point, a horizontal pass into an 8-bit intermediate, then a vertical pass, each rounding and
 * clipping as Pillow's {@code Resample.c} does. A dimension whose size does not change is not
 * resampled (Pillow skips that pass).
 */
public final class PilBicubicResizer {

  /**
   * Pillow's fixed-point precision for 8-bit images: 32 - 8 bits of result - 2 bits of headroom.
   */
  private static final int PRECISION_BITS = 32 - 8 - 2;

  private static final int HALF = 1 << (PRECISION_BITS - 1);

  private static final double SUPPORT = 2.0;

  /** The most fixed-point weights the horizontal pass holds at once (4 MB). */
  private static final int WEIGHT_BUDGET = 1 << 20;

  private PilBicubicResizer() {}

  /**
   * {@code rgb} (TYPE_INT_RGB) resized to {@code width x height}, as a new TYPE_INT_RGB image.
   *
   * @throws IllegalArgumentException when a target dimension is not positive
   */
  public static BufferedImage resize(BufferedImage rgb, int width, int height) {
    if (width < 1 || height < 1) {
      throw new IllegalArgumentException(
          "target size must be positive, got " + width + "x" + height);
    }
    if (rgb.getType() != BufferedImage.TYPE_INT_RGB) {
      throw new IllegalArgumentException(
          "expected a TYPE_INT_RGB image (from ImageDecoder), got type " + rgb.getType());
    }
    int inW = rgb.getWidth();
    int inH = rgb.getHeight();
    BufferedImage out = new BufferedImage(width, height, BufferedImage.TYPE_INT_RGB);
    int[] dst = PilRgbConverter.pixels(out);
    resize(PilRgbConverter.pixels(rgb), inW, inH, dst, width, height);
    return out;
  }

  /** Packed-RGB form of {@link #resize(BufferedImage, int, int)}. */
  static void resize(int[] src, int inW, int inH, int[] dst, int outW, int outH) {
    Coefficients vertical = Coefficients.compute(inH, outH);
    int[] pixels = src;
    int rowOffset = 0;
    int width = inW;
    if (outW != inW) {
      // Only the source rows the vertical pass reads, as Pillow does.
      int first = vertical.start(0);
      int last = vertical.start(outH - 1) + vertical.count(outH - 1);
      int[] tmp = new int[outW * (last - first)];
      horizontal(src, inW, first, last, Coefficients.compute(inW, outW), tmp, outW);
      pixels = tmp;
      rowOffset = first;
      width = outW;
    }
    if (outH != inH) {
      vertical(pixels, width, rowOffset, vertical, dst, outH);
    } else if (pixels == src) {
      System.arraycopy(src, 0, dst, 0, dst.length);
    } else {
      System.arraycopy(pixels, 0, dst, 0, dst.length);
    }
  }

  /**
   * The horizontal pass, row by row over blocks of output columns whose weights fit in {@link
   * #WEIGHT_BUDGET} ints (every column at once for ordinary sizes).
   */
  private static void horizontal(
      int[] src, int inW, int first, int last, Coefficients c, int[] dst, int outW) {
    int blockColumns = Math.max(1, Math.min(outW, WEIGHT_BUDGET / c.ksize));
    int[] table = new int[blockColumns * c.ksize];
    int[] counts = new int[blockColumns];
    double[] scratch = new double[c.ksize];
    int[] k = new int[c.ksize];
    for (int block = 0; block < outW; block += blockColumns) {
      int columns = Math.min(blockColumns, outW - block);
      for (int j = 0; j < columns; j++) {
        counts[j] = c.weights(block + j, k, scratch);
        System.arraycopy(k, 0, table, j * c.ksize, counts[j]);
      }
      for (int y = first; y < last; y++) {
        int srcRow = y * inW;
        int dstRow = (y - first) * outW + block;
        for (int j = 0; j < columns; j++) {
          int xmin = c.start(block + j);
          int n = counts[j];
          int kBase = j * c.ksize;
          int r = HALF;
          int g = HALF;
          int b = HALF;
          for (int x = 0; x < n; x++) {
            int p = src[srcRow + xmin + x];
            int w = table[kBase + x];
            r += ((p >> 16) & 0xFF) * w;
            g += ((p >> 8) & 0xFF) * w;
            b += (p & 0xFF) * w;
          }
          dst[dstRow + j] = pack(r, g, b);
        }
      }
    }
  }

  private static void vertical(
      int[] src, int width, int rowOffset, Coefficients c, int[] dst, int outH) {
    int[] k = new int[c.ksize];
    double[] scratch = new double[c.ksize];
    for (int yy = 0; yy < outH; yy++) {
      int ymin = c.start(yy) - rowOffset;
      int n = c.weights(yy, k, scratch);
      for (int xx = 0; xx < width; xx++) {
        int r = HALF;
        int g = HALF;
        int b = HALF;
        for (int y = 0; y < n; y++) {
          int p = src[(ymin + y) * width + xx];
          r += ((p >> 16) & 0xFF) * k[y];
          g += ((p >> 8) & 0xFF) * k[y];
          b += (p & 0xFF) * k[y];
        }
        dst[yy * width + xx] = pack(r, g, b);
      }
    }
  }

  private static int pack(int r, int g, int b) {
    return clip8(r) << 16 | clip8(g) << 8 | clip8(b);
  }

  /** Pillow's {@code clip8}: drop the fraction (arithmetic shift, i.e. floor), clamp to 0..255. */
  private static int clip8(int accumulator) {
    int v = accumulator >> PRECISION_BITS;
    return v < 0 ? 0 : Math.min(v, 255);
  }

  /** Pillow's bicubic kernel with {@code a = -0.5}. */
  static double bicubic(double x) {
    final double a = -0.5;
    if (x < 0.0) {
      x = -x;
    }
    if (x < 1.0) {
      return ((a + 2.0) * x - (a + 3.0)) * x * x + 1;
    }
    if (x < 2.0) {
      return (((x - 5) * x + 8) * x - 4) * a;
    }
    return 0.0;
  }

  /**
   * Per output position: the first input index and the number of taps; the fixed-point weights of
   * one position are computed when a pass needs them ({@link #weights}), so the memory is in
   * proportion to the output (two ints per position) plus one position's taps, never output
   * positions x taps (a 36,000,000 px wide row resized to 224 would need 576 MB of weights).
   */
  static final class Coefficients {
    final int ksize;
    private final int[] bounds;
    private final double scale;
    private final double filterScale;

    private Coefficients(int ksize, int[] bounds, double scale, double filterScale) {
      this.ksize = ksize;
      this.bounds = bounds;
      this.scale = scale;
      this.filterScale = filterScale;
    }

    int start(int out) {
      return bounds[2 * out];
    }

    int count(int out) {
      return bounds[2 * out + 1];
    }

    /**
     * Pillow's {@code precompute_coeffs} followed by {@code normalize_coeffs_8bpc} for output
     * position {@code out}: writes its {@link #count} fixed-point weights into {@code into} (at
     * least {@link #ksize} long; {@code scratch} likewise) and returns the count.
     */
    int weights(int out, int[] into, double[] scratch) {
      double center = (out + 0.5) * scale;
      double ss = 1.0 / filterScale;
      int xmin = start(out);
      int n = count(out);
      double ww = 0.0;
      for (int x = 0; x < n; x++) {
        double w = bicubic((x + xmin - center + 0.5) * ss);
        scratch[x] = w;
        ww += w;
      }
      for (int x = 0; x < n; x++) {
        double w = ww != 0.0 ? scratch[x] / ww : scratch[x];
        double fixed = w * (1 << PRECISION_BITS);
        into[x] = (int) (w < 0 ? -0.5 + fixed : 0.5 + fixed);
      }
      return n;
    }

    /** The bounds of every output position, as Pillow's {@code precompute_coeffs} sets them. */
    static Coefficients compute(int inSize, int outSize) {
      double scale = (double) inSize / outSize;
      double filterScale = Math.max(scale, 1.0);
      double support = SUPPORT * filterScale;
      int ksize = (int) Math.ceil(support) * 2 + 1;
      int[] bounds = new int[outSize * 2];
      for (int xx = 0; xx < outSize; xx++) {
        double center = (xx + 0.5) * scale;
        int xmin = (int) (center - support + 0.5);
        if (xmin < 0) {
          xmin = 0;
        }
        int xmax = (int) (center + support + 0.5);
        if (xmax > inSize) {
          xmax = inSize;
        }
        bounds[2 * xx] = xmin;
        bounds[2 * xx + 1] = xmax - xmin;
      }
      return new Coefficients(ksize, bounds, scale, filterScale);
    }
  }
}
