package io.instructblip.engine.image;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;

import java.util.Arrays;
import org.junit.jupiter.api.Test;

/**
 * The inverse transforms against RFC 6386's reference code (sections 14.3 and 14.4, written
 * independently in Python), on blocks that exercise every coefficient row and column and clamping.
 */
class Vp8InverseTransformsTest {

  @Test
  void inverseDctAddsToThePredictionAndClamps() {
    short[] coefficients = {-310, 97, 0, -12, 45, -60, 8, 0, 0, 21, -3, 0, 7, 0, 0, -1};
    int[] prediction = {128, 130, 140, 250, 5, 60, 90, 200, 255, 254, 3, 0, 100, 100, 100, 100};
    int stride = 7; // the block sits in a wider buffer
    int[] buffer = new int[stride * 4];
    for (int i = 0; i < 16; i++) {
      buffer[(i / 4) * stride + 1 + i % 4] = prediction[i];
    }
    Vp8InverseTransforms.inverseDctAdd(coefficients, 0, buffer, 1, stride);
    int[] expected = {103, 103, 103, 215, 0, 27, 48, 158, 231, 223, 0, 0, 83, 70, 40, 21};
    int[] actual = new int[16];
    for (int i = 0; i < 16; i++) {
      actual[i] = buffer[(i / 4) * stride + 1 + i % 4];
    }
    assertArrayEquals(expected, actual);
    for (int row = 0; row < 4; row++) {
      assertEquals(0, buffer[row * stride], "left of the block untouched");
      assertEquals(0, buffer[row * stride + 5], "right of the block untouched");
    }
  }

  @Test
  void inverseDctOfADcOnlyBlockAddsOneValue() {
    short[] coefficients = new short[32];
    coefficients[16] = 53; // the second block of the array
    int[] buffer = new int[16];
    Arrays.fill(buffer, 10);
    Vp8InverseTransforms.inverseDctAdd(coefficients, 16, buffer, 0, 4);
    int[] expected = new int[16];
    Arrays.fill(expected, 17); // 10 + (53 + 4) >> 3
    assertArrayEquals(expected, buffer);
  }

  @Test
  void inverseWhtSpreadsTheDcOfEachLumaBlock() {
    short[] dc = {1200, -340, 77, 0, 15, -8, 0, 3, -90, 0, 0, 0, 4, 0, -2, 1};
    short[] coefficients = new short[384];
    Vp8InverseTransforms.inverseWht(dc, coefficients, 0);
    int[] expected = {107, 88, 176, 193, 129, 109, 196, 216, 127, 109, 192, 211, 104, 85, 167, 188};
    int[] actual = new int[16];
    for (int n = 0; n < 16; n++) {
      actual[n] = coefficients[16 * n];
      for (int k = 1; k < 16; k++) {
        assertEquals(0, coefficients[16 * n + k], "AC coefficients untouched");
      }
    }
    assertArrayEquals(expected, actual);
  }
}
