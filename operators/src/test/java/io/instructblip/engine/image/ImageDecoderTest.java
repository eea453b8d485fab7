package io.instructblip.engine.image;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.instructblip.engine.api.EngineException;
import io.instructblip.engine.api.ErrorCode;
import java.awt.Transparency;
import java.awt.color.ColorSpace;
import java.awt.image.BufferedImage;
import java.awt.image.ComponentColorModel;
import java.awt.image.DataBuffer;
import java.awt.image.IndexColorModel;
import java.awt.image.WritableRaster;
import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.util.Arrays;
import java.util.Random;
import java.util.zip.CRC32;
import javax.imageio.ImageIO;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

class ImageDecoderTest {

  private final ImageDecoder decoder = new ImageDecoder(ImageLimits.defaults());

  // ---- bad input -> error codes ----

  @Test
  void zeroBytesAreUnreadable() {
    EngineException e = assertThrows(EngineException.class, () -> decoder.decode(new byte[0]));
    assertEquals(ErrorCode.IMAGE_UNREADABLE, e.code());
    assertEquals(
        "the image is empty (0 bytes); send a complete image in one of JPEG, PNG, GIF, BMP, WebP",
        e.getMessage());
    assertEquals(
        ErrorCode.IMAGE_UNREADABLE,
        assertThrows(EngineException.class, () -> decoder.decode(null)).code());
  }

  @Test
  void garbageIsUnreadable() {
    byte[] garbage = new byte[300];
    new Random(7).nextBytes(garbage);
    garbage[0] = 'x';
    EngineException e = assertThrows(EngineException.class, () -> decoder.decode(garbage));
    assertEquals(ErrorCode.IMAGE_UNREADABLE, e.code());
    assertEquals(
        "unknown image format (the first bytes match none of JPEG, PNG, GIF, BMP, WebP); send a"
            + " complete image in one of JPEG, PNG, GIF, BMP, WebP",
        e.getMessage());
  }

  @Test
  void corruptDataAfterAValidSignatureIsUnreadable() {
    byte[] png = encode(solid(8, 8, 0x102030), "png");
    byte[] corrupt = Arrays.copyOf(png, png.length);
    Arrays.fill(corrupt, 16, corrupt.length, (byte) 0x5A);
    EngineException e = assertThrows(EngineException.class, () -> decoder.decode(corrupt));
    assertEquals(ErrorCode.IMAGE_UNREADABLE, e.code());
  }

  @Test
  void truncatedJpegIsUnreadableAlthoughImageIoWouldFillItGrey() {
    byte[] jpeg = encode(noise(64, 64), "jpeg");
    byte[] truncated = Arrays.copyOf(jpeg, jpeg.length * 6 / 10);
    EngineException e = assertThrows(EngineException.class, () -> decoder.decode(truncated));
    assertEquals(ErrorCode.IMAGE_UNREADABLE, e.code());
    assertTrue(e.getMessage().startsWith("the JPEG data is truncated ("), e.getMessage());
  }

  @Test
  void truncatedPngIsUnreadable() {
    byte[] png = encode(noise(64, 64), "png");
    byte[] truncated = Arrays.copyOf(png, png.length / 2);
    assertEquals(
        ErrorCode.IMAGE_UNREADABLE,
        assertThrows(EngineException.class, () -> decoder.decode(truncated)).code());
  }

  @Test
  void webpShorterThanItsRiffHeaderIsUnreadable() {
    byte[] webp = {'R', 'I', 'F', 'F', 100, 0, 0, 0, 'W', 'E', 'B', 'P', 'V', 'P', '8', 'L'};
    EngineException e = assertThrows(EngineException.class, () -> decoder.decode(webp));
    assertEquals(ErrorCode.IMAGE_UNREADABLE, e.code());
    assertEquals(
        "the WEBP data is truncated (the RIFF header announces 108 bytes, 16 arrived); send a"
            + " complete image in one of JPEG, PNG, GIF, BMP, WebP",
        e.getMessage());
  }

  @Test
  void hugeDimensionsInATinyPngAreRefusedBeforeDecoding() {
    byte[] png = pngHeaderOnly(20000, 20000);
    assertTrue(png.length < 100, "a header-only PNG is tiny: " + png.length);
    EngineException e = assertThrows(EngineException.class, () -> decoder.decode(png));
    assertEquals(ErrorCode.IMAGE_TOO_LARGE, e.code());
    assertEquals(
        "the image is 20000x20000 = 400000000 pixels, over the limit of 36000000; scale it down"
            + " before sending",
        e.getMessage());
  }

  @Test
  void overTheByteLimitIsRefusedBeforeDecoding() {
    byte[] png = encode(noise(32, 32), "png");
    ImageDecoder small = new ImageDecoder(ImageLimits.builder().maxBytes(1000).build());
    EngineException e = assertThrows(EngineException.class, () -> small.decode(png));
    assertEquals(ErrorCode.IMAGE_TOO_LARGE, e.code());
    assertEquals(
        "the image has "
            + png.length
            + " bytes, over the limit of 1000; send a smaller or more compressed image",
        e.getMessage());
  }

  @Test
  void pixelLimitIsInclusive() {
    byte[] png = encode(solid(10, 10, 0), "png");
    assertEquals(
        10, new ImageDecoder(ImageLimits.builder().maxPixels(100).build()).decode(png).getWidth());
    assertEquals(
        ErrorCode.IMAGE_TOO_LARGE,
        assertThrows(
                EngineException.class,
                () -> new ImageDecoder(ImageLimits.builder().maxPixels(99).build()).decode(png))
            .code());
  }

  // ---- formats and Pillow's convert("RGB") ----

  @ParameterizedTest
  @ValueSource(strings = {"png", "bmp", "gif"})
  void losslessFormatsDecodeExactly(String format) {
    BufferedImage source = format.equals("gif") ? palette() : noise(23, 17);
    BufferedImage decoded = decoder.decode(encode(source, format));
    assertEquals(BufferedImage.TYPE_INT_RGB, decoded.getType());
    assertArrayEquals(rgb(source), PilRgbConverter.pixels(decoded));
  }

  @Test
  void jpegDecodesToCloseColours() {
    BufferedImage decoded = decoder.decode(encode(solid(16, 16, 0x3C7896), "jpeg"));
    int p = decoded.getRGB(8, 8);
    assertEquals(0x3C, (p >> 16) & 0xFF, 2);
    assertEquals(0x78, (p >> 8) & 0xFF, 2);
    assertEquals(0x96, p & 0xFF, 2);
  }

  /**
   * Lossy WebP is decoded as libwebp (which Pillow uses) decodes it: on this smooth 64x48 file
   * TwelveMonkeys' VP8 decoder was off by 5 per channel on average and 54 at worst; now every pixel
   * is Pillow's (more in GoldenPreprocessTest and LossyWebpTest).
   */
  @Test
  void lossyWebpDecodesExactlyAsPillow() throws IOException {
    BufferedImage decoded = decoder.decode(resource("lossy.webp"));
    BufferedImage pillow = ImageIO.read(new ByteArrayInputStream(resource("lossy-pillow.png")));
    assertArrayEquals(rgb(pillow), PilRgbConverter.pixels(decoded));
  }

  /**
   * Damaged lossy WebP (bytes of the VP8 data overwritten, or the file cut, at seeded positions)
   * either decodes or is IMAGE_UNREADABLE with a message; nothing else escapes the decoder.
   */
  @Test
  void damagedLossyWebpDecodesOrIsUnreadable() throws IOException {
    byte[] webp = resource("lossy.webp");
    Random random = new Random(12);
    int unreadable = 0;
    for (int round = 0; round < 300; round++) {
      byte[] damaged;
      if (round % 3 == 0) {
        int length = 20 + random.nextInt(webp.length - 20);
        damaged = Arrays.copyOf(webp, length);
        ByteBuffer.wrap(damaged).order(ByteOrder.LITTLE_ENDIAN).putInt(4, length - 8);
      } else {
        damaged = webp.clone();
        for (int k = 0; k < 1 + random.nextInt(4); k++) {
          damaged[20 + random.nextInt(webp.length - 20)] = (byte) random.nextInt(256);
        }
      }
      try {
        BufferedImage image = decoder.decode(damaged);
        assertTrue(image.getWidth() > 0 && image.getHeight() > 0);
      } catch (EngineException e) {
        assertEquals(ErrorCode.IMAGE_UNREADABLE, e.code(), e.getMessage());
        assertTrue(e.getMessage().startsWith("the WEBP data is "), e.getMessage());
        unreadable++;
      }
    }
    assertTrue(unreadable >= 100, "every cut file is refused, got " + unreadable);
  }

  /**
   * A 6x6 first frame at (4, 2) on a 12x10 screen with background index 3: Pillow fills the rest
   * with palette index 0, or with the transparent index when the frame has one.
   */
  @ParameterizedTest
  @ValueSource(strings = {"gif-offset", "gif-offset-transparent"})
  void gifFirstFrameIsPlacedOnItsScreenAsPillowDoes(String name) throws IOException {
    BufferedImage decoded = decoder.decode(resource(name + ".gif"));
    BufferedImage pillow = ImageIO.read(new ByteArrayInputStream(resource(name + "-pillow.png")));
    assertEquals(12, decoded.getWidth());
    assertEquals(10, decoded.getHeight());
    assertArrayEquals(rgb(pillow), PilRgbConverter.pixels(decoded));
  }

  @Test
  void gifScreenSizeCountsForThePixelLimit() throws IOException {
    byte[] gif = resource("gif-offset.gif");
    ImageDecoder limited = new ImageDecoder(ImageLimits.builder().maxPixels(100).build());
    EngineException e = assertThrows(EngineException.class, () -> limited.decode(gif));
    assertEquals(ErrorCode.IMAGE_TOO_LARGE, e.code());
    assertTrue(e.getMessage().startsWith("the image is 12x10 = 120 pixels"), e.getMessage());
  }

  /**
   * Colour conversion is Pillow's, without colour management: Adobe CMYK (APP14 transform 0, stored
   * inverted) and Adobe YCCK (transform 2) JPEGs written by the JDK writer, and a JPEG and an RGBA
   * WebP with an embedded linear-RGB ICC profile (which the ImageIO readers would apply and Pillow
   * ignores), and a 16-bit 5-5-5 BMP (Pillow scales 5-bit fields with truncation), each next to
   * Pillow 9.4's {@code convert("RGB")} of it: identical.
   */
  @ParameterizedTest
  @ValueSource(
      strings = {"cmyk.jpg", "ycck.jpg", "icc-profile.jpg", "icc-profile.webp", "rgb555.bmp"})
  void colourConversionIsExactlyPillows(String name) throws IOException {
    BufferedImage decoded = decoder.decode(resource(name));
    BufferedImage pillow =
        ImageIO.read(new ByteArrayInputStream(resource(name.replace('.', '-') + "-pillow.png")));
    assertArrayEquals(rgb(pillow), PilRgbConverter.pixels(decoded));
  }

  private static byte[] resource(String name) throws IOException {
    try (InputStream in = ImageDecoderTest.class.getResourceAsStream(name)) {
      return in.readAllBytes();
    }
  }

  @Test
  void greyIsReplicated() {
    BufferedImage grey = new BufferedImage(3, 1, BufferedImage.TYPE_BYTE_GRAY);
    grey.getRaster().setPixels(0, 0, 3, 1, new int[] {0, 77, 255});
    int[] out = PilRgbConverter.pixels(decoder.decode(encode(grey, "png")));
    assertArrayEquals(new int[] {0x000000, 0x4D4D4D, 0xFFFFFF}, out);
  }

  @Test
  void alphaIsDroppedNotComposited() {
    BufferedImage rgba = new BufferedImage(2, 1, BufferedImage.TYPE_INT_ARGB);
    rgba.setRGB(0, 0, 0x000A141E); // fully transparent (10, 20, 30)
    rgba.setRGB(1, 0, 0x80C86432); // half transparent (200, 100, 50)
    int[] out = PilRgbConverter.pixels(decoder.decode(encode(rgba, "png")));
    assertArrayEquals(new int[] {0x0A141E, 0xC86432}, out);
  }

  @Test
  void sixteenBitGreyKeepsTheHighByteAsTheReferenceDoes() {
    BufferedImage grey16 = new BufferedImage(4, 1, BufferedImage.TYPE_USHORT_GRAY);
    grey16.getRaster().setPixels(0, 0, 4, 1, new int[] {0, 0x00FF, 0x1234, 0xFFFF});
    int[] out = PilRgbConverter.pixels(decoder.decode(encode(grey16, "png")));
    assertArrayEquals(new int[] {0x000000, 0x000000, 0x121212, 0xFFFFFF}, out);
  }

  @Test
  void sixteenBitRgbKeepsTheHighByte() {
    ComponentColorModel cm =
        new ComponentColorModel(
            ColorSpace.getInstance(ColorSpace.CS_sRGB),
            false,
            false,
            Transparency.OPAQUE,
            DataBuffer.TYPE_USHORT);
    WritableRaster raster = cm.createCompatibleWritableRaster(2, 1);
    raster.setPixels(0, 0, 2, 1, new int[] {0x1234, 0xABCD, 0x00FF, 0xFFFF, 0x8000, 0x0100});
    BufferedImage rgb16 = new BufferedImage(cm, raster, false, null);
    int[] out = PilRgbConverter.pixels(decoder.decode(encode(rgb16, "png")));
    assertArrayEquals(new int[] {0x12AB00, 0xFF8001}, out);
  }

  @Test
  void paletteIsExpanded() {
    BufferedImage indexed = palette();
    int[] out = PilRgbConverter.pixels(decoder.decode(encode(indexed, "png")));
    assertArrayEquals(rgb(indexed), out);
    assertEquals(0xFF0000, out[0]);
  }

  // ---- EXIF orientation ----

  @ParameterizedTest
  @ValueSource(ints = {1, 2, 3, 4, 5, 6, 7, 8})
  void exifOrientationIsReadAndApplied(int orientation) {
    byte[] jpeg = withExifOrientation(encode(noise(6, 4), "jpeg"), orientation);
    assertEquals(orientation, ExifOrientation.read(jpeg, ImageFormat.JPEG));
    BufferedImage decoded = decoder.decode(jpeg);
    boolean swapped = orientation >= 5;
    assertEquals(swapped ? 4 : 6, decoded.getWidth());
    assertEquals(swapped ? 6 : 4, decoded.getHeight());
  }

  /** Pillow's exif_transpose also reads the PNG eXIf chunk and the WebP EXIF chunk; so do we. */
  @ParameterizedTest
  @ValueSource(strings = {"exif6.png", "exif6.webp"})
  void exifOrientationOfPngAndWebpIsAppliedAsPillowDoes(String name) throws IOException {
    BufferedImage decoded = decoder.decode(resource(name));
    BufferedImage pillow =
        ImageIO.read(new ByteArrayInputStream(resource(name.replace('.', '-') + "-pillow.png")));
    assertEquals(10, decoded.getWidth());
    assertEquals(16, decoded.getHeight());
    assertArrayEquals(rgb(pillow), PilRgbConverter.pixels(decoded));
  }

  @Test
  void exifRotate6TurnsAJpegClockwise() {
    BufferedImage source = new BufferedImage(40, 16, BufferedImage.TYPE_INT_RGB);
    for (int y = 0; y < 16; y++) {
      for (int x = 0; x < 40; x++) {
        source.setRGB(x, y, x < 20 ? 0xFF0000 : 0x0000FF); // red left half, blue right half
      }
    }
    byte[] jpeg = withExifOrientation(encode(source, "jpeg"), 6);
    BufferedImage decoded = decoder.decode(jpeg);
    assertEquals(16, decoded.getWidth());
    assertEquals(40, decoded.getHeight());
    // Rotated clockwise, the left (red) half is now on top.
    assertTrue(((decoded.getRGB(8, 5) >> 16) & 0xFF) > 200);
    assertTrue((decoded.getRGB(8, 34) & 0xFF) > 200);
  }

  @Test
  void exifTransformsMatchPillowTransposeMethods() {
    // 3x2 image with pixel value = index, so each transform's layout is visible.
    BufferedImage src = new BufferedImage(3, 2, BufferedImage.TYPE_INT_RGB);
    for (int i = 0; i < 6; i++) {
      src.setRGB(i % 3, i / 3, i);
    }
    // Expected from Pillow: Image.transpose(method) of [[0,1,2],[3,4,5]].
    assertArrayEquals(new int[] {2, 1, 0, 5, 4, 3}, transformed(src, 2)); // FLIP_LEFT_RIGHT
    assertArrayEquals(new int[] {5, 4, 3, 2, 1, 0}, transformed(src, 3)); // ROTATE_180
    assertArrayEquals(new int[] {3, 4, 5, 0, 1, 2}, transformed(src, 4)); // FLIP_TOP_BOTTOM
    assertArrayEquals(new int[] {0, 3, 1, 4, 2, 5}, transformed(src, 5)); // TRANSPOSE
    assertArrayEquals(new int[] {3, 0, 4, 1, 5, 2}, transformed(src, 6)); // ROTATE_270
    assertArrayEquals(new int[] {5, 2, 4, 1, 3, 0}, transformed(src, 7)); // TRANSVERSE
    assertArrayEquals(new int[] {2, 5, 1, 4, 0, 3}, transformed(src, 8)); // ROTATE_90
  }

  @Test
  void malformedExifMeansUpright() {
    byte[] jpeg = encode(solid(4, 4, 0), "jpeg");
    byte[] broken = withExifOrientation(jpeg, 6);
    broken[4 + 2 + 2 + 6 + 8 + 2] = (byte) 0x7F; // entry count far beyond the segment
    assertEquals(ExifOrientation.NORMAL, ExifOrientation.read(broken, ImageFormat.JPEG));
    assertEquals(ExifOrientation.NORMAL, ExifOrientation.read(jpeg, ImageFormat.JPEG));
  }

  // ---- helpers ----

  private static int[] transformed(BufferedImage src, int orientation) {
    return PilRgbConverter.pixels(ExifOrientation.apply(src, orientation));
  }

  static BufferedImage solid(int w, int h, int rgb) {
    BufferedImage image = new BufferedImage(w, h, BufferedImage.TYPE_INT_RGB);
    for (int y = 0; y < h; y++) {
      for (int x = 0; x < w; x++) {
        image.setRGB(x, y, rgb);
      }
    }
    return image;
  }

  static BufferedImage noise(int w, int h) {
    Random random = new Random(w * 31L + h);
    BufferedImage image = new BufferedImage(w, h, BufferedImage.TYPE_INT_RGB);
    for (int y = 0; y < h; y++) {
      for (int x = 0; x < w; x++) {
        image.setRGB(x, y, random.nextInt(1 << 24));
      }
    }
    return image;
  }

  private static BufferedImage palette() {
    byte[] r = {(byte) 255, 0, 0, 17, (byte) 200};
    byte[] g = {0, (byte) 255, 0, 34, 100};
    byte[] b = {0, 0, (byte) 255, 51, 7};
    IndexColorModel cm = new IndexColorModel(8, 5, r, g, b);
    // 9 rows: the JDK's GIF reader mis-decodes interlaced GIFs of 4 rows or fewer.
    BufferedImage image = new BufferedImage(7, 9, BufferedImage.TYPE_BYTE_INDEXED, cm);
    for (int i = 0; i < 63; i++) {
      image.getRaster().setSample(i % 7, i / 7, 0, (i * 3) % 5);
    }
    return image;
  }

  private static int[] rgb(BufferedImage image) {
    int[] out = new int[image.getWidth() * image.getHeight()];
    for (int y = 0; y < image.getHeight(); y++) {
      for (int x = 0; x < image.getWidth(); x++) {
        out[y * image.getWidth() + x] = image.getRGB(x, y) & 0xFFFFFF;
      }
    }
    return out;
  }

  static byte[] encode(BufferedImage image, String format) {
    try {
      ByteArrayOutputStream out = new ByteArrayOutputStream();
      if (!ImageIO.write(image, format, out)) {
        throw new IllegalStateException("no ImageIO writer for " + format);
      }
      return out.toByteArray();
    } catch (IOException e) {
      throw new IllegalStateException(e);
    }
  }

  /** A JPEG (or any SOI-started bytes) with an APP1 Exif segment holding only the orientation. */
  static byte[] withExifOrientation(byte[] jpeg, int orientation) {
    ByteBuffer tiff = ByteBuffer.allocate(26); // big-endian TIFF: header, 1-entry IFD, next = 0
    tiff.put((byte) 'M').put((byte) 'M').putShort((short) 42).putInt(8);
    tiff.putShort((short) 1);
    tiff.putShort((short) 0x0112).putShort((short) 3).putInt(1).putShort((short) orientation);
    tiff.putShort((short) 0).putInt(0);
    byte[] exif = {'E', 'x', 'i', 'f', 0, 0};
    int length = 2 + exif.length + tiff.capacity();
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    out.write(jpeg, 0, 2); // SOI
    out.write(0xFF);
    out.write(0xE1);
    out.write(length >> 8);
    out.write(length & 0xFF);
    out.write(exif, 0, exif.length);
    out.write(tiff.array(), 0, tiff.capacity());
    out.write(jpeg, 2, jpeg.length - 2);
    return out.toByteArray();
  }

  /** PNG signature, an IHDR claiming {@code w x h} RGB 8-bit, and IEND: no pixel data at all. */
  static byte[] pngHeaderOnly(int w, int h) {
    ByteBuffer ihdr = ByteBuffer.allocate(13).putInt(w).putInt(h);
    ihdr.put((byte) 8).put((byte) 2).put((byte) 0).put((byte) 0).put((byte) 0);
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    out.writeBytes(new byte[] {(byte) 0x89, 'P', 'N', 'G', 0x0D, 0x0A, 0x1A, 0x0A});
    chunk(out, "IHDR", ihdr.array());
    chunk(out, "IEND", new byte[0]);
    return out.toByteArray();
  }

  private static void chunk(ByteArrayOutputStream out, String type, byte[] data) {
    ByteBuffer b = ByteBuffer.allocate(12 + data.length);
    b.putInt(data.length).put(type.getBytes(StandardCharsets.US_ASCII)).put(data);
    CRC32 crc = new CRC32();
    crc.update(b.array(), 4, 4 + data.length);
    b.putInt((int) crc.getValue());
    out.writeBytes(b.array());
  }
}
