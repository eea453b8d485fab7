package io.instructblip.engine;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.instructblip.engine.api.EngineResult;
import io.instructblip.engine.eval.AccuracyTable;
import io.instructblip.engine.eval.HeldOutQuestion;
import io.instructblip.engine.eval.HeldOutSet;
import io.instructblip.engine.generate.RankedCandidate;
import io.instructblip.engine.model.ModelFixtures;
import java.io.IOException;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * The trained demo models on the held-out set of their synthetic shapes task ({@code export.py
 * eval-demo} wrote {@code golden/<model>/heldout.json}): the engine's answer to every question
 * equals the PyTorch reference's (greedy text and token ids; for choice questions the ranking
 * order), so the engine scores exactly what the reference scores, and that score is well above
 * chance on the task types the model learned. The float16 export of demo-vicuna scores within one
 * point of it.
 */
class DemoAccuracyTest {
  /**
   * The accuracy each committed demo model reaches at least, per task type: well above chance and
   * above the majority answer on every type (held-out set: colour 0.25, count 0.57, position 0.46,
   * yes/no 0.52, choice 0.25, caption 0.07; eval-demo's {@code majority_answer}).
   */
  private static final Map<String, Map<String, Double>> FLOORS =
      Map.of(
          "demo-vicuna",
          Map.of(
              "caption", 0.45,
              "colour", 0.9,
              "count", 0.8,
              "position", 0.85,
              "yesno", 0.9,
              "choice", 0.9),
          "demo-flant5",
          Map.of(
              "caption", 0.5,
              "colour", 0.9,
              "count", 0.75,
              "position", 0.5,
              "yesno", 0.9,
              "choice", 0.9));

  private static final Set<String> TASKS =
      Set.of("caption", "colour", "count", "position", "yesno", "choice", "all");

  @ParameterizedTest
  @ValueSource(strings = {"demo-vicuna", "demo-flant5"})
  void answersEqualTheReferenceAndScoreWellAboveChance(String model) throws IOException {
    HeldOutSet set = HeldOutSet.ofModel(ModelFixtures.root(), model);
    List<EngineResult> results = answer(model, set);

    for (int i = 0; i < set.questions().size(); i++) {
      HeldOutQuestion q = set.questions().get(i);
      EngineResult r = results.get(i);
      String where = model + " question " + i + " (" + q.request().instruction() + ")";
      assertEquals(q.expectedText(), r.text(), where);
      if (q.isChoice()) {
        List<String> order = new ArrayList<>();
        for (RankedCandidate c : r.candidates()) {
          order.add(c.text());
        }
        assertEquals(q.expectedRanking(), order, where);
      } else {
        assertEquals(q.expectedTokenIds(), r.tokenIds(), where);
      }
    }

    Map<String, Double> accuracy = set.score(results).accuracyByTask();
    System.out.println(model + " held-out accuracy (Java fp32): " + accuracy);
    assertEquals(TASKS, accuracy.keySet(), "every task type asked");
    for (Map.Entry<String, Double> e : accuracy.entrySet()) {
      String task = e.getKey();
      double reference = set.referenceAccuracy().get(task);
      assertEquals(
          reference, e.getValue(), 1e-3, model + " " + task + " accuracy vs the reference");
      Double floor = FLOORS.get(model).get(task);
      assertTrue(
          floor == null || e.getValue() >= floor,
          model + " " + task + " accuracy " + e.getValue() + " is below " + floor);
    }
  }

  @Test
  void float16ScoresWithinOnePointOfFloat32() throws IOException {
    HeldOutSet set = HeldOutSet.ofModel(ModelFixtures.root(), "demo-vicuna");
    Map<String, Double> accuracy = set.score(answer("demo-vicuna-fp16", set)).accuracyByTask();
    System.out.println("demo-vicuna held-out accuracy (Java fp16): " + accuracy);
    double float32 = set.referenceAccuracy().get(AccuracyTable.ALL);
    assertEquals(float32, accuracy.get("all"), 0.01, "fp16 vs fp32 accuracy over all questions");
  }

  /**
   * The engine's answers (in order) to the held-out questions, on the fixture model {@code model}.
   */
  private static List<EngineResult> answer(String model, HeldOutSet set) {
    try (InstructBlipEngine engine =
        InstructBlipEngine.open(EngineConfig.builder(ModelFixtures.modelDir(model)).build())) {
      return set.results(engine.infer(set.requests()));
    }
  }
}
