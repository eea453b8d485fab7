package io.instructblip.engine.image;

/**
 * Finds metadata segments in the JPEG header (the part before the first scan) with a small
 * bounds-checked walk over the markers; nothing is decoded.
 */
final class JpegSegments {

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
    int i = 2; // after SOI
    while (i + 4 <= jpeg.length) {
      if ((jpeg[i] & 0xFF) != 0xFF) {
        return -1;
      }
      int current = jpeg[i + 1] & 0xFF;
      if (current == 0xFF) {
        i++; // fill byte
        continue;
      }
      if (current == 0xDA || current == 0xD9) {
        return -1; // start of scan or end of image: the header is over
      }
      if (current == 0x01 || (current >= 0xD0 && current <= 0xD8)) {
        i += 2; // standalone marker without a length
        continue;
      }
      int length = (jpeg[i + 2] & 0xFF) << 8 | (jpeg[i + 3] & 0xFF);
      int data = i + 4;
      if (current == marker
          && length - 2 >= identifier.length
          && i + 2 + length <= jpeg.length
          && matches(jpeg, data, identifier)) {
        return data + identifier.length;
      }
      i += 2 + length;
    }
    return -1;
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
