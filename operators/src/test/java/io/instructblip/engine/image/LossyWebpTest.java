package io.instructblip.engine.image;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.awt.image.BufferedImage;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.Arrays;
import java.util.Base64;
import org.junit.jupiter.api.Test;

/**
 * Small lossy WebP files (made by Pillow 9.4 / libwebp 1.2.4) decoded to exactly the RGB that
 * Pillow's {@code convert("RGB")} gives, and the layouts this decoder leaves to others or refuses.
 */
class LossyWebpTest {

  /** 17x3, quality 50, method 2: one macroblock row, two macroblocks, odd width. */
  private static final String SEVENTEEN_BY_THREE =
      "UklGRpQAAABXRUJQVlA4IIgAAAAwBQCdASoRAAMAPtFUo0uoJKMhsAgBABoJbACdMoR3N4B+JLXAPXMAjkDm3htdBVsWAAD+"
          + "W/Z5bXgiGmc82OQvWwGXpHqPEQ7eml9z9MoISiuXS0oaybY3fg38ZjwHz7uPeebz2nyMCQ+lXQEgXV35L150mWw78fRr"
          + "VxPCLw/k6Hwi8bMYgAAA";

  /** Pillow's pixels of that file, row by row, as 0xRRGGBB. */
  private static final int[] SEVENTEEN_BY_THREE_RGB = {
    0x526a44, 0x778361, 0x716348, 0x766542, 0x75763a, 0x464300, 0x725619, 0x602f00, 0x531500,
    0x6a1800, 0x801402, 0x9f2c28, 0x7f1829, 0x6c000a, 0xb23021, 0xcb3219, 0xdd2919, 0x6caa6c,
    0xa1d497, 0x9db67d, 0x91a666, 0xaad17d, 0xb3d67b, 0xd6e088, 0x7c751f, 0x5b4900, 0x7e5908,
    0xefaf6a, 0x9f5521, 0xac6f4f, 0xcb8b65, 0xba6524, 0xff9957, 0xf5663b, 0x7dff9c, 0x77f687,
    0x72d967, 0xa4ff8d, 0x7ff472, 0x76e55c, 0xbaff84, 0xa1e951, 0xbafb4f, 0xc4f341, 0xdcf04a,
    0xc5d23c, 0xdef673, 0xd0e35d, 0xeceb47, 0xffef57, 0xffbf61
  };

  /** 1x1, quality 50. */
  private static final String ONE_PIXEL =
      "UklGRi4AAABXRUJQVlA4ICIAAABwAQCdASoBAAEAAsBMJaACdAGIQAD+73bX2p+9n4T6yWAA";

  private static byte[] decodeBase64(String s) {
    return Base64.getDecoder().decode(s);
  }

  private static int[] rgb(BufferedImage image) {
    return image.getRGB(0, 0, image.getWidth(), image.getHeight(), null, 0, image.getWidth());
  }

  private static BufferedImage decode(byte[] webp) throws IOException {
    return LossyWebp.decode(webp, LossyWebp.find(webp).orElseThrow());
  }

  @Test
  void decodesExactlyAsPillow() throws IOException {
    BufferedImage image = decode(decodeBase64(SEVENTEEN_BY_THREE));
    assertEquals(17, image.getWidth());
    assertEquals(3, image.getHeight());
    int[] actual = Arrays.stream(rgb(image)).map(p -> p & 0xFFFFFF).toArray();
    assertEquals(Arrays.toString(SEVENTEEN_BY_THREE_RGB), Arrays.toString(actual));
  }

  @Test
  void decodesASinglePixel() throws IOException {
    BufferedImage image = decode(decodeBase64(ONE_PIXEL));
    assertEquals(0x4c3288, image.getRGB(0, 0) & 0xFFFFFF);
  }

  @Test
  void findsTheFrameSizeInTheHeader() throws IOException {
    LossyWebp.Frame frame = LossyWebp.find(decodeBase64(SEVENTEEN_BY_THREE)).orElseThrow();
    assertEquals(17, frame.width());
    assertEquals(3, frame.height());
    assertEquals(20, frame.offset());
    assertEquals(136, frame.length());
  }

  @Test
  void leavesLosslessAndAnimatedWebpToTheOtherReader() throws IOException {
    byte[] lossless = decodeBase64(SEVENTEEN_BY_THREE);
    lossless[15] = 'L'; // "VP8L"
    assertTrue(LossyWebp.find(lossless).isEmpty());
    byte[] animated = withVp8x(decodeBase64(SEVENTEEN_BY_THREE), 0x02, 17, 3);
    assertTrue(LossyWebp.find(animated).isEmpty());
  }

  @Test
  void decodesAfterAVp8xHeader() throws IOException {
    byte[] extended = withVp8x(decodeBase64(SEVENTEEN_BY_THREE), 0, 17, 3);
    int[] actual = Arrays.stream(rgb(decode(extended))).map(p -> p & 0xFFFFFF).toArray();
    assertEquals(Arrays.toString(SEVENTEEN_BY_THREE_RGB), Arrays.toString(actual));
  }

  @Test
  void refusesACanvasOfAnotherSize() {
    byte[] extended = withVp8x(decodeBase64(SEVENTEEN_BY_THREE), 0, 16, 3);
    IOException e = assertThrows(IOException.class, () -> LossyWebp.find(extended));
    assertEquals("the VP8X canvas is 16x3 but the VP8 frame is 17x3", e.getMessage());
  }

  @Test
  void refusesTruncatedTokenData() {
    byte[] whole = decodeBase64(SEVENTEEN_BY_THREE);
    // Keep the frame header, the first partition (41 bytes) and 5 bytes of the token partition.
    int chunk = 10 + 41 + 5;
    byte[] cut = Arrays.copyOf(whole, 20 + chunk);
    ByteBuffer.wrap(cut).order(ByteOrder.LITTLE_ENDIAN).putInt(4, cut.length - 8).putInt(16, chunk);
    IOException e = assertThrows(IOException.class, () -> decode(cut));
    assertEquals("premature end of the VP8 data", e.getMessage());
  }

  @Test
  void refusesAChunkLongerThanTheFile() {
    byte[] whole = decodeBase64(SEVENTEEN_BY_THREE);
    byte[] cut = Arrays.copyOf(whole, whole.length - 10);
    ByteBuffer.wrap(cut).order(ByteOrder.LITTLE_ENDIAN).putInt(4, cut.length - 8);
    IOException e = assertThrows(IOException.class, () -> LossyWebp.find(cut));
    assertEquals("the VP8 chunk announces 136 bytes, 126 are there", e.getMessage());
  }

  /** The simple-format file rewritten with a VP8X header (flags, canvas size) before its chunk. */
  private static byte[] withVp8x(byte[] simple, int flags, int canvasWidth, int canvasHeight) {
    ByteBuffer out = ByteBuffer.allocate(simple.length + 18).order(ByteOrder.LITTLE_ENDIAN);
    out.put(simple, 0, 12).put("VP8X".getBytes(java.nio.charset.StandardCharsets.US_ASCII));
    out.putInt(10).put((byte) flags).put(new byte[3]);
    putInt24(out, canvasWidth - 1);
    putInt24(out, canvasHeight - 1);
    out.put(simple, 12, simple.length - 12);
    out.putInt(4, out.capacity() - 8);
    return out.array();
  }

  private static void putInt24(ByteBuffer out, int v) {
    out.put((byte) v).put((byte) (v >> 8)).put((byte) (v >> 16));
  }
}
