package io.instructblip.engine.image;

import java.awt.image.BufferedImage;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.util.Optional;

/**
 * A still lossy WebP (a {@code VP8 } chunk, alone or after a {@code VP8X} header) decoded to RGB as
 * libwebp, and so Pillow, decodes it: {@link Vp8Decoder} for the planes, then {@link
 * FancyUpsampler}. Alpha ({@code ALPH}) is not decoded: Pillow's {@code convert("RGB")} drops it
 * and libwebp leaves the colour samples as they are. Lossless ({@code VP8L}) and animated files are
 * not this class's concern ({@link #find} answers empty for them).
 */
final class LossyWebp {
  private static final int VP8X_ANIMATION = 0x02;

  private LossyWebp() {}

  /** Where the {@code VP8 } chunk's data lies, and the frame's size from its header. */
  record Frame(int offset, int length, int width, int height) {}

  /**
   * The still lossy frame of a WebP file, or empty for lossless, animated or unrecognised layouts.
   *
   * @throws IOException when the file is a still lossy WebP whose chunks or frame header are
   *     corrupt
   */
  static Optional<Frame> find(byte[] webp) throws IOException {
    int end = (int) Math.min(webp.length, 8 + littleEndian(webp, 4, 4));
    int at = 12;
    if (at + 8 > end) {
      return Optional.empty();
    }
    int canvasWidth = -1;
    int canvasHeight = -1;
    if (fourCc(webp, at).equals("VP8X")) {
      long size = littleEndian(webp, at + 4, 4);
      if (size < 10 || at + 8 + 10 > end) {
        return Optional.empty();
      }
      int flags = webp[at + 8] & 0xFF;
      if ((flags & VP8X_ANIMATION) != 0) {
        return Optional.empty();
      }
      canvasWidth = (int) littleEndian(webp, at + 12, 3) + 1;
      canvasHeight = (int) littleEndian(webp, at + 15, 3) + 1;
      at = (int) Math.min(Integer.MAX_VALUE, at + 8 + size + (size & 1));
      while (at + 8 <= end && !isImageChunk(fourCc(webp, at))) {
        size = littleEndian(webp, at + 4, 4);
        at = (int) Math.min(Integer.MAX_VALUE, at + 8 + size + (size & 1));
      }
      if (at + 8 > end) {
        return Optional.empty();
      }
    }
    if (!fourCc(webp, at).equals("VP8 ")) {
      return Optional.empty();
    }
    long size = littleEndian(webp, at + 4, 4);
    int data = at + 8;
    if (size > end - data) {
      throw new IOException(
          "the VP8 chunk announces " + size + " bytes, " + (end - data) + " are there");
    }
    int[] wh = Vp8Decoder.size(webp, data, (int) size);
    if (canvasWidth >= 0 && (canvasWidth != wh[0] || canvasHeight != wh[1])) {
      throw new IOException(
          "the VP8X canvas is "
              + canvasWidth
              + "x"
              + canvasHeight
              + " but the VP8 frame is "
              + wh[0]
              + "x"
              + wh[1]);
    }
    return Optional.of(new Frame(data, (int) size, wh[0], wh[1]));
  }

  /**
   * Decodes the frame to RGB ({@link BufferedImage#TYPE_INT_RGB}).
   *
   * @throws IOException when the VP8 data is corrupt or truncated
   */
  static BufferedImage decode(byte[] webp, Frame frame) throws IOException {
    return FancyUpsampler.toRgb(new Vp8Decoder(webp, frame.offset(), frame.length()).decode());
  }

  private static boolean isImageChunk(String fourCc) {
    return fourCc.equals("VP8 ") || fourCc.equals("VP8L");
  }

  private static String fourCc(byte[] b, int at) {
    return new String(b, at, 4, StandardCharsets.US_ASCII);
  }

  private static long littleEndian(byte[] b, int at, int count) {
    long v = 0;
    for (int i = count - 1; i >= 0; i--) {
      v = v << 8 | (b[at + i] & 0xFF);
    }
    return v;
  }
}
