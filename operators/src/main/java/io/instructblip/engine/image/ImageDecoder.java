package io.instructblip.engine.image;

import io.instructblip.engine.api.EngineException;
import io.instructblip.engine.api.ErrorCode;
import java.awt.image.BufferedImage;
import java.awt.image.Raster;
import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Objects;
import java.util.Optional;
import javax.imageio.ImageIO;
import javax.imageio.ImageReadParam;
import javax.imageio.ImageReader;
import javax.imageio.stream.ImageInputStream;

/**
 * Decodes encoded image bytes (JPEG, PNG, GIF first frame, BMP, WebP) into an upright 8-bit RGB
 * {@link BufferedImage} ({@link BufferedImage#TYPE_INT_RGB}), the way Pillow opens an image,
 * applies {@code ImageOps.exif_transpose} and {@code convert("RGB")}.
 *
 * <p>Guards run before any pixel is decoded: the byte limit, then the width and height from the
 * header against the pixel limit. Failures are {@link EngineException}s with {@link
 * ErrorCode#IMAGE_TOO_LARGE} or {@link ErrorCode#IMAGE_UNREADABLE}; a JPEG that ImageIO would
 * decode with grey filler (truncated data, reported only as a read warning) is unreadable too.
 * Thread-safe: each call uses its own reader.
 */
public final class ImageDecoder {

  /** Read warnings that mean the pixels are incomplete (lower case). */
  private static final List<String> TRUNCATION_WARNINGS =
      List.of("premature end", "missing eoi", "truncated", "end of file", "unexpected eof");

  private final ImageLimits limits;

  /** A decoder enforcing {@code limits}. */
  public ImageDecoder(ImageLimits limits) {
    this.limits = Objects.requireNonNull(limits, "limits");
  }

  /** The limits this decoder enforces. */
  public ImageLimits limits() {
    return limits;
  }

  /**
   * Decodes {@code bytes} into an upright RGB image.
   *
   * @throws EngineException {@link ErrorCode#IMAGE_TOO_LARGE} over a limit, {@link
   *     ErrorCode#IMAGE_UNREADABLE} for empty, unknown, corrupt or truncated input
   */
  public BufferedImage decode(byte[] bytes) {
    if (bytes == null || bytes.length == 0) {
      throw unreadable("the image is empty (0 bytes)", null);
    }
    if (bytes.length > limits.maxBytes()) {
      throw new EngineException(
          ErrorCode.IMAGE_TOO_LARGE,
          "the image has "
              + bytes.length
              + " bytes, over the limit of "
              + limits.maxBytes()
              + "; send a smaller or more compressed image");
    }
    ImageFormat format =
        ImageFormat.sniff(bytes)
            .orElseThrow(
                () ->
                    unreadable(
                        "unknown image format (the first bytes match none of "
                            + ImageFormat.SUPPORTED
                            + ")",
                        null));
    if (format == ImageFormat.WEBP) {
      rejectTruncatedRiff(bytes);
    }
    BufferedImage rgb = decodePixels(bytes, format);
    return ExifOrientation.apply(rgb, ExifOrientation.read(bytes, format));
  }

  private BufferedImage decodePixels(byte[] bytes, ImageFormat format) {
    ImageReader reader = null;
    try (ImageInputStream input = ImageIO.createImageInputStream(new ByteArrayInputStream(bytes))) {
      if (format == ImageFormat.WEBP) {
        // Still lossy WebP: decoded bit-exactly as libwebp (see LossyWebp); lossless and animated
        // WebP go through the TwelveMonkeys reader below.
        Optional<LossyWebp.Frame> lossy = LossyWebp.find(bytes);
        if (lossy.isPresent()) {
          checkPixelLimit(lossy.get().width(), lossy.get().height(), format);
          return LossyWebp.decode(bytes, lossy.get());
        }
      }
      reader = ImageReaderFactory.create(format);
      reader.setInput(input, true, true);
      GifScreen screen = format == ImageFormat.GIF ? GifScreen.of(reader) : null;
      if (screen != null) {
        checkPixelLimit(screen.width, screen.height, format);
      }
      checkPixelLimit(reader.getWidth(0), reader.getHeight(0), format);
      List<String> warnings = new ArrayList<>();
      reader.addIIOReadWarningListener((source, warning) -> warnings.add(warning));
      BufferedImage rgb;
      if (format == ImageFormat.JPEG) {
        // Raw components, converted as libjpeg + Pillow do: the readers would apply an embedded
        // ICC profile (or a CMYK profile) that Pillow ignores.
        Raster raw = reader.readRaster(0, null);
        rejectTruncated(warnings, format);
        rgb = JpegRawConverter.toRgb(raw, bytes);
      } else {
        BufferedImage decoded = reader.read(0, rawParam(reader, format));
        rejectTruncated(warnings, format);
        rgb = PilRgbConverter.toRgb(decoded);
        if (screen != null) {
          rgb = screen.compose(rgb, decoded.getColorModel());
        }
      }
      return rgb;
    } catch (EngineException e) {
      throw e;
    } catch (IOException | RuntimeException e) {
      // ImageIO reports corrupt data as IIOException, EOFException or, from some plugins, as
      // IllegalArgumentException / IndexOutOfBoundsException.
      String reason = e.getMessage() != null ? e.getMessage() : e.getClass().getSimpleName();
      throw unreadable("the " + format + " data is corrupt or truncated (" + reason + ")", e);
    } finally {
      if (reader != null) {
        reader.dispose();
      }
    }
  }

  /**
   * The TwelveMonkeys WebP reader decodes some truncated files without complaint; libwebp (and so
   * Pillow) refuses a file shorter than its RIFF header says.
   */
  private static void rejectTruncatedRiff(byte[] webp) {
    long declared =
        (webp[4] & 0xFFL)
            | (webp[5] & 0xFFL) << 8
            | (webp[6] & 0xFFL) << 16
            | (webp[7] & 0xFFL) << 24;
    if (declared + 8 > webp.length) {
      throw unreadable(
          "the WEBP data is truncated (the RIFF header announces "
              + (declared + 8)
              + " bytes, "
              + webp.length
              + " arrived)",
          null);
    }
  }

  private void checkPixelLimit(int width, int height, ImageFormat format) {
    if (width <= 0 || height <= 0) {
      throw unreadable(
          "the " + format + " header gives an empty size " + width + "x" + height, null);
    }
    long pixels = (long) width * height;
    if (pixels > limits.maxPixels()) {
      throw new EngineException(
          ErrorCode.IMAGE_TOO_LARGE,
          "the image is "
              + width
              + "x"
              + height
              + " = "
              + pixels
              + " pixels, over the limit of "
              + limits.maxPixels()
              + "; scale it down before sending");
    }
  }

  /**
   * WebP: ask for the raw image type, which is the only way to stop the TwelveMonkeys reader from
   * applying an embedded ICC profile (Pillow ignores it). Other formats: defaults (the JDK PNG, GIF
   * and BMP readers do not colour-convert).
   */
  private static ImageReadParam rawParam(ImageReader reader, ImageFormat format)
      throws IOException {
    ImageReadParam param = reader.getDefaultReadParam();
    if (format == ImageFormat.WEBP) {
      param.setDestinationType(reader.getRawImageType(0));
    }
    return param;
  }

  private static void rejectTruncated(List<String> warnings, ImageFormat format) {
    for (String warning : warnings) {
      String lower = warning.toLowerCase(Locale.ROOT);
      for (String sign : TRUNCATION_WARNINGS) {
        if (lower.contains(sign)) {
          throw unreadable("the " + format + " data is truncated (" + warning + ")", null);
        }
      }
    }
  }

  private static EngineException unreadable(String what, Throwable cause) {
    return new EngineException(
        ErrorCode.IMAGE_UNREADABLE,
        what + "; send a complete image in one of " + ImageFormat.SUPPORTED,
        cause);
  }
}
