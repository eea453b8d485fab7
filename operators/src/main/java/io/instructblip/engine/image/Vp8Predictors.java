package io.instructblip.engine.image;

import java.util.Arrays;

/**
 * VP8 intra prediction (RFC 6386 section 12) as libwebp computes it, on a work buffer of row stride
 * {@link #BPS} where the row above a block and the column left of it hold its edge samples. Mode
 * numbers are libwebp's: 0 DC, 1 TM, 2 V, 3 H, then the sub-block modes 4 RD, 5 VR, 6 LD, 7 VL, 8
 * HD, 9 HU; for whole blocks 4, 5 and 6 are DC without the top row, without the left column and
 * without both.
 */
final class Vp8Predictors {
  /** Row stride of the work buffer. */
  static final int BPS = 32;

  static final int DC = 0;
  static final int TM = 1;
  static final int V = 2;
  static final int H = 3;
  static final int DC_NO_TOP = 4;
  static final int DC_NO_LEFT = 5;
  static final int DC_NO_TOP_LEFT = 6;

  private Vp8Predictors() {}

  /** The DC variant a whole-block mode needs at the picture's top or left edge. */
  static int atEdge(int mode, int mbX, int mbY) {
    if (mode != DC) {
      return mode;
    }
    if (mbX == 0) {
      return mbY == 0 ? DC_NO_TOP_LEFT : DC_NO_LEFT;
    }
    return mbY == 0 ? DC_NO_TOP : DC;
  }

  /** Predicts a {@code size} x {@code size} block (16 luma, 8 chroma) at {@code at}. */
  static void predictBlock(int[] b, int at, int size, int mode) {
    int log2 = size == 16 ? 4 : 3;
    switch (mode) {
      case DC -> {
        int sum = size;
        for (int j = 0; j < size; j++) {
          sum += b[at - 1 + j * BPS] + b[at + j - BPS];
        }
        fill(b, at, size, sum >> (log2 + 1));
      }
      case DC_NO_TOP -> {
        int sum = size >> 1;
        for (int j = 0; j < size; j++) {
          sum += b[at - 1 + j * BPS];
        }
        fill(b, at, size, sum >> log2);
      }
      case DC_NO_LEFT -> {
        int sum = size >> 1;
        for (int i = 0; i < size; i++) {
          sum += b[at + i - BPS];
        }
        fill(b, at, size, sum >> log2);
      }
      case DC_NO_TOP_LEFT -> fill(b, at, size, 0x80);
      case TM -> trueMotion(b, at, size);
      case V -> {
        for (int j = 0; j < size; j++) {
          System.arraycopy(b, at - BPS, b, at + j * BPS, size);
        }
      }
      case H -> {
        for (int j = 0; j < size; j++) {
          int row = at + j * BPS;
          Arrays.fill(b, row, row + size, b[row - 1]);
        }
      }
      default -> throw new IllegalArgumentException("no whole-block intra mode " + mode);
    }
  }

  private static void fill(int[] b, int at, int size, int value) {
    for (int j = 0; j < size; j++) {
      int row = at + j * BPS;
      Arrays.fill(b, row, row + size, value);
    }
  }

  private static void trueMotion(int[] b, int at, int size) {
    int topLeft = b[at - BPS - 1];
    for (int y = 0; y < size; y++) {
      int row = at + y * BPS;
      int left = b[row - 1] - topLeft;
      for (int x = 0; x < size; x++) {
        b[row + x] = clip(b[at - BPS + x] + left);
      }
    }
  }

  private static int clip(int v) {
    return v < 0 ? 0 : v > 255 ? 255 : v;
  }

  private static int avg3(int a, int b, int c) {
    return (a + 2 * b + c + 2) >> 2;
  }

  private static int avg2(int a, int b) {
    return (a + b + 1) >> 1;
  }

  /** Predicts the 4x4 sub-block at {@code at} with sub-block mode {@code mode} (0..9). */
  static void predictSubBlock(int[] b, int at, int mode) {
    int top = at - BPS;
    int x = b[top - 1]; // above-left
    int a = b[top];
    int bb = b[top + 1];
    int c = b[top + 2];
    int d = b[top + 3];
    int e = b[top + 4];
    int f = b[top + 5];
    int g = b[top + 6];
    int h = b[top + 7];
    int i = b[at - 1];
    int j = b[at - 1 + BPS];
    int k = b[at - 1 + 2 * BPS];
    int l = b[at - 1 + 3 * BPS];
    switch (mode) {
      case 0 -> { // DC
        int sum = 4 + a + bb + c + d + i + j + k + l;
        fill4(b, at, sum >> 3);
      }
      case 1 -> trueMotion(b, at, 4);
      case 2 -> { // vertical, smoothed
        int[] row = {avg3(x, a, bb), avg3(a, bb, c), avg3(bb, c, d), avg3(c, d, e)};
        for (int r = 0; r < 4; r++) {
          System.arraycopy(row, 0, b, at + r * BPS, 4);
        }
      }
      case 3 -> { // horizontal, smoothed
        rowFill(b, at, avg3(x, i, j));
        rowFill(b, at + BPS, avg3(i, j, k));
        rowFill(b, at + 2 * BPS, avg3(j, k, l));
        rowFill(b, at + 3 * BPS, avg3(k, l, l));
      }
      case 4 -> { // down-right
        put(b, at, 0, 3, avg3(j, k, l));
        int ijk = avg3(i, j, k);
        put(b, at, 1, 3, ijk);
        put(b, at, 0, 2, ijk);
        int xij = avg3(x, i, j);
        put(b, at, 2, 3, xij);
        put(b, at, 1, 2, xij);
        put(b, at, 0, 1, xij);
        int axi = avg3(a, x, i);
        put(b, at, 3, 3, axi);
        put(b, at, 2, 2, axi);
        put(b, at, 1, 1, axi);
        put(b, at, 0, 0, axi);
        int bax = avg3(bb, a, x);
        put(b, at, 3, 2, bax);
        put(b, at, 2, 1, bax);
        put(b, at, 1, 0, bax);
        int cba = avg3(c, bb, a);
        put(b, at, 3, 1, cba);
        put(b, at, 2, 0, cba);
        put(b, at, 3, 0, avg3(d, c, bb));
      }
      case 5 -> { // vertical-right
        int xa = avg2(x, a);
        put(b, at, 0, 0, xa);
        put(b, at, 1, 2, xa);
        int ab = avg2(a, bb);
        put(b, at, 1, 0, ab);
        put(b, at, 2, 2, ab);
        int bc = avg2(bb, c);
        put(b, at, 2, 0, bc);
        put(b, at, 3, 2, bc);
        put(b, at, 3, 0, avg2(c, d));
        put(b, at, 0, 3, avg3(k, j, i));
        put(b, at, 0, 2, avg3(j, i, x));
        int ixa = avg3(i, x, a);
        put(b, at, 0, 1, ixa);
        put(b, at, 1, 3, ixa);
        int xab = avg3(x, a, bb);
        put(b, at, 1, 1, xab);
        put(b, at, 2, 3, xab);
        int abc = avg3(a, bb, c);
        put(b, at, 2, 1, abc);
        put(b, at, 3, 3, abc);
        put(b, at, 3, 1, avg3(bb, c, d));
      }
      case 6 -> { // down-left
        put(b, at, 0, 0, avg3(a, bb, c));
        int bcd = avg3(bb, c, d);
        put(b, at, 1, 0, bcd);
        put(b, at, 0, 1, bcd);
        int cde = avg3(c, d, e);
        put(b, at, 2, 0, cde);
        put(b, at, 1, 1, cde);
        put(b, at, 0, 2, cde);
        int def = avg3(d, e, f);
        put(b, at, 3, 0, def);
        put(b, at, 2, 1, def);
        put(b, at, 1, 2, def);
        put(b, at, 0, 3, def);
        int efg = avg3(e, f, g);
        put(b, at, 3, 1, efg);
        put(b, at, 2, 2, efg);
        put(b, at, 1, 3, efg);
        int fgh = avg3(f, g, h);
        put(b, at, 3, 2, fgh);
        put(b, at, 2, 3, fgh);
        put(b, at, 3, 3, avg3(g, h, h));
      }
      case 7 -> { // vertical-left
        put(b, at, 0, 0, avg2(a, bb));
        int bc = avg2(bb, c);
        put(b, at, 1, 0, bc);
        put(b, at, 0, 2, bc);
        int cd = avg2(c, d);
        put(b, at, 2, 0, cd);
        put(b, at, 1, 2, cd);
        int de = avg2(d, e);
        put(b, at, 3, 0, de);
        put(b, at, 2, 2, de);
        put(b, at, 0, 1, avg3(a, bb, c));
        int bcd = avg3(bb, c, d);
        put(b, at, 1, 1, bcd);
        put(b, at, 0, 3, bcd);
        int cde = avg3(c, d, e);
        put(b, at, 2, 1, cde);
        put(b, at, 1, 3, cde);
        int def = avg3(d, e, f);
        put(b, at, 3, 1, def);
        put(b, at, 2, 3, def);
        put(b, at, 3, 2, avg3(e, f, g));
        put(b, at, 3, 3, avg3(f, g, h));
      }
      case 8 -> { // horizontal-down
        int ix = avg2(i, x);
        put(b, at, 0, 0, ix);
        put(b, at, 2, 1, ix);
        int ji = avg2(j, i);
        put(b, at, 0, 1, ji);
        put(b, at, 2, 2, ji);
        int kj = avg2(k, j);
        put(b, at, 0, 2, kj);
        put(b, at, 2, 3, kj);
        put(b, at, 0, 3, avg2(l, k));
        put(b, at, 3, 0, avg3(a, bb, c));
        put(b, at, 2, 0, avg3(x, a, bb));
        int ixa = avg3(i, x, a);
        put(b, at, 1, 0, ixa);
        put(b, at, 3, 1, ixa);
        int jix = avg3(j, i, x);
        put(b, at, 1, 1, jix);
        put(b, at, 3, 2, jix);
        int kji = avg3(k, j, i);
        put(b, at, 1, 2, kji);
        put(b, at, 3, 3, kji);
        put(b, at, 1, 3, avg3(l, k, j));
      }
      case 9 -> { // horizontal-up
        put(b, at, 0, 0, avg2(i, j));
        int jk = avg2(j, k);
        put(b, at, 2, 0, jk);
        put(b, at, 0, 1, jk);
        int kl = avg2(k, l);
        put(b, at, 2, 1, kl);
        put(b, at, 0, 2, kl);
        put(b, at, 1, 0, avg3(i, j, k));
        int jkl = avg3(j, k, l);
        put(b, at, 3, 0, jkl);
        put(b, at, 1, 1, jkl);
        int kll = avg3(k, l, l);
        put(b, at, 3, 1, kll);
        put(b, at, 1, 2, kll);
        put(b, at, 3, 2, l);
        put(b, at, 2, 2, l);
        put(b, at, 0, 3, l);
        put(b, at, 1, 3, l);
        put(b, at, 2, 3, l);
        put(b, at, 3, 3, l);
      }
      default -> throw new IllegalArgumentException("no sub-block intra mode " + mode);
    }
  }

  private static void put(int[] b, int at, int col, int row, int value) {
    b[at + col + row * BPS] = value;
  }

  private static void rowFill(int[] b, int row, int value) {
    Arrays.fill(b, row, row + 4, value);
  }

  private static void fill4(int[] b, int at, int value) {
    for (int r = 0; r < 4; r++) {
      rowFill(b, at + r * BPS, value);
    }
  }
}
