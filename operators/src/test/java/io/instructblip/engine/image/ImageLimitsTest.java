package io.instructblip.engine.image;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import org.junit.jupiter.api.Test;

class ImageLimitsTest {

  @Test
  void defaultsComeFromOnePlace() {
    ImageLimits limits = ImageLimits.defaults();
    assertEquals(ImageLimits.DEFAULT_MAX_BYTES, limits.maxBytes());
    assertEquals(ImageLimits.DEFAULT_MAX_PIXELS, limits.maxPixels());
    assertEquals(20L * 1024 * 1024, limits.maxBytes());
    assertEquals(36_000_000L, limits.maxPixels());
  }

  @Test
  void builderOverridesAndValidates() {
    ImageLimits limits = ImageLimits.builder().maxBytes(10).maxPixels(20).build();
    assertEquals(new ImageLimits(10, 20), limits);
    IllegalArgumentException e =
        assertThrows(
            IllegalArgumentException.class, () -> ImageLimits.builder().maxBytes(0).build());
    assertEquals("maxBytes must be at least 1, got 0; the default is 20971520", e.getMessage());
    assertThrows(IllegalArgumentException.class, () -> ImageLimits.builder().maxPixels(-1).build());
  }
}
