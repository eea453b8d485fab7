package io.instructblip.engine.image;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import java.awt.image.BufferedImage;
import org.junit.jupiter.api.Test;

/**
 * The expected values were computed with Pillow 9.4 on the same 13x9 pattern: {@code
 * Image.fromarray(a).resize(size, Image.BICUBIC)}.
 */
class PilBicubicResizerTest {

  /** R = (37x + 11y) % 256, G = (5x^2 + 29y) % 256, B = ((x xor y) * 23) % 256. */
  static BufferedImage pattern() {
    BufferedImage image = new BufferedImage(13, 9, BufferedImage.TYPE_INT_RGB);
    for (int y = 0; y < 9; y++) {
      for (int x = 0; x < 13; x++) {
        int r = (x * 37 + y * 11) % 256;
        int g = (x * x * 5 + y * 29) % 256;
        int b = ((x ^ y) * 23) % 256;
        image.setRGB(x, y, r << 16 | g << 8 | b);
      }
    }
    return image;
  }

  static int[] interleaved(BufferedImage rgb) {
    int[] px = PilRgbConverter.pixels(rgb);
    int[] out = new int[px.length * 3];
    for (int i = 0; i < px.length; i++) {
      out[3 * i] = (px[i] >> 16) & 0xFF;
      out[3 * i + 1] = (px[i] >> 8) & 0xFF;
      out[3 * i + 2] = px[i] & 0xFF;
    }
    return out;
  }

  private static long checksum(int[] values) {
    long sum = 0;
    for (int i = 0; i < values.length; i++) {
      sum += (long) values[i] * (i % 251 + 1);
    }
    return sum;
  }

  @Test
  void downscalesBothAxesLikePillow() {
    int[] expected = {
      39, 25, 22, 140, 83, 76, 153, 157, 140, 62, 122, 213, 163, 142, 171, 63, 87, 57, 164, 150, 77,
      152, 125, 109, 86, 129, 178, 188, 108, 150, 89, 159, 127, 189, 187, 83, 98, 105, 29, 112, 128,
      42, 211, 126, 112, 117, 223, 171, 180, 130, 108, 66, 123, 36, 147, 121, 44, 165, 122, 89
    };
    assertArrayEquals(expected, interleaved(PilBicubicResizer.resize(pattern(), 5, 4)));
  }

  @Test
  void resamplesOnlyTheChangedAxis() {
    int[] verticalOnly = {
      7, 20, 16, 44, 25, 19, 81, 40, 45, 118, 65, 48, 155, 100, 113, 192, 145, 116, 237, 211, 142,
      10, 111, 145, 47, 84, 207, 84, 176, 210, 121, 110, 237, 158, 113, 240, 195, 189, 33, 31, 82,
      65, 68, 87, 65, 105, 102, 46, 142, 127, 45, 179, 163, 116, 217, 213, 115, 195, 93, 96, 34, 63,
      96, 71, 147, 191, 108, 173, 191, 145, 62, 172, 182, 184, 172, 220, 41, 101, 57, 150, 119, 94,
      155, 119, 131, 170, 132, 168, 203, 132, 205, 223, 25, 235, 77, 25, 17, 65, 39, 60, 139, 38,
      97, 207, 45, 134, 37, 45, 171, 138, 58, 208, 156, 58, 238, 101, 218, 81, 212, 168, 118, 217,
      171, 155, 232, 155, 192, 155, 158, 229, 75, 47, 49, 74, 50, 46, 136, 34, 84, 201, 37, 121, 59,
      51, 158, 105, 54, 195, 200, 38, 232, 38, 41, 52, 164, 187
    };
    assertArrayEquals(verticalOnly, interleaved(PilBicubicResizer.resize(pattern(), 13, 4)));
    int[] horizontalOnly = {
      23, 3, 15, 100, 38, 62, 188, 130, 113, 66, 175, 163, 80, 157, 222, 165, 167, 154, 34, 32, 18,
      111, 67, 62, 199, 156, 113, 77, 94, 163, 91, 99, 222, 176, 152, 157, 45, 61, 47, 122, 96, 38,
      210, 185, 134, 88, 123, 147, 102, 136, 233, 187, 73, 142, 56, 90, 50, 133, 132, 38, 221, 148,
      134, 99, 86, 147, 113, 172, 232, 198, 102, 145, 67, 119, 111, 152, 161, 123, 166, 178, 23, 44,
      105, 48, 132, 88, 45, 209, 137, 128, 78, 148, 114, 163, 192, 123, 177, 89, 23, 55, 132, 48,
      143, 118, 44, 220, 166, 131, 89, 177, 143, 174, 221, 99, 188, 118, 44, 66, 162, 32, 154, 128,
      55, 231, 78, 116, 100, 212, 146, 187, 197, 99, 81, 76, 44, 74, 121, 32, 173, 104, 55, 134,
      114, 119, 111, 247, 205, 198, 113, 203, 92, 95, 44, 85, 151, 56, 184, 133, 26, 145, 143, 77
    };
    assertArrayEquals(horizontalOnly, interleaved(PilBicubicResizer.resize(pattern(), 6, 9)));
  }

  @Test
  void strongDownscaleWidensTheKernelLikePillow() {
    int[] expected = {
      98, 87, 55, 136, 136, 124, 135, 125, 172, 137, 177, 125, 115, 124, 47, 162, 122, 81
    };
    assertArrayEquals(expected, interleaved(PilBicubicResizer.resize(pattern(), 3, 2)));
  }

  @Test
  void upscalesLikePillow() {
    int[] up = interleaved(PilBicubicResizer.resize(pattern(), 20, 15));
    assertEquals(12727528L, checksum(up));
    int[] big = interleaved(PilBicubicResizer.resize(pattern(), 224, 224));
    assertEquals(2259179691L, checksum(big));
  }

  @Test
  void sameSizeIsACopy() {
    BufferedImage source = pattern();
    BufferedImage same = PilBicubicResizer.resize(source, 13, 9);
    assertArrayEquals(interleaved(source), interleaved(same));
  }

  @Test
  void kernelIsBicubicWithAMinusHalf() {
    assertEquals(1.0, PilBicubicResizer.bicubic(0.0));
    assertEquals(0.5625, PilBicubicResizer.bicubic(0.5));
    assertEquals(-0.0625, PilBicubicResizer.bicubic(-1.5));
    assertEquals(0.0, PilBicubicResizer.bicubic(1.0), 0.0);
    assertEquals(0.0, PilBicubicResizer.bicubic(2.0));
  }

  @Test
  void rejectsBadTargetsAndImageTypes() {
    assertThrows(IllegalArgumentException.class, () -> PilBicubicResizer.resize(pattern(), 0, 4));
    BufferedImage argb = new BufferedImage(4, 4, BufferedImage.TYPE_INT_ARGB);
    assertThrows(IllegalArgumentException.class, () -> PilBicubicResizer.resize(argb, 2, 2));
  }

  /**
   * A 36,000,000 x 1 row (within the pixel limit) resized to 224 x 224: the resize allocates a few
   * MB (one block of weights), not output positions x taps (576 MB of weights before); a constant
   * image stays constant.
   */
  @Test
  void anExtremeAspectRatioAllocatesInProportionToTheOutput() {
    int inW = 36_000_000;
    int[] src = new int[inW];
    java.util.Arrays.fill(src, 0x336699);
    int[] dst = new int[224 * 224];
    com.sun.management.ThreadMXBean threads =
        (com.sun.management.ThreadMXBean) java.lang.management.ManagementFactory.getThreadMXBean();
    long before = threads.getCurrentThreadAllocatedBytes();
    PilBicubicResizer.resize(src, inW, 1, dst, 224, 224);
    long allocated = threads.getCurrentThreadAllocatedBytes() - before;
    org.junit.jupiter.api.Assertions.assertTrue(
        allocated < 32L << 20, "allocated " + allocated + " bytes");
    for (int p : dst) {
      assertEquals(0x336699, p);
    }
  }
}
