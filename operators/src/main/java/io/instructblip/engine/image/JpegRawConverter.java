package io.instructblip.engine.image;

import io.instructblip.engine.api.EngineException;
import io.instructblip.engine.api.ErrorCode;
import java.awt.image.BufferedImage;
import java.awt.image.Raster;

/**
 * Turns the raw components of a decoded JPEG (a raster read without colour conversion) into RGB the
 * way Pillow gets it from libjpeg: the colour space is guessed with libjpeg's rules, YCbCr and YCCK
 * are converted with libjpeg's fixed-point tables, CMYK goes through Pillow's conversion, and no
 * embedded ICC profile is applied (ImageIO readers would convert such images to sRGB, Pillow does
 * not).
 *
 * <p>libjpeg's rules ({@code jdapimin.c default_decompress_parms}): 1 component is grey; 3
 * components are YCbCr with a JFIF segment, RGB with an Adobe segment of transform 0, YCbCr with
 * another Adobe transform, otherwise RGB when the component ids are 'R', 'G', 'B' and YCbCr
 * otherwise; 4 components are YCCK with Adobe transform 2, CMYK otherwise. Adobe CMYK is stored
 * inverted (Pillow reads it with raw mode {@code CMYK;I}).
 */
final class JpegRawConverter {

  private static final byte[] JFIF = {'J', 'F', 'I', 'F', 0};
  private static final byte[] ADOBE = {'A', 'd', 'o', 'b', 'e'};
  private static final int ADOBE_RGB_OR_CMYK = 0;
  private static final int ADOBE_YCCK = 2;

  private static final int SCALE_BITS = 16;
  private static final int ONE_HALF = 1 << (SCALE_BITS - 1);
  private static final int[] CR_R = new int[256];
  private static final int[] CB_B = new int[256];
  private static final int[] CR_G = new int[256];
  private static final int[] CB_G = new int[256];

  static {
    // jdcolor.c build_ycc_rgb_table: R = Y + 1.402 Cr', G = Y - 0.34414 Cb' - 0.71414 Cr',
    // B = Y + 1.772 Cb', in 16.16 fixed point.
    for (int i = 0; i < 256; i++) {
      int x = i - 128;
      CR_R[i] = (fix(1.40200) * x + ONE_HALF) >> SCALE_BITS;
      CB_B[i] = (fix(1.77200) * x + ONE_HALF) >> SCALE_BITS;
      CR_G[i] = -fix(0.71414) * x;
      CB_G[i] = -fix(0.34414) * x + ONE_HALF;
    }
  }

  private JpegRawConverter() {}

  /** The RGB image (TYPE_INT_RGB) of {@code raw}, the components of the JPEG {@code jpeg}. */
  static BufferedImage toRgb(Raster raw, byte[] jpeg) {
    int bands = raw.getNumBands();
    int width = raw.getWidth();
    int height = raw.getHeight();
    BufferedImage out = new BufferedImage(width, height, BufferedImage.TYPE_INT_RGB);
    int[] dst = PilRgbConverter.pixels(out);
    int[] row = new int[width * bands];
    int adobeTransform = adobeTransform(jpeg);
    Layout layout = layout(bands, jpeg, adobeTransform);
    for (int y = 0; y < height; y++) {
      raw.getPixels(raw.getMinX(), raw.getMinY() + y, width, 1, row);
      int base = y * width;
      for (int x = 0; x < width; x++) {
        int i = x * bands;
        dst[base + x] =
            switch (layout) {
              case GREY -> row[i] * 0x010101;
              case RGB -> row[i] << 16 | row[i + 1] << 8 | row[i + 2];
              case YCBCR -> yccToRgb(row[i], row[i + 1], row[i + 2]);
              case CMYK -> cmyk(row[i], row[i + 1], row[i + 2], row[i + 3], adobeTransform >= 0);
              case YCCK -> ycck(row[i], row[i + 1], row[i + 2], row[i + 3]);
            };
      }
    }
    return out;
  }

  private enum Layout {
    GREY,
    RGB,
    YCBCR,
    CMYK,
    YCCK
  }

  private static Layout layout(int bands, byte[] jpeg, int adobeTransform) {
    switch (bands) {
      case 1:
        return Layout.GREY;
      case 3:
        if (JpegSegments.find(jpeg, JpegSegments.APP0, JFIF) >= 0) {
          return Layout.YCBCR;
        }
        if (adobeTransform >= 0) {
          return adobeTransform == ADOBE_RGB_OR_CMYK ? Layout.RGB : Layout.YCBCR;
        }
        int[] ids = JpegSegments.frameComponentIds(jpeg);
        boolean rgbIds =
            ids != null && ids.length == 3 && ids[0] == 'R' && ids[1] == 'G' && ids[2] == 'B';
        return rgbIds ? Layout.RGB : Layout.YCBCR;
      case 4:
        return adobeTransform == ADOBE_YCCK ? Layout.YCCK : Layout.CMYK;
      default:
        throw new EngineException(
            ErrorCode.IMAGE_UNREADABLE,
            "the JPEG has "
                + bands
                + " components; only 1 (grey), 3 (colour) and 4 (CMYK) are supported, re-save it as"
                + " RGB");
    }
  }

  /** libjpeg's {@code ycc_rgb_convert} of one pixel. */
  private static int yccToRgb(int y, int cb, int cr) {
    int r = PilRgbConverter.clip8(y + CR_R[cr]);
    int g = PilRgbConverter.clip8(y + ((CB_G[cb] + CR_G[cr]) >> SCALE_BITS));
    int b = PilRgbConverter.clip8(y + CB_B[cb]);
    return r << 16 | g << 8 | b;
  }

  /** Stored CMYK to Pillow's RGB; Adobe files store ink inverted. */
  private static int cmyk(int c, int m, int y, int k, boolean inverted) {
    int flip = inverted ? 255 : 0;
    return PilRgbConverter.cmykToRgb(flip ^ c, flip ^ m, flip ^ y, flip ^ k);
  }

  /**
   * libjpeg's {@code ycck_cmyk_convert} (C = 255 - R(YCC) etc., K kept) gives the stored (Adobe,
   * inverted) CMYK, which Pillow inverts back before converting.
   */
  private static int ycck(int y, int cb, int cr, int k) {
    int rgb = yccToRgb(y, cb, cr);
    int storedC = 255 - ((rgb >> 16) & 0xFF);
    int storedM = 255 - ((rgb >> 8) & 0xFF);
    int storedY = 255 - (rgb & 0xFF);
    return cmyk(storedC, storedM, storedY, k, true);
  }

  /** The colour transform of the Adobe APP14 segment (0 = RGB/CMYK, 1 = YCbCr, 2 = YCCK), or -1. */
  static int adobeTransform(byte[] jpeg) {
    int data = JpegSegments.find(jpeg, JpegSegments.APP14, ADOBE);
    if (data < 0) {
      return -1;
    }
    // After "Adobe": version (2 bytes), flags0 (2), flags1 (2), transform (1).
    return data + 6 < jpeg.length ? jpeg[data + 6] & 0xFF : ADOBE_RGB_OR_CMYK;
  }

  private static int fix(double v) {
    return (int) (v * (1 << SCALE_BITS) + 0.5);
  }
}
