package io.instructblip.engine.image;

/**
 * VP8's inverse transforms in libwebp's integer arithmetic: the Walsh-Hadamard transform of the
 * second-order luma DC block (RFC 6386 section 14.3) and the 4x4 inverse DCT added to a predicted
 * block (section 14.4).
 */
final class Vp8InverseTransforms {
  /** cos(pi/8) * sqrt(2) - 1, in 1/65536. */
  private static final int C1 = 20091;

  /** sin(pi/8) * sqrt(2), in 1/65536. */
  private static final int C2 = 35468;

  private Vp8InverseTransforms() {}

  private static int mul1(int a) {
    return ((a * C1) >> 16) + a;
  }

  private static int mul2(int a) {
    return (a * C2) >> 16;
  }

  /**
   * Inverse WHT of the 16 coefficients at {@code in[0..16)}: the result for the n-th luma block is
   * written to {@code out[outOffset + 16 * n]} (its DC coefficient), as 16-bit values.
   */
  static void inverseWht(short[] in, short[] out, int outOffset) {
    int[] tmp = new int[16];
    for (int i = 0; i < 4; i++) {
      int a0 = in[i] + in[12 + i];
      int a1 = in[4 + i] + in[8 + i];
      int a2 = in[4 + i] - in[8 + i];
      int a3 = in[i] - in[12 + i];
      tmp[i] = a0 + a1;
      tmp[8 + i] = a0 - a1;
      tmp[4 + i] = a3 + a2;
      tmp[12 + i] = a3 - a2;
    }
    int o = outOffset;
    for (int i = 0; i < 4; i++) {
      int dc = tmp[i * 4] + 3;
      int a0 = dc + tmp[3 + i * 4];
      int a1 = tmp[1 + i * 4] + tmp[2 + i * 4];
      int a2 = tmp[1 + i * 4] - tmp[2 + i * 4];
      int a3 = dc - tmp[3 + i * 4];
      out[o] = (short) ((a0 + a1) >> 3);
      out[o + 16] = (short) ((a3 + a2) >> 3);
      out[o + 32] = (short) ((a0 - a1) >> 3);
      out[o + 48] = (short) ((a3 - a2) >> 3);
      o += 64;
    }
  }

  /**
   * Adds the inverse DCT of the 16 coefficients at {@code in[inOffset..)} to the 4x4 pixels at
   * {@code dst[dstOffset]} (row stride {@code stride}), clamping to [0, 255]. An all-zero block
   * leaves the pixels as they are.
   */
  static void inverseDctAdd(short[] in, int inOffset, int[] dst, int dstOffset, int stride) {
    int[] tmp = new int[16];
    for (int i = 0; i < 4; i++) { // vertical pass
      int i0 = in[inOffset + i];
      int i4 = in[inOffset + 4 + i];
      int i8 = in[inOffset + 8 + i];
      int i12 = in[inOffset + 12 + i];
      int a = i0 + i8;
      int b = i0 - i8;
      int c = mul2(i4) - mul1(i12);
      int d = mul1(i4) + mul2(i12);
      tmp[4 * i] = a + d;
      tmp[4 * i + 1] = b + c;
      tmp[4 * i + 2] = b - c;
      tmp[4 * i + 3] = a - d;
    }
    for (int i = 0; i < 4; i++) { // horizontal pass, one output row each
      int dc = tmp[i] + 4;
      int a = dc + tmp[8 + i];
      int b = dc - tmp[8 + i];
      int c = mul2(tmp[4 + i]) - mul1(tmp[12 + i]);
      int d = mul1(tmp[4 + i]) + mul2(tmp[12 + i]);
      int row = dstOffset + i * stride;
      dst[row] = clip8(dst[row] + ((a + d) >> 3));
      dst[row + 1] = clip8(dst[row + 1] + ((b + c) >> 3));
      dst[row + 2] = clip8(dst[row + 2] + ((b - c) >> 3));
      dst[row + 3] = clip8(dst[row + 3] + ((a - d) >> 3));
    }
  }

  static int clip8(int v) {
    return (v & ~0xFF) == 0 ? v : v < 0 ? 0 : 255;
  }
}
