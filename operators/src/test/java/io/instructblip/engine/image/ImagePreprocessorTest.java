package io.instructblip.engine.image;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import io.instructblip.engine.api.EngineException;
import io.instructblip.engine.api.ErrorCode;
import java.awt.image.BufferedImage;
import org.junit.jupiter.api.Test;

class ImagePreprocessorTest {

  private static final double[] MEAN = {0.48145466, 0.4578275, 0.40821073};
  private static final double[] STD = {0.26862954, 0.26130258, 0.27577711};

  private static ImagePreprocessor preprocessor(int size) {
    return new ImagePreprocessor(
        new ImagePreprocessing(size, 1.0 / 255.0, MEAN, STD),
        new ImageDecoder(ImageLimits.defaults()));
  }

  @Test
  void normalisesChannelsFirstInFloat32LikeTheReference() {
    // Left half (255, 0, 128), right half (60, 120, 150): columns 0-3 and 4-7 of an 8x8 image,
    // kept at 8x8 so no resampling mixes them. Expected values from numpy float32:
    // (np.float32(v) * np.float32(1/255) - mean) / std.
    BufferedImage image = new BufferedImage(8, 8, BufferedImage.TYPE_INT_RGB);
    for (int y = 0; y < 8; y++) {
      for (int x = 0; x < 8; x++) {
        image.setRGB(x, y, x < 4 ? 0xFF0080 : 0x3C7896);
      }
    }
    float[] chw = preprocessor(8).pixelValues(ImageDecoderTest.encode(image, "png"));
    assertEquals(3 * 64, chw.length);
    float[][] expected = {
      {1.9303361177444458f, -1.7520971298217773f, 0.33994877338409424f},
      {-0.9163568615913391f, 0.04883517697453499f, 0.6527901887893677f}
    };
    for (int c = 0; c < 3; c++) {
      assertEquals(expected[0][c], chw[c * 64 + 3 * 8 + 2], "left, channel " + c);
      assertEquals(expected[1][c], chw[c * 64 + 5 * 8 + 6], "right, channel " + c);
    }
  }

  @Test
  void resizedIsThePillowBicubicResult() {
    BufferedImage pattern = PilBicubicResizerTest.pattern();
    BufferedImage resized = preprocessor(5).resized(ImageDecoderTest.encode(pattern, "png"));
    assertArrayEquals(
        PilBicubicResizerTest.interleaved(PilBicubicResizer.resize(pattern, 5, 5)),
        PilBicubicResizerTest.interleaved(resized));
    assertEquals(5, resized.getWidth());
    assertEquals(5, resized.getHeight());
  }

  @Test
  void writesIntoABatchAtAnOffset() {
    byte[] png = ImageDecoderTest.encode(ImageDecoderTest.noise(9, 7), "png");
    ImagePreprocessor pre = preprocessor(4);
    float[] batch = new float[2 * 3 * 16];
    pre.pixelValues(png, batch, 48);
    float[] single = pre.pixelValues(png);
    for (int i = 0; i < 48; i++) {
      assertEquals(0f, batch[i]);
      assertEquals(single[i], batch[48 + i]);
    }
    assertThrows(IllegalArgumentException.class, () -> pre.pixelValues(png, batch, 49));
  }

  @Test
  void decodeErrorsPassThrough() {
    EngineException e =
        assertThrows(EngineException.class, () -> preprocessor(4).pixelValues(new byte[0]));
    assertEquals(ErrorCode.IMAGE_UNREADABLE, e.code());
  }

  @Test
  void preprocessingIsValidated() {
    assertThrows(
        IllegalArgumentException.class, () -> new ImagePreprocessing(0, 1 / 255.0, MEAN, STD));
    assertThrows(IllegalArgumentException.class, () -> new ImagePreprocessing(4, 0, MEAN, STD));
    assertThrows(
        IllegalArgumentException.class,
        () -> new ImagePreprocessing(4, 1 / 255.0, new double[] {0.5, 0.5}, STD));
    IllegalArgumentException e =
        assertThrows(
            IllegalArgumentException.class,
            () -> new ImagePreprocessing(4, 1 / 255.0, MEAN, new double[] {0.2, 0, 0.2}));
    assertEquals(
        "image_preprocessing.std must be finite and positive, got [0.2, 0.0, 0.2]", e.getMessage());
    assertEquals(
        new ImagePreprocessing(4, 1 / 255.0, MEAN, STD),
        new ImagePreprocessing(4, 1 / 255.0, MEAN.clone(), STD.clone()));
  }
}
