package io.instructblip.job.annotate;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.net.URI;
import org.junit.jupiter.api.Test;

class RelativePathsTest {
  private static final URI ROOT = URI.create("file:/data/images");

  @Test
  void idsArePathsRelativeToTheRoot() {
    assertEquals(
        "cats/1.jpg", RelativePaths.relativize(ROOT, URI.create("file:/data/images/cats/1.jpg")));
    assertEquals(
        "a b.png", RelativePaths.relativize(ROOT, URI.create("file:/data/images/a%20b.png")));
  }

  @Test
  void manifestImagesResolveAgainstTheRootUnlessAbsolute() {
    assertEquals("file:/data/images/cats/1.jpg", RelativePaths.resolve(ROOT, "cats/1.jpg"));
    assertEquals("file:/data/images/a%20b.png", RelativePaths.resolve(ROOT, "a b.png"));
    assertEquals("file:/elsewhere/x.png", RelativePaths.resolve(ROOT, "/elsewhere/x.png"));
    assertEquals("s3://bucket/x.png", RelativePaths.resolve(ROOT, "s3://bucket/x.png"));
    assertEquals(
        "s3://bucket/imgs/x.png", RelativePaths.resolve(URI.create("s3://bucket/imgs"), "x.png"));
  }

  @Test
  void aTraversalStaysAUriForThePolicyToJudge() {
    // The URI policy, not this class, refuses what lies outside the root.
    assertEquals("file:/data/secret.png", RelativePaths.resolve(ROOT, "../secret.png"));
  }

  @Test
  void aFileNameThatIsNoValidUriIsTakenAsAPath() {
    assertEquals("file:/data/images/100%25.png", RelativePaths.resolve(ROOT, "100%.png"));
  }
}
