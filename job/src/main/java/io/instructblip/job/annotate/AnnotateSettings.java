package io.instructblip.job.annotate;

import java.net.URI;
import java.util.Objects;
import java.util.Set;

/**
 * What {@code annotate} reads and writes.
 *
 * @param input the input root (folder or prefix), qualified, e.g. {@code file:/data/images/}
 * @param manifest a manifest file (JSONL or CSV) or {@code null} to walk {@code input}
 * @param output the output folder, qualified
 * @param format Parquet or JSONL
 * @param extensions image extensions (folder input)
 * @param glob a glob over paths relative to the input root (folder input), or {@code null}
 * @param partBytes the size at which a part file rolls over (it also rolls on every checkpoint)
 * @param maxRate requests per second at most across the job, or 0 for no limit
 * @param template the instruction and options of the requests the command makes
 */
public record AnnotateSettings(
    URI input,
    URI manifest,
    URI output,
    ResponseFormat format,
    Set<String> extensions,
    String glob,
    long partBytes,
    double maxRate,
    RequestTemplate template) {

  /** Default size at which a part file rolls over. */
  public static final long DEFAULT_PART_BYTES = 128L << 20;

  public AnnotateSettings {
    input = RelativePaths.asFolder(Objects.requireNonNull(input, "input"));
    Objects.requireNonNull(output, "output");
    Objects.requireNonNull(format, "format");
    extensions = Set.copyOf(extensions);
    Objects.requireNonNull(template, "template");
    if (partBytes <= 0) {
      throw new IllegalArgumentException("the part size must be positive, not " + partBytes);
    }
    if (!(maxRate >= 0) || Double.isInfinite(maxRate)) {
      throw new IllegalArgumentException(
          "the rate limit must be a number of requests per second, or 0 for none, not " + maxRate);
    }
  }

  /** Whether the manifest is CSV (by its name), else JSONL. */
  public boolean csvManifest() {
    return manifest != null
        && manifest.getPath().toLowerCase(java.util.Locale.ROOT).endsWith(".csv");
  }
}
