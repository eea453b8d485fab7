package io.instructblip.engine.image;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.util.Optional;
import org.junit.jupiter.api.Test;

class ImageFormatTest {

  @Test
  void formatsAreSniffedFromTheirSignatures() {
    assertEquals(Optional.of(ImageFormat.JPEG), ImageFormat.sniff(bytes(0xFF, 0xD8, 0xFF, 0xE0)));
    assertEquals(
        Optional.of(ImageFormat.PNG),
        ImageFormat.sniff(bytes(0x89, 'P', 'N', 'G', 0x0D, 0x0A, 0x1A, 0x0A)));
    assertEquals(Optional.of(ImageFormat.GIF), ImageFormat.sniff(bytes('G', 'I', 'F', '8', '9')));
    assertEquals(Optional.of(ImageFormat.BMP), ImageFormat.sniff(bytes('B', 'M', 0, 0)));
    assertEquals(
        Optional.of(ImageFormat.WEBP),
        ImageFormat.sniff(bytes('R', 'I', 'F', 'F', 0, 0, 0, 0, 'W', 'E', 'B', 'P')));
    assertEquals(Optional.empty(), ImageFormat.sniff(bytes('R', 'I', 'F', 'F', 0, 0, 0, 0, 'W')));
    assertEquals(Optional.empty(), ImageFormat.sniff(bytes(0xFF, 0xD8)));
    assertEquals(Optional.empty(), ImageFormat.sniff(new byte[0]));
  }

  private static byte[] bytes(int... values) {
    byte[] out = new byte[values.length];
    for (int i = 0; i < values.length; i++) {
      out[i] = (byte) values[i];
    }
    return out;
  }
}
