package io.instructblip.engine.image;

import static io.instructblip.engine.image.Vp8Predictors.BPS;

import java.io.IOException;
import java.util.Arrays;

/**
 * Decodes a VP8 key frame (the data of a WebP {@code VP8 } chunk) into its Y, U and V planes,
 * bit-exactly as libwebp's decoder does (RFC 6386 with libwebp's integer arithmetic): frame header,
 * intra modes, DCT tokens, dequantisation, inverse transforms, intra prediction and the loop
 * filter.
 */
final class Vp8Decoder {
  /** Offsets into the work buffer: luma block, then U and V side by side below it. */
  private static final int Y_OFF = BPS + 8;

  private static final int U_OFF = Y_OFF + BPS * 16 + BPS;
  private static final int V_OFF = U_OFF + 16;
  private static final int WORK_SIZE = BPS * 17 + BPS * 9;

  private final byte[] data;
  private final int offset;
  private final int length;

  private int width;
  private int height;
  private int mbW;
  private int mbH;

  // Segment header.
  private boolean useSegment;
  private boolean updateMap;
  private boolean absoluteDelta = true;
  private final int[] segmentQuantizer = new int[4];
  private final int[] segmentFilterLevel = new int[4];
  private final int[] segmentProbabilities = {255, 255, 255};

  // Filter header.
  private boolean simpleFilter;
  private int filterLevel;
  private int sharpness;
  private boolean useLfDelta;
  private final int[] refLfDelta = new int[4];
  private final int[] modeLfDelta = new int[4];

  /** 0 none, 1 simple, 2 normal. */
  private int filterType;

  private Vp8BoolDecoder header;
  private Vp8BoolDecoder[] partitions;

  /** Dequantisation factors per segment: y1 dc/ac, y2 dc/ac, uv dc/ac. */
  private final int[][] quant = new int[4][6];

  private final int[] tokenProbabilities = new int[4 * 8 * 3 * 11];
  private boolean useSkipProbability;
  private int skipProbability;

  /** Filter parameters per segment and per (i16, i4x4). */
  private final Vp8LoopFilter.Strength[][] strengths = new Vp8LoopFilter.Strength[4][2];

  Vp8Decoder(byte[] data, int offset, int length) {
    this.data = data;
    this.offset = offset;
    this.length = length;
  }

  /**
   * The decoded planes, whole macroblocks wide and high: the picture is their top-left {@code
   * width} x {@code height} luma and {@code ceil(width / 2)} x {@code ceil(height / 2)} chroma
   * samples.
   */
  record Planes(int width, int height, byte[] y, int yStride, byte[] u, byte[] v, int uvStride) {}

  /** Width and height from the frame header, checked as libwebp checks them. */
  static int[] size(byte[] data, int offset, int length) throws IOException {
    if (length < 10) {
      throw new IOException("the VP8 chunk has " + length + " bytes, too few for a frame header");
    }
    int bits =
        (data[offset] & 0xFF) | (data[offset + 1] & 0xFF) << 8 | (data[offset + 2] & 0xFF) << 16;
    if ((bits & 1) != 0) {
      throw new IOException("the VP8 frame is not a key frame");
    }
    if (((bits >> 1) & 7) > 3) {
      throw new IOException("the VP8 frame has an unknown profile " + ((bits >> 1) & 7));
    }
    if (((bits >> 4) & 1) == 0) {
      throw new IOException("the VP8 frame is not displayable");
    }
    if ((bits >>> 5) >= length) {
      throw new IOException("the VP8 first partition is longer than the chunk");
    }
    if ((data[offset + 3] & 0xFF) != 0x9d
        || (data[offset + 4] & 0xFF) != 0x01
        || (data[offset + 5] & 0xFF) != 0x2a) {
      throw new IOException("the VP8 frame has a bad start code");
    }
    int w = ((data[offset + 7] & 0xFF) << 8 | (data[offset + 6] & 0xFF)) & 0x3FFF;
    int h = ((data[offset + 9] & 0xFF) << 8 | (data[offset + 8] & 0xFF)) & 0x3FFF;
    if (w == 0 || h == 0) {
      throw new IOException("the VP8 frame header gives an empty size " + w + "x" + h);
    }
    return new int[] {w, h};
  }

  /**
   * Decodes the frame.
   *
   * @throws IOException when the data is corrupt or truncated (where libwebp refuses it)
   */
  Planes decode() throws IOException {
    parseHeaders();
    return decodeFrame();
  }

  private void parseHeaders() throws IOException {
    int[] wh = size(data, offset, length);
    width = wh[0];
    height = wh[1];
    mbW = (width + 15) >> 4;
    mbH = (height + 15) >> 4;
    int bits =
        (data[offset] & 0xFF) | (data[offset + 1] & 0xFF) << 8 | (data[offset + 2] & 0xFF) << 16;
    int partitionLength = bits >>> 5;
    int at = offset + 10;
    int left = length - 10;
    if (partitionLength > left) {
      throw new IOException("the VP8 first partition is longer than the chunk");
    }
    header = new Vp8BoolDecoder(data, at, partitionLength);
    at += partitionLength;
    left -= partitionLength;
    Vp8BoolDecoder br = header;
    br.readFlag(); // colour space
    br.readFlag(); // clamping type
    parseSegmentHeader(br);
    parseFilterHeader(br);
    parsePartitions(br, at, left);
    parseQuantizers(br);
    br.readFlag(); // refresh entropy probabilities: irrelevant for a single frame
    parseTokenProbabilities(br);
    if (br.eof()) {
      throw new IOException("the VP8 frame header is truncated");
    }
  }

  private void parseSegmentHeader(Vp8BoolDecoder br) throws IOException {
    useSegment = br.readFlag();
    if (useSegment) {
      updateMap = br.readFlag();
      if (br.readFlag()) { // update segment feature data
        absoluteDelta = br.readFlag();
        for (int s = 0; s < 4; s++) {
          segmentQuantizer[s] = br.readFlag() ? br.readSignedLiteral(7) : 0;
        }
        for (int s = 0; s < 4; s++) {
          segmentFilterLevel[s] = br.readFlag() ? br.readSignedLiteral(6) : 0;
        }
      }
      if (updateMap) {
        for (int s = 0; s < 3; s++) {
          segmentProbabilities[s] = br.readFlag() ? br.readLiteral(8) : 255;
        }
      }
    } else {
      updateMap = false;
    }
    if (br.eof()) {
      throw new IOException("cannot parse the VP8 segment header");
    }
  }

  private void parseFilterHeader(Vp8BoolDecoder br) throws IOException {
    simpleFilter = br.readFlag();
    filterLevel = br.readLiteral(6);
    sharpness = br.readLiteral(3);
    useLfDelta = br.readFlag();
    if (useLfDelta && br.readFlag()) {
      for (int i = 0; i < 4; i++) {
        if (br.readFlag()) {
          refLfDelta[i] = br.readSignedLiteral(6);
        }
      }
      for (int i = 0; i < 4; i++) {
        if (br.readFlag()) {
          modeLfDelta[i] = br.readSignedLiteral(6);
        }
      }
    }
    filterType = filterLevel == 0 ? 0 : simpleFilter ? 1 : 2;
    if (br.eof()) {
      throw new IOException("cannot parse the VP8 filter header");
    }
  }

  private void parsePartitions(Vp8BoolDecoder br, int at, int size) throws IOException {
    int count = 1 << br.readLiteral(2);
    int last = count - 1;
    if (size < 3 * last) {
      throw new IOException("cannot parse the VP8 partitions (truncated sizes)");
    }
    partitions = new Vp8BoolDecoder[count];
    int sizes = at;
    int start = at + 3 * last;
    int left = size - 3 * last;
    for (int p = 0; p < last; p++) {
      int s = (data[sizes] & 0xFF) | (data[sizes + 1] & 0xFF) << 8 | (data[sizes + 2] & 0xFF) << 16;
      if (s > left) {
        s = left;
      }
      partitions[p] = new Vp8BoolDecoder(data, start, s);
      start += s;
      left -= s;
      sizes += 3;
    }
    partitions[last] = new Vp8BoolDecoder(data, start, left);
    if (left <= 0) {
      throw new IOException("cannot parse the VP8 partitions (no data for the last one)");
    }
  }

  private void parseQuantizers(Vp8BoolDecoder br) {
    int base = br.readLiteral(7);
    int y1Dc = br.readFlag() ? br.readSignedLiteral(4) : 0;
    int y2Dc = br.readFlag() ? br.readSignedLiteral(4) : 0;
    int y2Ac = br.readFlag() ? br.readSignedLiteral(4) : 0;
    int uvDc = br.readFlag() ? br.readSignedLiteral(4) : 0;
    int uvAc = br.readFlag() ? br.readSignedLiteral(4) : 0;
    for (int s = 0; s < 4; s++) {
      int q;
      if (useSegment) {
        q = segmentQuantizer[s] + (absoluteDelta ? 0 : base);
      } else if (s > 0) {
        quant[s] = quant[0];
        continue;
      } else {
        q = base;
      }
      int[] m = quant[s];
      m[0] = Vp8Tables.DC_STEPS[clip(q + y1Dc, 127)];
      m[1] = Vp8Tables.AC_STEPS[clip(q, 127)];
      m[2] = Vp8Tables.DC_STEPS[clip(q + y2Dc, 127)] * 2;
      // x * 155 / 100, as libwebp computes it
      m[3] = Math.max(8, (Vp8Tables.AC_STEPS[clip(q + y2Ac, 127)] * 101581) >> 16);
      m[4] = Vp8Tables.DC_STEPS[clip(q + uvDc, 117)];
      m[5] = Vp8Tables.AC_STEPS[clip(q + uvAc, 127)];
    }
  }

  private static int clip(int v, int max) {
    return v < 0 ? 0 : v > max ? max : v;
  }

  private void parseTokenProbabilities(Vp8BoolDecoder br) {
    for (int i = 0; i < tokenProbabilities.length; i++) {
      tokenProbabilities[i] =
          br.readBit(Vp8Tables.TOKEN_UPDATE_PROBABILITIES[i]) == 1
              ? br.readLiteral(8)
              : Vp8Tables.DEFAULT_TOKEN_PROBABILITIES[i];
    }
    useSkipProbability = br.readFlag();
    if (useSkipProbability) {
      skipProbability = br.readLiteral(8);
    }
  }

  private void computeFilterStrengths() {
    for (int s = 0; s < 4; s++) {
      int base = filterLevel;
      if (useSegment) {
        base = segmentFilterLevel[s] + (absoluteDelta ? 0 : filterLevel);
      }
      for (int i4x4 = 0; i4x4 <= 1; i4x4++) {
        int level = base;
        if (useLfDelta) {
          level += refLfDelta[0];
          if (i4x4 == 1) {
            level += modeLfDelta[0];
          }
        }
        level = clip(level, 63);
        if (level > 0) {
          int interior = level;
          if (sharpness > 0) {
            interior >>= sharpness > 4 ? 2 : 1;
            if (interior > 9 - sharpness) {
              interior = 9 - sharpness;
            }
          }
          if (interior < 1) {
            interior = 1;
          }
          int hev = level >= 40 ? 2 : level >= 15 ? 1 : 0;
          strengths[s][i4x4] =
              new Vp8LoopFilter.Strength(2 * level + interior, interior, hev, i4x4 == 1);
        } else {
          strengths[s][i4x4] = Vp8LoopFilter.Strength.NONE;
        }
      }
    }
  }

  /** Per-macroblock state of the row being decoded. */
  private static final class Macroblock {
    int segment;
    boolean skip;
    boolean i4x4;
    final int[] modes = new int[16];
    int uvMode;
    final short[] coeffs = new short[384];

    /** Per 4x4 luma block (raster order), then 4 U and 4 V: 0 none, else transform needed. */
    final int[] codes = new int[24];

    Vp8LoopFilter.Strength strength;
  }

  private Planes decodeFrame() throws IOException {
    computeFilterStrengths();
    int yStride = mbW * 16;
    int uvStride = mbW * 8;
    byte[] yPlane = new byte[yStride * mbH * 16];
    byte[] uPlane = new byte[uvStride * mbH * 8];
    byte[] vPlane = new byte[uvStride * mbH * 8];
    int[] intraTop = new int[4 * mbW];
    int[] intraLeft = new int[4];
    // Non-zero contexts: per column above (4 Y, 2 U, 2 V, 1 Y2) and for the macroblock on the left.
    boolean[][] nzTop = new boolean[mbW][9];
    boolean[] nzLeft = new boolean[9];
    int[] topY = new int[yStride];
    int[] topU = new int[uvStride];
    int[] topV = new int[uvStride];
    int[] work = new int[WORK_SIZE];
    Macroblock[] row = new Macroblock[mbW];
    for (int x = 0; x < mbW; x++) {
      row[x] = new Macroblock();
    }
    for (int mbY = 0; mbY < mbH; mbY++) {
      Vp8BoolDecoder tokens = partitions[mbY & (partitions.length - 1)];
      for (int mbX = 0; mbX < mbW; mbX++) {
        parseModes(row[mbX], intraTop, 4 * mbX, intraLeft);
      }
      if (header.eof()) {
        throw new IOException("premature end of the VP8 first partition");
      }
      Arrays.fill(intraLeft, Vp8Predictors.DC);
      Arrays.fill(nzLeft, false);
      for (int mbX = 0; mbX < mbW; mbX++) {
        Macroblock mb = row[mbX];
        boolean skip = useSkipProbability && mb.skip;
        if (!skip) {
          skip = parseResiduals(mb, tokens, nzTop[mbX], nzLeft);
        } else {
          Arrays.fill(mb.coeffs, (short) 0);
          Arrays.fill(mb.codes, 0);
          for (int i = 0; i < 8; i++) {
            nzTop[mbX][i] = false;
            nzLeft[i] = false;
          }
          if (!mb.i4x4) {
            nzTop[mbX][8] = false;
            nzLeft[8] = false;
          }
        }
        if (filterType > 0) {
          Vp8LoopFilter.Strength s = strengths[mb.segment][mb.i4x4 ? 1 : 0];
          mb.strength = s.inner() || skip ? s : s.withInner(true);
        }
        if (tokens.eof()) {
          throw new IOException("premature end of the VP8 data");
        }
      }
      reconstructRow(mbY, row, work, topY, topU, topV, yPlane, uPlane, vPlane);
      if (filterType > 0) {
        for (int mbX = 0; mbX < mbW; mbX++) {
          Vp8LoopFilter.filterMacroblock(
              filterType == 1,
              row[mbX].strength,
              mbX,
              mbY,
              yPlane,
              mbY * 16 * yStride + mbX * 16,
              yStride,
              uPlane,
              vPlane,
              mbY * 8 * uvStride + mbX * 8,
              uvStride);
        }
      }
    }
    return new Planes(width, height, yPlane, yStride, uPlane, vPlane, uvStride);
  }

  private void parseModes(Macroblock mb, int[] top, int topAt, int[] left) {
    Vp8BoolDecoder br = header;
    if (updateMap) {
      mb.segment =
          br.readBit(segmentProbabilities[0]) == 0
              ? br.readBit(segmentProbabilities[1])
              : br.readBit(segmentProbabilities[2]) + 2;
    } else {
      mb.segment = 0;
    }
    if (useSkipProbability) {
      mb.skip = br.readBit(skipProbability) == 1;
    }
    mb.i4x4 = br.readBit(145) == 0;
    if (!mb.i4x4) {
      int mode =
          br.readBit(156) == 1
              ? (br.readBit(128) == 1 ? Vp8Predictors.TM : Vp8Predictors.H)
              : (br.readBit(163) == 1 ? Vp8Predictors.V : Vp8Predictors.DC);
      mb.modes[0] = mode;
      Arrays.fill(top, topAt, topAt + 4, mode);
      Arrays.fill(left, mode);
    } else {
      for (int y = 0; y < 4; y++) {
        int mode = left[y];
        for (int x = 0; x < 4; x++) {
          int p = (top[topAt + x] * 10 + mode) * 9;
          mode = readSubBlockMode(br, p);
          top[topAt + x] = mode;
          mb.modes[y * 4 + x] = mode;
        }
        left[y] = mode;
      }
    }
    mb.uvMode =
        br.readBit(142) == 0
            ? Vp8Predictors.DC
            : br.readBit(114) == 0
                ? Vp8Predictors.V
                : br.readBit(183) == 1 ? Vp8Predictors.TM : Vp8Predictors.H;
  }

  /** The sub-block mode tree of RFC 6386 section 11.2, probabilities at {@code p}. */
  private static int readSubBlockMode(Vp8BoolDecoder br, int p) {
    int[] prob = Vp8Tables.SUB_BLOCK_MODE_PROBABILITIES;
    if (br.readBit(prob[p]) == 0) {
      return 0; // DC
    }
    if (br.readBit(prob[p + 1]) == 0) {
      return 1; // TM
    }
    if (br.readBit(prob[p + 2]) == 0) {
      return 2; // VE
    }
    if (br.readBit(prob[p + 3]) == 0) {
      if (br.readBit(prob[p + 4]) == 0) {
        return 3; // HE
      }
      return br.readBit(prob[p + 5]) == 0 ? 4 : 5; // RD, VR
    }
    if (br.readBit(prob[p + 6]) == 0) {
      return 6; // LD
    }
    if (br.readBit(prob[p + 7]) == 0) {
      return 7; // VL
    }
    return br.readBit(prob[p + 8]) == 0 ? 8 : 9; // HD, HU
  }

  /**
   * Reads the macroblock's coefficients, updating the non-zero contexts (indices 0-3 luma columns
   * or rows, 4-5 U, 6-7 V, 8 the Y2 block). Answers whether every block is empty.
   */
  private boolean parseResiduals(Macroblock mb, Vp8BoolDecoder br, boolean[] top, boolean[] left) {
    short[] c = mb.coeffs;
    Arrays.fill(c, (short) 0);
    int[] q = quant[mb.segment];
    int first;
    int acType;
    if (!mb.i4x4) {
      short[] dc = new short[16];
      int ctx = (top[8] ? 1 : 0) + (left[8] ? 1 : 0);
      int nz = readCoefficients(br, 1, ctx, q[2], q[3], 0, dc, 0);
      top[8] = left[8] = nz > 0;
      if (nz > 1) {
        Vp8InverseTransforms.inverseWht(dc, c, 0);
      } else {
        short dc0 = (short) ((dc[0] + 3) >> 3);
        for (int i = 0; i < 256; i += 16) {
          c[i] = dc0;
        }
      }
      first = 1;
      acType = 0;
    } else {
      first = 0;
      acType = 3;
    }
    boolean any = false;
    for (int y = 0; y < 4; y++) {
      for (int x = 0; x < 4; x++) {
        int n = y * 4 + x;
        int ctx = (left[y] ? 1 : 0) + (top[x] ? 1 : 0);
        int nz = readCoefficients(br, acType, ctx, q[0], q[1], first, c, n * 16);
        boolean flag = nz > first;
        left[y] = flag;
        top[x] = flag;
        mb.codes[n] = code(nz, c[n * 16]);
        any |= mb.codes[n] != 0;
      }
    }
    for (int plane = 0; plane < 2; plane++) {
      int ctxAt = 4 + 2 * plane;
      for (int y = 0; y < 2; y++) {
        for (int x = 0; x < 2; x++) {
          int n = 16 + plane * 4 + y * 2 + x;
          int ctx = (left[ctxAt + y] ? 1 : 0) + (top[ctxAt + x] ? 1 : 0);
          int nz = readCoefficients(br, 2, ctx, q[4], q[5], 0, c, n * 16);
          boolean flag = nz > 0;
          left[ctxAt + y] = flag;
          top[ctxAt + x] = flag;
          mb.codes[n] = code(nz, c[n * 16]);
          any |= mb.codes[n] != 0;
        }
      }
    }
    return !any;
  }

  /** libwebp's per-block code: 3 full, 2 first three coefficients, 1 DC only, 0 nothing. */
  private static int code(int nz, short dc) {
    return nz > 3 ? 3 : nz > 1 ? 2 : dc != 0 ? 1 : 0;
  }

  /**
   * Reads one block's tokens from position {@code n} (RFC 6386 section 13), writing dequantised
   * coefficients in raster order at {@code out[at..)}. Answers the position after the last token
   * that was not an end of block (libwebp's "last non-zero plus one").
   */
  private int readCoefficients(
      Vp8BoolDecoder br, int type, int ctx, int dcStep, int acStep, int n, short[] out, int at) {
    int[] prob = tokenProbabilities;
    int p = Vp8Tables.tokenIndex(type, Vp8Tables.BANDS[n], ctx);
    for (; n < 16; n++) {
      if (br.readBit(prob[p]) == 0) {
        return n; // end of block
      }
      while (br.readBit(prob[p + 1]) == 0) { // a zero
        n++;
        p = Vp8Tables.tokenIndex(type, Vp8Tables.BANDS[n], 0);
        if (n == 16) {
          return 16;
        }
      }
      int v;
      int next = Vp8Tables.BANDS[n + 1];
      if (br.readBit(prob[p + 2]) == 0) {
        v = 1;
        p = Vp8Tables.tokenIndex(type, next, 1);
      } else {
        v = readLargeValue(br, prob, p);
        p = Vp8Tables.tokenIndex(type, next, 2);
      }
      out[at + Vp8Tables.ZIGZAG[n]] = (short) (br.readSigned(v) * (n > 0 ? acStep : dcStep));
    }
    return 16;
  }

  /** A token magnitude of 2 or more (RFC 6386 section 13.2). */
  private static int readLargeValue(Vp8BoolDecoder br, int[] prob, int p) {
    if (br.readBit(prob[p + 3]) == 0) {
      if (br.readBit(prob[p + 4]) == 0) {
        return 2;
      }
      return 3 + br.readBit(prob[p + 5]);
    }
    if (br.readBit(prob[p + 6]) == 0) {
      if (br.readBit(prob[p + 7]) == 0) {
        return 5 + br.readBit(159);
      }
      int v = 7 + 2 * br.readBit(165);
      return v + br.readBit(145);
    }
    int bit1 = br.readBit(prob[p + 8]);
    int bit0 = br.readBit(prob[p + 9 + bit1]);
    int category = 2 * bit1 + bit0;
    int v = 0;
    for (int extra : Vp8Tables.CATEGORY_PROBABILITIES[category]) {
      v += v + br.readBit(extra);
    }
    return v + 3 + (8 << category);
  }

  private void reconstructRow(
      int mbY,
      Macroblock[] row,
      int[] b,
      int[] topY,
      int[] topU,
      int[] topV,
      byte[] yPlane,
      byte[] uPlane,
      byte[] vPlane) {
    for (int j = 0; j < 16; j++) {
      b[Y_OFF + j * BPS - 1] = 129;
    }
    for (int j = 0; j < 8; j++) {
      b[U_OFF + j * BPS - 1] = 129;
      b[V_OFF + j * BPS - 1] = 129;
    }
    if (mbY > 0) {
      b[Y_OFF - 1 - BPS] = 129;
      b[U_OFF - 1 - BPS] = 129;
      b[V_OFF - 1 - BPS] = 129;
    } else {
      Arrays.fill(b, Y_OFF - BPS - 1, Y_OFF - BPS - 1 + 21, 127);
      Arrays.fill(b, U_OFF - BPS - 1, U_OFF - BPS - 1 + 9, 127);
      Arrays.fill(b, V_OFF - BPS - 1, V_OFF - BPS - 1 + 9, 127);
    }
    int yStride = mbW * 16;
    int uvStride = mbW * 8;
    for (int mbX = 0; mbX < mbW; mbX++) {
      Macroblock mb = row[mbX];
      if (mbX > 0) { // the right columns of the previous macroblock become the left edge
        for (int j = -1; j < 16; j++) {
          System.arraycopy(b, Y_OFF + j * BPS + 12, b, Y_OFF + j * BPS - 4, 4);
        }
        for (int j = -1; j < 8; j++) {
          System.arraycopy(b, U_OFF + j * BPS + 4, b, U_OFF + j * BPS - 4, 4);
          System.arraycopy(b, V_OFF + j * BPS + 4, b, V_OFF + j * BPS - 4, 4);
        }
      }
      if (mbY > 0) {
        System.arraycopy(topY, mbX * 16, b, Y_OFF - BPS, 16);
        System.arraycopy(topU, mbX * 8, b, U_OFF - BPS, 8);
        System.arraycopy(topV, mbX * 8, b, V_OFF - BPS, 8);
      }
      short[] c = mb.coeffs;
      if (mb.i4x4) {
        int topRight = Y_OFF - BPS + 16;
        if (mbY > 0) {
          if (mbX >= mbW - 1) {
            Arrays.fill(b, topRight, topRight + 4, topY[mbX * 16 + 15]);
          } else {
            System.arraycopy(topY, (mbX + 1) * 16, b, topRight, 4);
          }
        }
        // The right column's lower sub-blocks see the same top-right samples.
        for (int k = 1; k <= 3; k++) {
          System.arraycopy(b, topRight, b, topRight + 4 * k * BPS, 4);
        }
        for (int n = 0; n < 16; n++) {
          int dst = Y_OFF + (n & 3) * 4 + (n >> 2) * 4 * BPS;
          Vp8Predictors.predictSubBlock(b, dst, mb.modes[n]);
          addResidual(mb, n, c, b, dst);
        }
      } else {
        Vp8Predictors.predictBlock(b, Y_OFF, 16, Vp8Predictors.atEdge(mb.modes[0], mbX, mbY));
        for (int n = 0; n < 16; n++) {
          addResidual(mb, n, c, b, Y_OFF + (n & 3) * 4 + (n >> 2) * 4 * BPS);
        }
      }
      int uvMode = Vp8Predictors.atEdge(mb.uvMode, mbX, mbY);
      Vp8Predictors.predictBlock(b, U_OFF, 8, uvMode);
      Vp8Predictors.predictBlock(b, V_OFF, 8, uvMode);
      for (int n = 0; n < 4; n++) {
        int blockAt = (n & 1) * 4 + (n >> 1) * 4 * BPS;
        addResidual(mb, 16 + n, c, b, U_OFF + blockAt);
        addResidual(mb, 20 + n, c, b, V_OFF + blockAt);
      }
      if (mbY < mbH - 1) {
        System.arraycopy(b, Y_OFF + 15 * BPS, topY, mbX * 16, 16);
        System.arraycopy(b, U_OFF + 7 * BPS, topU, mbX * 8, 8);
        System.arraycopy(b, V_OFF + 7 * BPS, topV, mbX * 8, 8);
      }
      copyOut(b, Y_OFF, 16, yPlane, (mbY * 16) * yStride + mbX * 16, yStride);
      copyOut(b, U_OFF, 8, uPlane, (mbY * 8) * uvStride + mbX * 8, uvStride);
      copyOut(b, V_OFF, 8, vPlane, (mbY * 8) * uvStride + mbX * 8, uvStride);
    }
  }

  /** Copies a {@code size} x {@code size} block from the work buffer into a plane. */
  private static void copyOut(int[] b, int from, int size, byte[] plane, int to, int stride) {
    for (int j = 0; j < size; j++) {
      for (int i = 0; i < size; i++) {
        plane[to + j * stride + i] = (byte) b[from + j * BPS + i];
      }
    }
  }

  /**
   * Adds block {@code n}'s residual. libwebp picks a shortcut transform by the block's code (DC
   * only, three coefficients, or none); each gives the same pixels as the full inverse DCT of the
   * coefficients it has, so the full one is used whenever the block has any.
   */
  private static void addResidual(Macroblock mb, int n, short[] c, int[] b, int dst) {
    if (mb.codes[n] != 0) {
      Vp8InverseTransforms.inverseDctAdd(c, n * 16, b, dst, BPS);
    }
  }
}
