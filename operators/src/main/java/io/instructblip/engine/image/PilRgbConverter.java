package io.instructblip.engine.image;

import io.instructblip.engine.api.EngineException;
import io.instructblip.engine.api.ErrorCode;
import java.awt.color.ColorSpace;
import java.awt.image.BufferedImage;
import java.awt.image.ColorModel;
import java.awt.image.ComponentColorModel;
import java.awt.image.DataBuffer;
import java.awt.image.DataBufferInt;
import java.awt.image.DirectColorModel;
import java.awt.image.IndexColorModel;
import java.awt.image.Raster;

/**
 * Converts images decoded by ImageIO (PNG, GIF, BMP, WebP; JPEG goes through {@link
 * JpegRawConverter}) to 8-bit RGB as the reference preprocessing does (docs/model-format.md and
 * {@code deploy/model-export/instructblip_export/preprocess.py}), which is Pillow 9.4's {@code
 * Image.convert("RGB")} on the image Pillow would have opened, with one exception for 16-bit grey:
 *
 * <ul>
 *   <li>alpha is dropped, not composited: the colour channels as stored;
 *   <li>palette images are expanded through the palette;
 *   <li>grey is replicated to R, G and B;
 *   <li>16-bit samples keep their high byte ({@code v >> 8}): what Pillow's {@code ;16B} unpackers
 *       do for 16-bit RGB, RGBA and grey+alpha PNGs, and what the reference does for 16-bit grey
 *       (plain Pillow opens that as mode {@code I} and would clip every value above 255 to white);
 *   <li>CMYK uses Pillow's {@code cmyk2rgb} ({@link #cmykToRgb}), no ICC profile.
 * </ul>
 *
 * <p>No colour management is applied: samples are read from the raster, so an embedded ICC profile
 * is ignored as Pillow ignores it.
 */
final class PilRgbConverter {

  private PilRgbConverter() {}

  /** {@code src} as a new {@link BufferedImage#TYPE_INT_RGB} image. */
  static BufferedImage toRgb(BufferedImage src) {
    int width = src.getWidth();
    int height = src.getHeight();
    BufferedImage out = new BufferedImage(width, height, BufferedImage.TYPE_INT_RGB);
    int[] dst = pixels(out);
    ColorModel cm = src.getColorModel();
    Raster raster = src.getRaster();
    if (cm instanceof IndexColorModel) {
      expandPalette((IndexColorModel) cm, raster, dst);
    } else if (cm instanceof DirectColorModel) {
      unpackMasks((DirectColorModel) cm, raster, dst);
    } else if (cm instanceof ComponentColorModel) {
      convertComponents(cm, raster, dst);
    } else {
      throw unsupported(cm);
    }
    return out;
  }

  /**
   * Pillow's {@code cmyk2rgb} of one pixel (as Pillow holds CMYK: 0 = no ink), packed 0xRRGGBB:
   * {@code R = (255 - K) - MULDIV255(C, 255 - K)}, likewise G from M and B from Y.
   */
  static int cmykToRgb(int c, int m, int y, int k) {
    int nk = 255 - k;
    int r = clip8(nk - mulDiv255(c, nk));
    int g = clip8(nk - mulDiv255(m, nk));
    int b = clip8(nk - mulDiv255(y, nk));
    return (r << 16) | (g << 8) | b;
  }

  /** The packed pixel array of a {@link BufferedImage#TYPE_INT_RGB} image. */
  static int[] pixels(BufferedImage rgb) {
    return ((DataBufferInt) rgb.getRaster().getDataBuffer()).getData();
  }

  private static void expandPalette(IndexColorModel cm, Raster raster, int[] dst) {
    int width = raster.getWidth();
    int height = raster.getHeight();
    int size = cm.getMapSize();
    int[] palette = new int[size];
    for (int i = 0; i < size; i++) {
      palette[i] = (cm.getRed(i) << 16) | (cm.getGreen(i) << 8) | cm.getBlue(i);
    }
    int[] row = new int[width];
    for (int y = 0; y < height; y++) {
      raster.getSamples(raster.getMinX(), raster.getMinY() + y, width, 1, 0, row);
      for (int x = 0; x < width; x++) {
        int index = row[x];
        dst[y * width + x] = index < size ? palette[index] : 0;
      }
    }
  }

  /**
   * Packed pixels (BMP 16-bit 5-5-5 / 5-6-5, 24/32-bit masks): each colour field of {@code n} bits
   * scaled as Pillow's {@code BGR;15} / {@code BGR;16} unpackers do, {@code v * 255 / (2^n - 1)}
   * truncated (the JDK's {@code getRGB} rounds instead); 8-bit fields are kept as they are.
   */
  private static void unpackMasks(DirectColorModel cm, Raster raster, int[] dst) {
    int width = raster.getWidth();
    int height = raster.getHeight();
    int bands = raster.getNumBands();
    int[] max = new int[3];
    for (int b = 0; b < 3; b++) {
      max[b] = (1 << cm.getComponentSize(b)) - 1;
    }
    int[] row = new int[width * bands];
    for (int y = 0; y < height; y++) {
      raster.getPixels(raster.getMinX(), raster.getMinY() + y, width, 1, row);
      for (int x = 0; x < width; x++) {
        int i = x * bands;
        int r = row[i] * 255 / max[0];
        int g = row[i + 1] * 255 / max[1];
        int b = row[i + 2] * 255 / max[2];
        dst[y * width + x] = (r << 16) | (g << 8) | b;
      }
    }
  }

  private static void convertComponents(ColorModel cm, Raster raster, int[] dst) {
    int width = raster.getWidth();
    int height = raster.getHeight();
    int bands = raster.getNumBands();
    int colourBands = bands - (cm.hasAlpha() ? 1 : 0);
    int csType = cm.getColorSpace().getType();
    boolean grey = csType == ColorSpace.TYPE_GRAY && colourBands == 1;
    boolean rgb = csType == ColorSpace.TYPE_RGB && colourBands == 3;
    if (!grey && !rgb) {
      throw unsupported(cm);
    }
    boolean sixteenBit = raster.getTransferType() == DataBuffer.TYPE_USHORT;
    if (!sixteenBit && raster.getTransferType() != DataBuffer.TYPE_BYTE) {
      throw unsupported(cm);
    }
    int shift = sixteenBit ? 8 : 0;
    int[] row = new int[width * bands];
    for (int y = 0; y < height; y++) {
      raster.getPixels(raster.getMinX(), raster.getMinY() + y, width, 1, row);
      for (int x = 0; x < width; x++) {
        int base = x * bands;
        int r;
        int g;
        int b;
        if (grey) {
          r = row[base] >> shift;
          g = r;
          b = r;
        } else {
          r = row[base] >> shift;
          g = row[base + 1] >> shift;
          b = row[base + 2] >> shift;
        }
        dst[y * width + x] = (r << 16) | (g << 8) | b;
      }
    }
  }

  /** Pillow's {@code MULDIV255}: {@code a * b / 255} rounded, in integers. */
  private static int mulDiv255(int a, int b) {
    int tmp = a * b + 128;
    return ((tmp >> 8) + tmp) >> 8;
  }

  static int clip8(int v) {
    return v < 0 ? 0 : Math.min(v, 255);
  }

  private static EngineException unsupported(ColorModel cm) {
    return new EngineException(
        ErrorCode.IMAGE_UNREADABLE,
        "unsupported pixel layout ("
            + cm.getClass().getSimpleName()
            + ", "
            + cm.getNumComponents()
            + " components, colour space type "
            + cm.getColorSpace().getType()
            + "); re-save the image as 8-bit RGB");
  }
}
