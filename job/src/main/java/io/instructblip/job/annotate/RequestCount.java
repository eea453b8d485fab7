package io.instructblip.job.annotate;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import org.apache.flink.core.fs.FileStatus;
import org.apache.flink.core.fs.FileSystem;
import org.apache.flink.core.fs.Path;

/**
 * How many requests a run has, for the progress line only: the image files under the input (the
 * same filter as the source) or the manifest's non-blank lines (less a CSV header). Walks the input
 * a second time, streaming, holding no list of paths; the job does not wait for it.
 */
public final class RequestCount {
  private RequestCount() {}

  /** Counts the requests of {@code settings}. */
  public static long of(AnnotateSettings settings) throws IOException {
    if (settings.manifest() != null) {
      return manifestLines(new Path(settings.manifest()), settings.csvManifest());
    }
    ImageFileFilter filter =
        new ImageFileFilter(settings.input(), settings.extensions(), settings.glob());
    Path root = new Path(settings.input());
    return images(root.getFileSystem(), root, filter);
  }

  private static long images(FileSystem fs, Path dir, ImageFileFilter filter) throws IOException {
    long n = 0;
    FileStatus[] entries = fs.listStatus(dir);
    if (entries == null) {
      return 0;
    }
    for (FileStatus e : entries) {
      if (!filter.test(e.getPath())) {
        continue;
      }
      n += e.isDir() ? images(fs, e.getPath(), filter) : 1;
    }
    return n;
  }

  private static long manifestLines(Path manifest, boolean csv) throws IOException {
    long n = 0;
    try (BufferedReader in =
        new BufferedReader(
            new InputStreamReader(
                manifest.getFileSystem().open(manifest), StandardCharsets.UTF_8))) {
      String line;
      boolean first = true;
      while ((line = in.readLine()) != null) {
        if (line.isBlank()) {
          continue;
        }
        if (!(first && csv && line.strip().toLowerCase(java.util.Locale.ROOT).startsWith("id,"))) {
          n++;
        }
        first = false;
      }
    }
    return n;
  }
}
