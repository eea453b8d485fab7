package io.instructblip.engine.image;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.instructblip.engine.api.EngineException;
import io.instructblip.engine.api.ErrorCode;
import io.instructblip.engine.model.ModelFixtures;
import java.awt.image.BufferedImage;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.stream.Stream;
import javax.imageio.ImageIO;
import org.junit.jupiter.api.DynamicTest;
import org.junit.jupiter.api.TestFactory;

/**
 * Compares decode + resize with the Pillow results in the committed fixtures ({@code
 * golden/preprocess.json}, docs/model-format.md): every channel of every pixel within 1 of Pillow,
 * at most 1% of the channels different at all (in practice none), and the decoded size after EXIF
 * orientation equal. The fixture folder comes from the system property {@code
 * instructblip.fixtures} (set by surefire) or the environment variable {@code
 * INSTRUCTBLIP_FIXTURES}; without them the tests fail.
 */
class GoldenPreprocessTest {

  private static final int TOLERANCE = 1;

  private final ImageDecoder decoder = new ImageDecoder(ImageLimits.defaults());

  static Path fixtures() {
    return ModelFixtures.root();
  }

  @TestFactory
  Stream<DynamicTest> resizedImagesMatchPillow() throws IOException {
    Path root = fixtures();
    Path index = root.resolve("golden/preprocess.json");
    JsonNode cases = new ObjectMapper().readTree(index.toFile()).get("cases");
    List<DynamicTest> tests = new ArrayList<>();
    for (JsonNode c : cases) {
      String image = c.get("image").asText();
      int size = c.get("size").asInt();
      tests.add(
          DynamicTest.dynamicTest(image + " at " + size, () -> checkCase(root, c, image, size)));
    }
    assertFalse(tests.isEmpty(), "preprocess.json has no cases");
    return tests.stream();
  }

  private void checkCase(Path root, JsonNode c, String image, int size) throws IOException {
    BufferedImage decoded = decoder.decode(Files.readAllBytes(root.resolve(image)));
    JsonNode oriented = c.get("oriented_size");
    if (oriented != null) {
      assertEquals(oriented.get(0).asInt(), decoded.getWidth(), "width after orientation");
      assertEquals(oriented.get(1).asInt(), decoded.getHeight(), "height after orientation");
    }
    BufferedImage actual = PilBicubicResizer.resize(decoded, size, size);
    BufferedImage expected = ImageIO.read(root.resolve(c.get("resized").asText()).toFile());
    assertEquals(size, expected.getWidth());
    assertEquals(size, expected.getHeight());
    int worst = 0;
    int differing = 0;
    for (int y = 0; y < size; y++) {
      for (int x = 0; x < size; x++) {
        int a = actual.getRGB(x, y);
        int e = expected.getRGB(x, y);
        for (int shift = 0; shift <= 16; shift += 8) {
          int d = Math.abs(((a >> shift) & 0xFF) - ((e >> shift) & 0xFF));
          worst = Math.max(worst, d);
          differing += d > 0 ? 1 : 0;
        }
      }
    }
    String summary =
        image
            + " at "
            + size
            + ": worst channel difference "
            + worst
            + ", "
            + differing
            + " of "
            + 3 * size * size
            + " channels differ";
    assertTrue(worst <= TOLERANCE, summary);
    assertTrue(differing <= 3 * size * size / 100, summary + " (more than 1%)");
  }

  /**
   * WebP (lossless, lossy, lossy with alpha) decoded pixel for pixel as Pillow (libwebp) decodes
   * it, before any resize. Lossy WebP needs libwebp's own VP8 reconstruction, fancy chroma
   * upsampling and YUV to RGB: TwelveMonkeys' decoder differed by up to 17 per channel here.
   */
  @TestFactory
  Stream<DynamicTest> webpDecodesExactlyAsPillow() throws IOException {
    Path root = fixtures();
    JsonNode decoded =
        new ObjectMapper().readTree(root.resolve("golden/preprocess.json").toFile()).get("decoded");
    List<DynamicTest> tests = new ArrayList<>();
    for (JsonNode c : decoded) {
      String image = c.get("image").asText();
      Path expected = root.resolve(c.get("decoded").asText());
      tests.add(
          DynamicTest.dynamicTest(
              image,
              () ->
                  assertSamePixels(
                      image,
                      ImageIO.read(expected.toFile()),
                      decoder.decode(Files.readAllBytes(root.resolve(image))))));
    }
    assertEquals(3, tests.size(), "lossless.webp, lossy.webp, lossy-alpha.webp");
    return tests.stream();
  }

  private static void assertSamePixels(String image, BufferedImage expected, BufferedImage actual) {
    assertEquals(expected.getWidth(), actual.getWidth(), image + " width");
    assertEquals(expected.getHeight(), actual.getHeight(), image + " height");
    int differing = 0;
    int worst = 0;
    String first = null;
    for (int y = 0; y < expected.getHeight(); y++) {
      for (int x = 0; x < expected.getWidth(); x++) {
        int a = actual.getRGB(x, y) & 0xFFFFFF;
        int e = expected.getRGB(x, y) & 0xFFFFFF;
        if (a == e) {
          continue;
        }
        differing++;
        for (int shift = 0; shift <= 16; shift += 8) {
          worst = Math.max(worst, Math.abs(((a >> shift) & 0xFF) - ((e >> shift) & 0xFF)));
        }
        if (first == null) {
          first = String.format("(%d, %d): %06x instead of %06x", x, y, a, e);
        }
      }
    }
    assertEquals(
        0,
        differing,
        image + ": pixels differ from Pillow's by up to " + worst + ", the first at " + first);
  }

  @TestFactory
  Stream<DynamicTest> badFixtureImagesGiveTheirErrorCodes() {
    Path root = fixtures();
    return Stream.of(
            new Object[] {"images/empty.png", ErrorCode.IMAGE_UNREADABLE},
            new Object[] {"images/garbage.bin", ErrorCode.IMAGE_UNREADABLE},
            new Object[] {"images/truncated.jpg", ErrorCode.IMAGE_UNREADABLE},
            new Object[] {"images/huge-header.png", ErrorCode.IMAGE_TOO_LARGE})
        .filter(row -> Files.exists(root.resolve((String) row[0])))
        .map(
            row ->
                DynamicTest.dynamicTest(
                    (String) row[0],
                    () -> {
                      byte[] bytes = Files.readAllBytes(root.resolve((String) row[0]));
                      EngineException e =
                          assertThrows(EngineException.class, () -> decoder.decode(bytes));
                      assertEquals(row[1], e.code(), e.getMessage());
                    }));
  }
}
