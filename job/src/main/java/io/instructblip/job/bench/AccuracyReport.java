package io.instructblip.job.bench;

import io.instructblip.engine.eval.AccuracyTable;
import io.instructblip.engine.eval.HeldOutSet;
import java.io.IOException;
import java.io.PrintWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Locale;

/**
 * A demo model's held-out file read from its place among the fixtures, and the accuracy table that
 * {@code bench --suite accuracy} (the engine) and {@code local --heldout} (through Kafka) print:
 * per task type the questions, the accuracy (all, training templates, held-out templates), the
 * PyTorch reference's accuracy from the file and how many answers are the reference's own.
 */
public final class AccuracyReport {
  private AccuracyReport() {}

  /**
   * Reads a golden file of {@code export.py eval-demo}, {@code
   * <fixtures>/golden/<model>/heldout.json}, with the images it names relative to that fixtures
   * folder.
   *
   * @throws IllegalArgumentException when the file is missing (saying which one to pass) or bad
   */
  public static HeldOutSet read(Path heldOut) throws IOException {
    if (!Files.isRegularFile(heldOut)) {
      throw new IllegalArgumentException(
          "no held-out file "
              + heldOut
              + "; pass --heldout deploy/model-export/fixtures/golden/demo-vicuna/heldout.json"
              + " (written by export.py eval-demo)");
    }
    Path fixtures = heldOut.toAbsolutePath().getParent().getParent().getParent();
    return HeldOutSet.read(heldOut, fixtures);
  }

  /**
   * Prints {@code table}, the score of {@code answeredBy}'s answers to {@code set}, beside the
   * reference's accuracy.
   */
  public static void print(
      PrintWriter out, String answeredBy, HeldOutSet set, AccuracyTable table) {
    out.printf(
        Locale.ROOT,
        "held-out accuracy of %s vs the PyTorch reference of %s:%n",
        answeredBy,
        set.model());
    out.printf(
        Locale.ROOT,
        "%-10s %4s %6s %6s %8s %9s %14s%n",
        "task",
        "n",
        "acc",
        "seen",
        "held-out",
        "reference",
        "same answers");
    table
        .rows()
        .forEach(
            (task, s) ->
                out.printf(
                    Locale.ROOT,
                    "%-10s %4d %6.3f %6.3f %8.3f %9.3f %9d/%d%n",
                    task,
                    s.questions(),
                    s.accuracy(),
                    s.seenAccuracy(),
                    s.heldOutAccuracy(),
                    set.referenceAccuracy().get(task),
                    s.sameAsReference(),
                    s.questions()));
    out.flush();
  }
}
