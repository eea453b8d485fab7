package io.instructblip.job.annotate;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.util.Set;
import org.apache.flink.core.fs.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class ImageFileFilterTest {
  @TempDir java.nio.file.Path root;

  @Test
  void takesImagesByExtensionWalksFoldersSkipsHiddenAndOthers() throws Exception {
    Files.createDirectories(root.resolve("sub"));
    Files.writeString(root.resolve("notes.txt"), "x");
    ImageFileFilter filter =
        new ImageFileFilter(root.toUri(), ImageFileFilter.DEFAULT_EXTENSIONS, null);
    assertTrue(filter.test(path("a.jpg")));
    assertTrue(filter.test(path("B.JPEG")));
    assertTrue(filter.test(path("sub")));
    assertFalse(filter.test(path("notes.txt")));
    assertFalse(filter.test(path(".hidden.jpg")));
    assertFalse(filter.test(path("_tmp")));
  }

  @Test
  void aGlobMatchesPathsRelativeToTheRoot() throws Exception {
    ImageFileFilter filter = new ImageFileFilter(root.toUri(), Set.of("png", ".JPG"), "cats/**");
    assertTrue(filter.test(path("cats/x/1.png")));
    assertTrue(filter.test(path("cats/2.jpg")));
    assertFalse(filter.test(path("dogs/1.png")));
    assertEquals(java.util.List.of("jpg", "png"), filter.extensions());
  }

  @Test
  void aMalformedGlobFailsAtOnce() {
    assertThrows(
        IllegalArgumentException.class,
        () -> new ImageFileFilter(root.toUri(), Set.of("png"), "cats/[a"));
  }

  private Path path(String relative) {
    return new Path(root.resolve(relative).toUri());
  }
}
