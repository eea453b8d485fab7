package io.instructblip.engine.image;

/**
 * The VP8 boolean entropy decoder (RFC 6386 section 7), with libwebp's arithmetic: the range is
 * kept minus one, bytes are shifted in as they are needed, and reading past the end of the
 * partition shifts in one zero byte and sets {@link #eof()} (libwebp then refuses the frame).
 */
final class Vp8BoolDecoder {
  private final byte[] data;
  private final int end;
  private int position;

  /** Undecoded bits; the top byte of the window starts at bit {@link #bits}. */
  private long value;

  /** The current range minus one, in [126, 254] between calls. */
  private int range = 255 - 1;

  /** Number of valid bits below the 8-bit window, negative when a byte must be shifted in. */
  private int bits = -8;

  private boolean eof;

  /** A decoder over {@code data[offset, offset + length)}. */
  Vp8BoolDecoder(byte[] data, int offset, int length) {
    this.data = data;
    this.position = offset;
    this.end = offset + length;
    loadByte();
  }

  /** Whether a read went past the end of the partition. */
  boolean eof() {
    return eof;
  }

  private void loadByte() {
    if (position < end) {
      bits += 8;
      value = (data[position++] & 0xFF) | (value << 8);
    } else if (!eof) {
      value <<= 8;
      bits += 8;
      eof = true;
    } else {
      bits = 0; // as libwebp: keeps the shifts defined; the frame is refused anyway
    }
  }

  /** One bit whose probability of being 0 is {@code probability / 256}. */
  int readBit(int probability) {
    int r = range;
    if (bits < 0) {
      loadByte();
    }
    int pos = bits;
    int split = (r * probability) >>> 8;
    int window = (int) (value >>> pos);
    int bit;
    if (window > split) {
      r -= split;
      value -= (long) (split + 1) << pos;
      bit = 1;
    } else {
      r = split + 1;
      bit = 0;
    }
    int shift = 7 ^ (31 - Integer.numberOfLeadingZeros(r));
    r <<= shift;
    bits -= shift;
    range = r - 1;
    return bit;
  }

  /** {@code v} with a sign read at probability 1/2 ({@code -v} when the bit is 1). */
  int readSigned(int v) {
    if (bits < 0) {
      loadByte();
    }
    int pos = bits;
    int split = range >>> 1;
    int window = (int) (value >>> pos);
    int mask = (split - window) >> 31; // -1 when the bit is 1
    bits -= 1;
    range = (range + mask) | 1;
    value -= (long) ((split + 1) & mask) << pos;
    return (v ^ mask) - mask;
  }

  /** An unsigned {@code count}-bit literal, most significant bit first. */
  int readLiteral(int count) {
    int v = 0;
    while (count-- > 0) {
      v |= readBit(0x80) << count;
    }
    return v;
  }

  /** A {@code count}-bit magnitude followed by its sign bit. */
  int readSignedLiteral(int count) {
    int v = readLiteral(count);
    return readBit(0x80) == 1 ? -v : v;
  }

  /** One flag bit at probability 1/2. */
  boolean readFlag() {
    return readBit(0x80) == 1;
  }
}
