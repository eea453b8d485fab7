package io.instructblip.engine.image;

/**
 * Finds metadata segments in the JPEG header (the part before the first scan) with a small
 * bounds-checked walk over the markers; nothing is decoded.
 */
final class JpegSegments {

  /** APP0, where JFIF lives. */
  static final int APP0 = 0xE0;

  /** APP1, where EXIF lives. */
  static final int APP1 = 0xE1;

  /** APP14, where Adobe writes its colour transform. */
  static final int APP14 = 0xEE;

  private JpegSegments() {}

  /**
   * The offset just after {@code identifier} in the first segment with {@code marker} whose data
   * starts with {@code identifier} and lies wholly inside {@code jpeg}; -1 when there is none.
   */
  static int find(byte[] jpeg, int marker, byte[] identifier) {
    int i = next(jpeg, 2);
    while (i >= 0) {
      int length = length(jpeg, i);
      if ((jpeg[i + 1] & 0xFF) == marker
          && length - 2 >= identifier.length
          && i + 2 + length <= jpeg.length
          && matches(jpeg, i + 4, identifier)) {
        return i + 4 + identifier.length;
      }
      i = next(jpeg, i + 2 + length);
    }
    return -1;
  }

  /** The component ids of the frame header (SOFn), or null when there is none before the scan. */
  static int[] frameComponentIds(byte[] jpeg) {
    int i = next(jpeg, 2);
    while (i >= 0) {
      int marker = jpeg[i + 1] & 0xFF;
      int length = length(jpeg, i);
      boolean sof =
          marker >= 0xC0 && marker <= 0xCF && marker != 0xC4 && marker != 0xC8 && marker != 0xCC;
      if (sof && i + 10 <= jpeg.length) {
        int count = jpeg[i + 9] & 0xFF; // after length (2), precision (1), height (2), width (2)
        if (i + 10 + 3 * count > jpeg.length) {
          return null;
        }
        int[] ids = new int[count];
        for (int c = 0; c < count; c++) {
          ids[c] = jpeg[i + 10 + 3 * c] & 0xFF;
        }
        return ids;
      }
      i = next(jpeg, i + 2 + length);
    }
    return null;
  }

  /**
   * The position of the next marker segment with a length, from {@code i} (skipping fill bytes and
   * standalone markers), or -1 at the start of scan, the end of the image or anything malformed.
   */
  private static int next(byte[] jpeg, int i) {
    while (i + 4 <= jpeg.length) {
      if ((jpeg[i] & 0xFF) != 0xFF) {
        return -1;
      }
      int marker = jpeg[i + 1] & 0xFF;
      if (marker == 0xFF) {
        i++; // fill byte
      } else if (marker == 0xDA || marker == 0xD9) {
        return -1; // start of scan or end of image: the header is over
      } else if (marker == 0x01 || (marker >= 0xD0 && marker <= 0xD8)) {
        i += 2; // standalone marker without a length
      } else {
        return i;
      }
    }
    return -1;
  }

  private static int length(byte[] jpeg, int i) {
    return (jpeg[i + 2] & 0xFF) << 8 | (jpeg[i + 3] & 0xFF);
  }

  private static boolean matches(byte[] b, int offset, byte[] identifier) {
    for (int k = 0; k < identifier.length; k++) {
      if (b[offset + k] != identifier[k]) {
        return false;
      }
    }
    return true;
  }
}
