package io.instructblip.job.bench;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.instructblip.engine.EngineConfig;
import io.instructblip.engine.InstructBlipEngine;
import io.instructblip.engine.api.EngineFailure;
import io.instructblip.engine.api.EngineOutcome;
import io.instructblip.engine.api.EngineRequest;
import io.instructblip.engine.api.EngineResult;
import io.instructblip.engine.api.GenerationOverrides;
import io.instructblip.engine.api.TaskMode;
import io.instructblip.engine.model.GenerationParametersJson;
import java.io.IOException;
import java.io.PrintWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/**
 * The engine's accuracy per task type on the demo task's held-out set: the questions of a golden
 * file of {@code export.py eval-demo} ({@code fixtures/golden/<model>/heldout.json}, its images
 * resolved against that fixtures folder), answered by the engine on any exported demo model (fp32
 * or fp16), scored like {@code eval-demo} (exact match of the answer; choice questions by ranking
 * the candidates) and printed beside the PyTorch reference's accuracy from the golden file, with
 * how many answers are the reference's own.
 */
public final class AccuracyBench {
  private static final ObjectMapper JSON = new ObjectMapper();

  /** The task types of the demo task, in {@code eval-demo}'s order, then {@code all}. */
  public static final List<String> TASKS =
      List.of("caption", "colour", "count", "position", "yesno", "choice", "all");

  /**
   * The score of one task type.
   *
   * @param questions questions of this type
   * @param correct answers equal to the true answer
   * @param seenAccuracy accuracy on the questions in training templates
   * @param heldOutAccuracy accuracy on the questions in held-out templates
   * @param sameAsReference answers equal to the PyTorch reference's answer
   * @param referenceAccuracy the reference's accuracy (from the golden file)
   */
  public record Score(
      int questions,
      int correct,
      double seenAccuracy,
      double heldOutAccuracy,
      int sameAsReference,
      double referenceAccuracy) {
    /** The share of right answers. */
    public double accuracy() {
      return questions == 0 ? 0 : (double) correct / questions;
    }
  }

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

  /** Answers every question, prints the table and returns the score per task type. */
  public Map<String, Score> run() throws IOException {
    if (!Files.isRegularFile(heldOut)) {
      throw new IllegalArgumentException(
          "no held-out file "
              + heldOut
              + "; pass --heldout deploy/model-export/fixtures/golden/demo-vicuna/heldout.json"
              + " (written by export.py eval-demo)");
    }
    JsonNode golden = JSON.readTree(heldOut.toFile());
    // golden/<model>/heldout.json: the image paths are relative to the fixtures folder above
    Path fixtures = heldOut.toAbsolutePath().getParent().getParent().getParent();
    List<JsonNode> questions = new ArrayList<>();
    golden.get("questions").forEach(questions::add);
    List<EngineOutcome> results;
    try (InstructBlipEngine engine = InstructBlipEngine.open(config)) {
      results = engine.infer(requests(questions, golden.get("generation"), fixtures), 16, 32);
    }
    Map<String, Score> scores = score(questions, results, golden.get("accuracy"));
    print(scores, golden.path("model").asText("?"));
    return scores;
  }

  private static List<EngineRequest> requests(
      List<JsonNode> questions, JsonNode generation, Path fixtures) throws IOException {
    GenerationOverrides greedy = GenerationParametersJson.overrides(generation);
    List<EngineRequest> requests = new ArrayList<>();
    for (JsonNode q : questions) {
      byte[] image = Files.readAllBytes(fixtures.resolve(q.get("image").asText()));
      List<String> candidates = new ArrayList<>();
      q.path("candidates").forEach(c -> candidates.add(c.asText()));
      boolean choice = !candidates.isEmpty();
      requests.add(
          new EngineRequest(
              "q" + requests.size(),
              List.of(image),
              q.get("instruction").asText(),
              choice ? TaskMode.RANK : TaskMode.GENERATE,
              candidates,
              choice ? GenerationOverrides.NONE : greedy));
    }
    return requests;
  }

  private static Map<String, Score> score(
      List<JsonNode> questions, List<EngineOutcome> results, JsonNode referenceAccuracy) {
    Map<String, int[]> tally = new LinkedHashMap<>();
    for (String task : TASKS) {
      tally.put(task, new int[6]); // n, right, seen n, seen right, held-out n, held-out right
    }
    int[] same = new int[TASKS.size()];
    for (int i = 0; i < questions.size(); i++) {
      JsonNode q = questions.get(i);
      if (results.get(i) instanceof EngineFailure f) {
        throw new IllegalStateException(
            "question " + i + " failed: " + f.code() + " " + f.message());
      }
      EngineResult r = (EngineResult) results.get(i);
      boolean right = r.text().equals(q.get("answer").asText());
      boolean held = q.get("held_out_template").asBoolean();
      boolean asReference = r.text().equals(q.get("expected").get("text").asText());
      for (String task : List.of(q.get("task").asText(), "all")) {
        int[] t = tally.get(task);
        if (t == null) {
          throw new IllegalStateException("question " + i + " has an unknown task type " + task);
        }
        t[0]++;
        t[1] += right ? 1 : 0;
        t[held ? 4 : 2]++;
        t[held ? 5 : 3] += right ? 1 : 0;
        same[TASKS.indexOf(task)] += asReference ? 1 : 0;
      }
    }
    Map<String, Score> scores = new LinkedHashMap<>();
    for (String task : TASKS) {
      int[] t = tally.get(task);
      scores.put(
          task,
          new Score(
              t[0],
              t[1],
              share(t[3], t[2]),
              share(t[5], t[4]),
              same[TASKS.indexOf(task)],
              referenceAccuracy.path(task).path("accuracy").asDouble(Double.NaN)));
    }
    return scores;
  }

  private static double share(int part, int whole) {
    return whole == 0 ? Double.NaN : (double) part / whole;
  }

  private void print(Map<String, Score> scores, String referenceModel) {
    out.printf(
        Locale.ROOT,
        "held-out accuracy of %s (Java engine) vs the PyTorch reference of %s:%n",
        config.modelDir(),
        referenceModel);
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
    scores.forEach(
        (task, s) ->
            out.printf(
                Locale.ROOT,
                "%-10s %4d %6.3f %6.3f %8.3f %9.3f %9d/%d%n",
                task,
                s.questions(),
                s.accuracy(),
                s.seenAccuracy(),
                s.heldOutAccuracy(),
                s.referenceAccuracy(),
                s.sameAsReference(),
                s.questions()));
    out.flush();
  }
}
