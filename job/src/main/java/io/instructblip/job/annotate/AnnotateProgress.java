package io.instructblip.job.annotate;

import java.io.PrintStream;
import java.time.Duration;
import java.util.Map;
import java.util.TreeMap;

/**
 * The terminal view of an {@code annotate} run: a progress line from the job's accumulators (rows
 * done of the total once known, images/s, tokens/s, ETA, errors), redrawn in place, and the final
 * summary (rows per status and error code, wall time, images/s, where the output is).
 */
public final class AnnotateProgress {
  private final PrintStream out;
  private final long startNanos;
  private long firstRows = -1;

  public AnnotateProgress(PrintStream out, long startNanos) {
    this.out = out;
    this.startNanos = startNanos;
  }

  /**
   * Redraws the progress line.
   *
   * @param accumulators the job's accumulators now
   * @param total the number of requests, or a negative number while it is not known yet
   */
  public void update(Map<String, Object> accumulators, long total, long nowNanos) {
    out.print("\r" + line(accumulators, total, nowNanos) + "\u001b[K");
    out.flush();
  }

  /** The progress line. */
  public String line(Map<String, Object> accumulators, long total, long nowNanos) {
    long rows = count(accumulators, AnnotationCounts.ROWS);
    if (firstRows < 0) {
      firstRows = rows; // rows restored from a checkpoint do not count towards the rate
    }
    double seconds = Math.max(1e-3, (nowNanos - startNanos) / 1e9);
    double rate = (rows - firstRows) / seconds;
    double tokens = count(accumulators, AnnotationCounts.GENERATED_TOKENS) / seconds;
    long errors = rows - count(accumulators, AnnotationCounts.STATUS_PREFIX + "OK");
    StringBuilder s = new StringBuilder();
    if (total >= 0) {
      int width = 24;
      int filled = total == 0 ? width : (int) Math.min(width, rows * width / total);
      s.append('[').append("#".repeat(filled)).append(".".repeat(width - filled)).append("] ");
      s.append(rows).append('/').append(total);
    } else {
      s.append(rows).append(" done (listing...)");
    }
    s.append(String.format("  %.1f img/s  %.1f tok/s", rate, tokens));
    if (total >= 0 && rate > 0) {
      s.append("  ETA ").append(format(Duration.ofSeconds((long) ((total - rows) / rate))));
    }
    s.append("  errors ").append(errors);
    return s.toString();
  }

  /** The summary printed at the end. */
  public static String summary(
      Map<String, Object> accumulators, Duration wall, String output, long restoredRows) {
    long rows = count(accumulators, AnnotationCounts.ROWS);
    Map<String, Long> statuses = new TreeMap<>();
    Map<String, Long> errors = new TreeMap<>();
    accumulators.forEach(
        (k, v) -> {
          if (k.startsWith(AnnotationCounts.STATUS_PREFIX)) {
            statuses.put(k.substring(AnnotationCounts.STATUS_PREFIX.length()), (Long) v);
          } else if (k.startsWith(AnnotationCounts.ERROR_PREFIX)) {
            errors.put(k.substring(AnnotationCounts.ERROR_PREFIX.length()), (Long) v);
          }
        });
    double seconds = Math.max(1e-3, wall.toMillis() / 1e3);
    StringBuilder s = new StringBuilder();
    s.append("rows: ").append(rows);
    statuses.forEach((k, v) -> s.append("  ").append(k).append(' ').append(v));
    s.append('\n');
    if (!errors.isEmpty()) {
      s.append("errors by code:");
      errors.forEach((k, v) -> s.append("  ").append(k).append(' ').append(v));
      s.append('\n');
    }
    s.append(
        String.format(
            "wall time: %s  images/s: %.2f  generated tokens: %d%n",
            format(wall),
            (rows - restoredRows) / seconds,
            count(accumulators, AnnotationCounts.GENERATED_TOKENS)));
    s.append("output: ").append(output);
    return s.toString();
  }

  /** The value of a counter accumulator, 0 when it is not there. */
  public static long count(Map<String, Object> accumulators, String name) {
    Object v = accumulators.get(name);
    return v instanceof Number n ? n.longValue() : 0;
  }

  private static String format(Duration d) {
    long s = d.toSeconds();
    return String.format("%d:%02d:%02d", s / 3600, (s / 60) % 60, s % 60);
  }
}
