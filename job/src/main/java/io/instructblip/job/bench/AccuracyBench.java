package io.instructblip.job.bench;

import io.instructblip.engine.EngineConfig;
import io.instructblip.engine.InstructBlipEngine;
import io.instructblip.engine.api.EngineResult;
import io.instructblip.engine.eval.AccuracyTable;
import io.instructblip.engine.eval.HeldOutSet;
import java.io.IOException;
import java.io.PrintWriter;
import java.nio.file.Path;
import java.util.List;

/**
 * The engine's accuracy per task type on the demo task's held-out set: the questions of a golden
 * file of {@code export.py eval-demo} ({@code fixtures/golden/<model>/heldout.json}, its images
 * resolved against that fixtures folder), answered by the engine on any exported demo model (fp32
 * or fp16), scored like {@code eval-demo} (exact match of the answer; choice questions by ranking
 * the candidates) and printed beside the PyTorch reference's accuracy from the golden file, with
 * how many answers are the reference's own ({@link AccuracyReport}).
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
    HeldOutSet set = AccuracyReport.read(heldOut);
    List<EngineResult> results;
    try (InstructBlipEngine engine = InstructBlipEngine.open(config)) {
      results = set.results(engine.infer(set.requests()));
    }
    AccuracyTable table = set.score(results);
    AccuracyReport.print(out, config.modelDir() + " (Java engine)", set, table);
    return table;
  }
}
