package io.instructblip.engine.image;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.junit.jupiter.api.Test;

/**
 * The boolean decoder against bytes made by an independent encoder (RFC 6386 section 7.3's
 * arithmetic, written in Python), each bit at its own probability.
 */
class Vp8BoolDecoderTest {

  @Test
  void decodesBitsAtTheirProbabilities() {
    byte[] data = {(byte) 178, (byte) 135, 96, 0};
    int[] bits = {1, 0, 1, 0, 1, 1, 0, 0, 1, 0};
    int[] probabilities = {128, 128, 1, 255, 200, 17, 3, 128, 250, 100};
    Vp8BoolDecoder decoder = new Vp8BoolDecoder(data, 0, data.length);
    for (int i = 0; i < bits.length; i++) {
      assertEquals(bits[i], decoder.readBit(probabilities[i]), "bit " + i);
    }
    assertFalse(decoder.eof());
  }

  @Test
  void decodesLiteralsAndSignedValues() {
    // 0x5A as 8 bits, then 13 as 4 bits with a set sign bit; all at probability 1/2.
    byte[] data = {90, (byte) 216, 0};
    Vp8BoolDecoder decoder = new Vp8BoolDecoder(data, 0, data.length);
    assertEquals(0x5A, decoder.readLiteral(8));
    assertEquals(-13, decoder.readSignedLiteral(4));

    Vp8BoolDecoder again = new Vp8BoolDecoder(data, 0, data.length);
    again.readLiteral(8);
    assertEquals(13, again.readLiteral(4));
    assertEquals(-7, again.readSigned(7), "a sign bit of 1 read the fast way");
  }

  @Test
  void readingPastTheEndSetsEof() {
    // As libwebp: the window holds a byte beyond the bit being read, so 2 bytes give 9 bits at
    // probability 1/2 (one shift each) before a read needs a byte that is not there.
    byte[] data = {(byte) 0xA5, 0x3C};
    Vp8BoolDecoder decoder = new Vp8BoolDecoder(data, 0, data.length);
    for (int i = 0; i < 9; i++) {
      decoder.readBit(128);
    }
    assertFalse(decoder.eof());
    decoder.readBit(128);
    assertTrue(decoder.eof());
  }

  @Test
  void readsOnlyItsOwnSlice() {
    byte[] data = {1, 2, (byte) 178, (byte) 135, 96, 0, 3};
    Vp8BoolDecoder decoder = new Vp8BoolDecoder(data, 2, 4);
    assertEquals(1, decoder.readBit(128));
    assertEquals(0, decoder.readBit(128));
    assertEquals(1, decoder.readBit(1));
  }
}
