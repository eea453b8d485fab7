package io.instructblip.engine.image;

import java.util.Optional;

/**
 * The image formats the engine decodes, recognised from their first bytes (never from a file name
 * or a declared content type).
 */
public enum ImageFormat {
  /** JPEG (baseline, progressive, grey, CMYK), decoded by TwelveMonkeys imageio-jpeg. */
  JPEG("jpeg"),
  /** PNG (any bit depth and colour type), decoded by the JDK. */
  PNG("png"),
  /** GIF (first frame), decoded by the JDK. */
  GIF("gif"),
  /** BMP, decoded by the JDK. */
  BMP("bmp"),
  /**
   * WebP: still lossy WebP by this package's own VP8 decoder, bit-exact with libwebp ({@link
   * LossyWebp}); lossless and animated WebP by TwelveMonkeys imageio-webp.
   */
  WEBP("webp");

  /** What the error message lists when the bytes are none of these formats. */
  public static final String SUPPORTED = "JPEG, PNG, GIF, BMP, WebP";

  private final String formatName;

  ImageFormat(String formatName) {
    this.formatName = formatName;
  }

  /** The ImageIO format name of this format. */
  public String formatName() {
    return formatName;
  }

  /** The format whose signature starts {@code bytes}, or empty when none matches. */
  public static Optional<ImageFormat> sniff(byte[] bytes) {
    if (startsWith(bytes, 0, 0xFF, 0xD8, 0xFF)) {
      return Optional.of(JPEG);
    }
    if (startsWith(bytes, 0, 0x89, 'P', 'N', 'G', 0x0D, 0x0A, 0x1A, 0x0A)) {
      return Optional.of(PNG);
    }
    if (startsWith(bytes, 0, 'G', 'I', 'F', '8')) {
      return Optional.of(GIF);
    }
    if (startsWith(bytes, 0, 'B', 'M')) {
      return Optional.of(BMP);
    }
    if (startsWith(bytes, 0, 'R', 'I', 'F', 'F') && startsWith(bytes, 8, 'W', 'E', 'B', 'P')) {
      return Optional.of(WEBP);
    }
    return Optional.empty();
  }

  private static boolean startsWith(byte[] bytes, int offset, int... signature) {
    if (bytes.length < offset + signature.length) {
      return false;
    }
    for (int i = 0; i < signature.length; i++) {
      if ((bytes[offset + i] & 0xFF) != signature[i]) {
        return false;
      }
    }
    return true;
  }
}
