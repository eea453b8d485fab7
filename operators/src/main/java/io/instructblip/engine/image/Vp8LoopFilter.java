package io.instructblip.engine.image;

/**
 * VP8's in-loop deblocking filters (RFC 6386 section 15) as libwebp computes them: the simple
 * filter (luma only) and the normal filter, each across a macroblock's left and top edges and its
 * inner 4x4 edges. Works in place on planes of unsigned bytes.
 */
final class Vp8LoopFilter {
  private Vp8LoopFilter() {}

  /** The filter parameters of one macroblock ({@code limit == 0}: not filtered). */
  record Strength(int limit, int interiorLimit, int hevThreshold, boolean inner) {
    static final Strength NONE = new Strength(0, 0, 0, false);

    Strength withInner(boolean inner) {
      return new Strength(limit, interiorLimit, hevThreshold, inner);
    }
  }

  /**
   * Filters the macroblock whose top-left luma sample is {@code y[yAt]} (and chroma {@code
   * u[uvAt]}, {@code v[uvAt]}); {@code simple} selects the simple filter.
   */
  static void filterMacroblock(
      boolean simple,
      Strength s,
      int mbX,
      int mbY,
      byte[] y,
      int yAt,
      int yStride,
      byte[] u,
      byte[] v,
      int uvAt,
      int uvStride) {
    int limit = s.limit();
    if (limit == 0) {
      return;
    }
    if (simple) {
      if (mbX > 0) {
        simpleEdge(y, yAt, 1, yStride, 16, limit + 4);
      }
      if (s.inner()) {
        for (int k = 1; k <= 3; k++) {
          simpleEdge(y, yAt + 4 * k, 1, yStride, 16, limit);
        }
      }
      if (mbY > 0) {
        simpleEdge(y, yAt, yStride, 1, 16, limit + 4);
      }
      if (s.inner()) {
        for (int k = 1; k <= 3; k++) {
          simpleEdge(y, yAt + 4 * k * yStride, yStride, 1, 16, limit);
        }
      }
      return;
    }
    int il = s.interiorLimit();
    int hev = s.hevThreshold();
    if (mbX > 0) {
      edge(y, yAt, 1, yStride, 16, limit + 4, il, hev, true);
      edge(u, uvAt, 1, uvStride, 8, limit + 4, il, hev, true);
      edge(v, uvAt, 1, uvStride, 8, limit + 4, il, hev, true);
    }
    if (s.inner()) {
      for (int k = 1; k <= 3; k++) {
        edge(y, yAt + 4 * k, 1, yStride, 16, limit, il, hev, false);
      }
      edge(u, uvAt + 4, 1, uvStride, 8, limit, il, hev, false);
      edge(v, uvAt + 4, 1, uvStride, 8, limit, il, hev, false);
    }
    if (mbY > 0) {
      edge(y, yAt, yStride, 1, 16, limit + 4, il, hev, true);
      edge(u, uvAt, uvStride, 1, 8, limit + 4, il, hev, true);
      edge(v, uvAt, uvStride, 1, 8, limit + 4, il, hev, true);
    }
    if (s.inner()) {
      for (int k = 1; k <= 3; k++) {
        edge(y, yAt + 4 * k * yStride, yStride, 1, 16, limit, il, hev, false);
      }
      edge(u, uvAt + 4 * uvStride, uvStride, 1, 8, limit, il, hev, false);
      edge(v, uvAt + 4 * uvStride, uvStride, 1, 8, limit, il, hev, false);
    }
  }

  /**
   * The simple filter along an edge of {@code size} samples: {@code across} steps over the edge
   * (from p0 to q0), {@code along} steps to the next sample of the edge.
   */
  private static void simpleEdge(byte[] p, int at, int across, int along, int size, int thresh) {
    int thresh2 = 2 * thresh + 1;
    for (int n = 0; n < size; n++, at += along) {
      if (needsFilter(p, at, across, thresh2)) {
        filter2(p, at, across);
      }
    }
  }

  /** The normal filter along an edge: macroblock edges modify 3 samples each side, inner 2. */
  private static void edge(
      byte[] p,
      int at,
      int across,
      int along,
      int size,
      int thresh,
      int interior,
      int hevThresh,
      boolean macroblockEdge) {
    int thresh2 = 2 * thresh + 1;
    for (int n = 0; n < size; n++, at += along) {
      if (needsFilter2(p, at, across, thresh2, interior)) {
        if (highEdgeVariance(p, at, across, hevThresh)) {
          filter2(p, at, across);
        } else if (macroblockEdge) {
          filter6(p, at, across);
        } else {
          filter4(p, at, across);
        }
      }
    }
  }

  /** Clamps to [-128, 127] (libwebp's sclip1). */
  private static int sclip1(int v) {
    return v < -128 ? -128 : v > 127 ? 127 : v;
  }

  /** Clamps to [-16, 15] (libwebp's sclip2). */
  private static int sclip2(int v) {
    return v < -16 ? -16 : v > 15 ? 15 : v;
  }

  /** Clamps to [0, 255] (libwebp's clip1). */
  private static int clip1(int v) {
    return v < 0 ? 0 : v > 255 ? 255 : v;
  }

  private static void filter2(byte[] p, int at, int step) {
    int p1 = p[at - 2 * step] & 0xFF;
    int p0 = p[at - step] & 0xFF;
    int q0 = p[at] & 0xFF;
    int q1 = p[at + step] & 0xFF;
    int a = 3 * (q0 - p0) + sclip1(p1 - q1);
    int a1 = sclip2((a + 4) >> 3);
    int a2 = sclip2((a + 3) >> 3);
    p[at - step] = (byte) clip1(p0 + a2);
    p[at] = (byte) clip1(q0 - a1);
  }

  private static void filter4(byte[] p, int at, int step) {
    int p1 = p[at - 2 * step] & 0xFF;
    int p0 = p[at - step] & 0xFF;
    int q0 = p[at] & 0xFF;
    int q1 = p[at + step] & 0xFF;
    int a = 3 * (q0 - p0);
    int a1 = sclip2((a + 4) >> 3);
    int a2 = sclip2((a + 3) >> 3);
    int a3 = (a1 + 1) >> 1;
    p[at - 2 * step] = (byte) clip1(p1 + a3);
    p[at - step] = (byte) clip1(p0 + a2);
    p[at] = (byte) clip1(q0 - a1);
    p[at + step] = (byte) clip1(q1 - a3);
  }

  private static void filter6(byte[] p, int at, int step) {
    int p2 = p[at - 3 * step] & 0xFF;
    int p1 = p[at - 2 * step] & 0xFF;
    int p0 = p[at - step] & 0xFF;
    int q0 = p[at] & 0xFF;
    int q1 = p[at + step] & 0xFF;
    int q2 = p[at + 2 * step] & 0xFF;
    int a = sclip1(3 * (q0 - p0) + sclip1(p1 - q1));
    int a1 = (27 * a + 63) >> 7;
    int a2 = (18 * a + 63) >> 7;
    int a3 = (9 * a + 63) >> 7;
    p[at - 3 * step] = (byte) clip1(p2 + a3);
    p[at - 2 * step] = (byte) clip1(p1 + a2);
    p[at - step] = (byte) clip1(p0 + a1);
    p[at] = (byte) clip1(q0 - a1);
    p[at + step] = (byte) clip1(q1 - a2);
    p[at + 2 * step] = (byte) clip1(q2 - a3);
  }

  private static boolean highEdgeVariance(byte[] p, int at, int step, int thresh) {
    int p1 = p[at - 2 * step] & 0xFF;
    int p0 = p[at - step] & 0xFF;
    int q0 = p[at] & 0xFF;
    int q1 = p[at + step] & 0xFF;
    return Math.abs(p1 - p0) > thresh || Math.abs(q1 - q0) > thresh;
  }

  private static boolean needsFilter(byte[] p, int at, int step, int t) {
    int p1 = p[at - 2 * step] & 0xFF;
    int p0 = p[at - step] & 0xFF;
    int q0 = p[at] & 0xFF;
    int q1 = p[at + step] & 0xFF;
    return 4 * Math.abs(p0 - q0) + Math.abs(p1 - q1) <= t;
  }

  private static boolean needsFilter2(byte[] p, int at, int step, int t, int it) {
    int p3 = p[at - 4 * step] & 0xFF;
    int p2 = p[at - 3 * step] & 0xFF;
    int p1 = p[at - 2 * step] & 0xFF;
    int p0 = p[at - step] & 0xFF;
    int q0 = p[at] & 0xFF;
    int q1 = p[at + step] & 0xFF;
    int q2 = p[at + 2 * step] & 0xFF;
    int q3 = p[at + 3 * step] & 0xFF;
    if (4 * Math.abs(p0 - q0) + Math.abs(p1 - q1) > t) {
      return false;
    }
    return Math.abs(p3 - p2) <= it
        && Math.abs(p2 - p1) <= it
        && Math.abs(p1 - p0) <= it
        && Math.abs(q3 - q2) <= it
        && Math.abs(q2 - q1) <= it
        && Math.abs(q1 - q0) <= it;
  }
}
