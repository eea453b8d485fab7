package io.instructblip.engine.image;

import java.awt.image.BufferedImage;

/**
 * The EXIF orientation tag (0x0112) of an encoded image and the transform that shows the image
 * upright, as Pillow's {@code ImageOps.exif_transpose} applies it. The tag is read from the first
 * JPEG APP1 {@code Exif} segment, the PNG {@code eXIf} chunk or the WebP {@code EXIF} chunk with a
 * small bounds-checked parser; anything missing, malformed or outside 1..8 means "as stored" (1).
 */
final class ExifOrientation {

  /** Orientation 1: the stored pixels are upright. */
  static final int NORMAL = 1;

  private static final int TAG_ORIENTATION = 0x0112;
  private static final int TYPE_SHORT = 3;
  private static final int TYPE_LONG = 4;

  private static final byte[] EXIF_IDENTIFIER = {'E', 'x', 'i', 'f', 0, 0};

  private ExifOrientation() {}

  /** The orientation (1..8) written in {@code bytes}, or {@link #NORMAL} when there is none. */
  static int read(byte[] bytes, ImageFormat format) {
    try {
      int tiff =
          switch (format) {
            case JPEG -> findJpegExif(bytes);
            case PNG -> findPngExif(bytes);
            case WEBP -> findWebpExif(bytes);
            default -> -1;
          };
      if (tiff < 0) {
        return NORMAL;
      }
      int orientation = readTiffOrientation(bytes, tiff);
      return orientation >= 1 && orientation <= 8 ? orientation : NORMAL;
    } catch (IndexOutOfBoundsException malformed) {
      return NORMAL;
    }
  }

  /** {@code rgb} (TYPE_INT_RGB) turned upright for {@code orientation}; the same image for 1. */
  static BufferedImage apply(BufferedImage rgb, int orientation) {
    if (orientation <= NORMAL || orientation > 8) {
      return rgb;
    }
    int w = rgb.getWidth();
    int h = rgb.getHeight();
    boolean swap = orientation >= 5;
    int outW = swap ? h : w;
    int outH = swap ? w : h;
    BufferedImage out = new BufferedImage(outW, outH, BufferedImage.TYPE_INT_RGB);
    int[] src = PilRgbConverter.pixels(rgb);
    int[] dst = PilRgbConverter.pixels(out);
    for (int y = 0; y < outH; y++) {
      for (int x = 0; x < outW; x++) {
        int sx;
        int sy;
        switch (orientation) {
          case 2 -> { // mirror left-right
            sx = w - 1 - x;
            sy = y;
          }
          case 3 -> { // rotate 180
            sx = w - 1 - x;
            sy = h - 1 - y;
          }
          case 4 -> { // mirror top-bottom
            sx = x;
            sy = h - 1 - y;
          }
          case 5 -> { // transpose
            sx = y;
            sy = x;
          }
          case 6 -> { // rotate 90 clockwise (Pillow ROTATE_270)
            sx = y;
            sy = h - 1 - x;
          }
          case 7 -> { // transverse
            sx = w - 1 - y;
            sy = h - 1 - x;
          }
          default -> { // 8: rotate 90 counter-clockwise (Pillow ROTATE_90)
            sx = w - 1 - y;
            sy = x;
          }
        }
        dst[y * outW + x] = src[sy * w + sx];
      }
    }
    return out;
  }

  /** Offset of the TIFF header inside the first APP1 "Exif\0\0" segment, or -1. */
  private static int findJpegExif(byte[] b) {
    return JpegSegments.find(b, JpegSegments.APP1, EXIF_IDENTIFIER);
  }

  private static int findPngExif(byte[] b) {
    int i = 8;
    while (i + 8 <= b.length) {
      int length = (int) Math.min(u32be(b, i), Integer.MAX_VALUE);
      int data = i + 8;
      if (startsWith(b, i + 4, 'e', 'X', 'I', 'f')) {
        return skipExifPrefix(b, data);
      }
      if (startsWith(b, i + 4, 'I', 'E', 'N', 'D') || length > b.length) {
        return -1;
      }
      i = data + length + 4;
    }
    return -1;
  }

  private static int findWebpExif(byte[] b) {
    int i = 12;
    while (i + 8 <= b.length) {
      long length = u32le(b, i + 4);
      int data = i + 8;
      if (startsWith(b, i, 'E', 'X', 'I', 'F')) {
        return skipExifPrefix(b, data);
      }
      if (length > b.length) {
        return -1;
      }
      i = data + (int) length + (int) (length & 1);
    }
    return -1;
  }

  private static int skipExifPrefix(byte[] b, int data) {
    return startsWith(b, data, 'E', 'x', 'i', 'f', 0, 0) ? data + 6 : data;
  }

  private static int readTiffOrientation(byte[] b, int tiff) {
    boolean little;
    if (startsWith(b, tiff, 'I', 'I')) {
      little = true;
    } else if (startsWith(b, tiff, 'M', 'M')) {
      little = false;
    } else {
      return NORMAL;
    }
    long ifd = u32(b, tiff + 4, little);
    if (ifd < 8 || tiff + ifd + 2 > b.length) {
      return NORMAL;
    }
    int dir = tiff + (int) ifd;
    int count = u16(b, dir, little);
    for (int e = 0; e < count; e++) {
      int entry = dir + 2 + 12 * e;
      if (u16(b, entry, little) == TAG_ORIENTATION) {
        int type = u16(b, entry + 2, little);
        if (type == TYPE_SHORT) {
          return u16(b, entry + 8, little);
        }
        if (type == TYPE_LONG) {
          return (int) Math.min(u32(b, entry + 8, little), Integer.MAX_VALUE);
        }
        return NORMAL;
      }
    }
    return NORMAL;
  }

  private static boolean startsWith(byte[] b, int offset, int... signature) {
    if (offset < 0 || offset + signature.length > b.length) {
      return false;
    }
    for (int i = 0; i < signature.length; i++) {
      if ((b[offset + i] & 0xFF) != signature[i]) {
        return false;
      }
    }
    return true;
  }

  private static int u16(byte[] b, int i, boolean little) {
    return little ? (b[i] & 0xFF) | (b[i + 1] & 0xFF) << 8 : u16be(b, i);
  }

  private static int u16be(byte[] b, int i) {
    return (b[i] & 0xFF) << 8 | (b[i + 1] & 0xFF);
  }

  private static long u32(byte[] b, int i, boolean little) {
    return little ? u32le(b, i) : u32be(b, i);
  }

  private static long u32be(byte[] b, int i) {
    return ((long) u16be(b, i) << 16) | u16be(b, i + 2);
  }

  private static long u32le(byte[] b, int i) {
    return ((long) u16(b, i + 2, true) << 16) | u16(b, i, true);
  }
}
