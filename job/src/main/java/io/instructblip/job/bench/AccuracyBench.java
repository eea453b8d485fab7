package io.instructblip.job.bench;

import io.instructblip.engine.EngineConfig;
import io.instructblip.engine.InstructBlipEngine;
import io.instructblip.engine.api.EngineResult;
import io.instructblip.engine.eval.AccuracyTable;
import io.instructblip.engine.eval.HeldOutSet;
import java.io.IOException;
import java.io.PrintWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Locale;

/**
 * The engine's accuracy per task type on the demo task's held-out set: the questions of a golden
 * file of {@code export.py eval-demo} ({@code fixtures/golden/<model>/heldout.json}, its images
 * resolved against that fixtures folder), answered by the engine on any exported demo model (fp32
 * or fp16), scored like {@code eval-demo} (exact match of the answer; choice questions by ranking
 * the candidates) and printed beside the PyTorch reference's accuracy from the golden file, with
 * how many answers are the reference's own.
 */
public final class AccuracyBench {
  private final EngineConfig config;
  private final Path heldOut;
  private final PrintWriter out;

  /**
   * @param config the engine on the model to score
   * @param heldOut a golden file of {@code export.py eval-demo}
   * @param out where the table goes
   */
  public AccuracyBench(EngineConfig config, Path heldOut, PrintWriter out) {
    this.config = config;
    this.heldOut = heldOut;
    this.out = out;
  }

  /** Answers every question, prints the table and returns it. */
  public AccuracyTable run() throws IOException {
    if (!Files.isRegularFile(heldOut)) {
      throw new IllegalArgumentException(
          "no held-out file "
              + heldOut
              + "; pass --heldout deploy/model-export/fixtures/golden/demo-vicuna/heldout.json"
              + " (written by export.py eval-demo)");
    }
    // golden/<model>/heldout.json: the image paths are relative to the fixtures folder above
    Path fixtures = heldOut.toAbsolutePath().getParent().getParent().getParent();
    HeldOutSet set = HeldOutSet.read(heldOut, fixtures);
    List<EngineResult> results;
    try (InstructBlipEngine engine = InstructBlipEngine.open(config)) {
      results = set.results(engine.infer(set.requests()));
    }
    AccuracyTable table = set.score(results);
    print(table, set);
    return table;
  }

  private void print(AccuracyTable table, HeldOutSet set) {
    out.printf(
        Locale.ROOT,
        "held-out accuracy of %s (Java engine) vs the PyTorch reference of %s:%n",
        config.modelDir(),
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
