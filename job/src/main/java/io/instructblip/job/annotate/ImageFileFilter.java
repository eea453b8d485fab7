package io.instructblip.job.annotate;

import java.io.IOException;
import java.io.Serializable;
import java.io.UncheckedIOException;
import java.net.URI;
import java.nio.file.FileSystems;
import java.nio.file.PathMatcher;
import java.util.List;
import java.util.Locale;
import java.util.Set;
import java.util.TreeSet;
import java.util.function.Predicate;
import org.apache.flink.core.fs.Path;

/**
 * Which entries of an input folder tree are images to annotate: files whose extension is one of
 * {@link #extensions()} and, when a glob is given, whose path relative to the input root matches it
 * ({@code **}{@code /*.jpg}, {@code cats/**}); folders are walked. Hidden entries (names starting
 * with {@code .} or {@code _}) are skipped, as Flink's default filter does. Used by the
 * FileSource's enumerator, which asks about every entry it lists, folders included.
 */
public final class ImageFileFilter implements Predicate<Path>, Serializable {
  private static final long serialVersionUID = 1L;

  /** The extensions of the image formats the engine decodes. */
  public static final Set<String> DEFAULT_EXTENSIONS =
      Set.of("jpg", "jpeg", "png", "gif", "bmp", "webp");

  private final URI root;
  private final TreeSet<String> extensions;
  private final String glob;
  private transient PathMatcher matcher;

  /**
   * @param root the input root, qualified (e.g. {@code file:/data/images})
   * @param extensions lower-case extensions without the dot
   * @param glob a glob over paths relative to the root, or {@code null} for all
   */
  public ImageFileFilter(URI root, Set<String> extensions, String glob) {
    this.root = RelativePaths.asFolder(root);
    this.extensions = new TreeSet<>();
    extensions.forEach(
        e -> this.extensions.add(e.toLowerCase(Locale.ROOT).replaceFirst("^\\.", "")));
    this.glob = glob;
    if (glob != null) {
      FileSystems.getDefault().getPathMatcher("glob:" + glob); // fails now on a malformed glob
    }
  }

  /** The extensions taken as images, lower case, without the dot. */
  public List<String> extensions() {
    return List.copyOf(extensions);
  }

  @Override
  public boolean test(Path path) {
    String name = path.getName();
    if (name.startsWith(".") || name.startsWith("_")) {
      return false;
    }
    if (isImageName(name)) {
      return glob == null || matches(RelativePaths.relativize(root, path.toUri()));
    }
    // Not an image name: walk it only if it is a folder (the enumerator asks about both).
    try {
      return path.getFileSystem().getFileStatus(path).isDir();
    } catch (IOException e) {
      throw new UncheckedIOException("cannot read " + path, e);
    }
  }

  /** Whether a file name has one of the image extensions. */
  public boolean isImageName(String name) {
    int dot = name.lastIndexOf('.');
    return dot > 0 && extensions.contains(name.substring(dot + 1).toLowerCase(Locale.ROOT));
  }

  private boolean matches(String relative) {
    if (matcher == null) {
      matcher = FileSystems.getDefault().getPathMatcher("glob:" + glob);
    }
    return matcher.matches(java.nio.file.Path.of(relative));
  }
}
