package io.instructblip.job.annotate;

import java.net.URI;
import java.net.URISyntaxException;

/** Image ids and URIs relative to the input root ({@code --input}). */
public final class RelativePaths {
  private RelativePaths() {}

  /** {@code uri} with a trailing slash, so that relative paths resolve inside it. */
  public static URI asFolder(URI uri) {
    String s = uri.toString();
    return s.endsWith("/") ? uri : URI.create(s + "/");
  }

  /** The path of {@code file} relative to {@code root} (decoded), e.g. {@code cats/1.jpg}. */
  public static String relativize(URI root, URI file) {
    URI relative = asFolder(root).relativize(file);
    return relative.isAbsolute() ? file.toString() : relative.getPath();
  }

  /**
   * The URI of an image named in a manifest: as it is when it has a scheme, else a path resolved
   * against {@code root} (an absolute path keeps the root's scheme and authority).
   *
   * @throws IllegalArgumentException when {@code image} is no valid URI or path
   */
  public static String resolve(URI root, String image) {
    URI parsed;
    try {
      parsed = new URI(image);
    } catch (URISyntaxException e) {
      try {
        parsed = new URI(null, null, image, null); // a plain path with spaces and the like
      } catch (URISyntaxException again) {
        throw new IllegalArgumentException("\"" + image + "\" is no valid URI or path", again);
      }
    }
    if (parsed.getScheme() != null) {
      return parsed.toString();
    }
    return asFolder(root).resolve(parsed).toString();
  }
}
