package io.instructblip.engine.eval;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.instructblip.engine.api.EngineFailure;
import io.instructblip.engine.api.EngineRequest;
import io.instructblip.engine.api.EngineResult;
import io.instructblip.engine.api.ErrorCode;
import io.instructblip.engine.api.GenerationOverrides;
import io.instructblip.engine.api.TaskMode;
import io.instructblip.engine.eval.AccuracyTable.Row;
import io.instructblip.engine.generate.FinishReason;
import io.instructblip.engine.model.ModelFixtures;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.IdentityHashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.function.Consumer;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@link HeldOutSet} on the committed golden file of demo-vicuna and on small hand-made files (one
 * defect each), and {@link AccuracyTable}'s arithmetic on a hand-made list of answers.
 */
class HeldOutSetTest {
  private static final ObjectMapper JSON = new ObjectMapper();

  /** {@code export.py eval-demo}'s generation settings: greedy, short answers. */
  private static final GenerationOverrides GREEDY =
      GenerationOverrides.builder()
          .numBeams(1)
          .maxNewTokens(20)
          .minNewTokens(1)
          .repetitionPenalty(1.0)
          .lengthPenalty(1.0)
          .build();

  @TempDir Path dir;

  @Test
  void readsTheDemoVicunaHeldOutFile() throws IOException {
    Path fixtures = ModelFixtures.root();
    HeldOutSet set = HeldOutSet.ofModel(fixtures, "demo-vicuna");
    JsonNode raw =
        JSON.readTree(fixtures.resolve("golden/demo-vicuna/heldout.json").toFile())
            .get("questions");

    assertEquals("demo-vicuna", set.model());
    assertEquals(GREEDY, set.generation());
    assertEquals(360, set.questions().size(), "60 scenes, 6 questions each");
    assertEquals(Set.copyOf(AccuracyTable.ROWS), set.referenceAccuracy().keySet());
    Set<String> tasks = new HashSet<>();
    Map<byte[], Boolean> images = new IdentityHashMap<>();
    for (int i = 0; i < set.questions().size(); i++) {
      HeldOutQuestion q = set.questions().get(i);
      JsonNode r = raw.get(i);
      EngineRequest request = q.request();
      assertEquals("q" + i, request.id());
      assertEquals(r.get("instruction").asText(), request.instruction());
      assertEquals(r.get("task").asText(), q.task());
      assertEquals(r.get("held_out_template").asBoolean(), q.heldOutTemplate());
      assertEquals(r.get("answer").asText(), q.answer());
      assertEquals(r.get("expected").get("text").asText(), q.expectedText());
      assertEquals(1, request.images().size());
      assertArrayEquals(
          Files.readAllBytes(fixtures.resolve(r.get("image").asText())), request.images().get(0));
      images.put(request.images().get(0), true);
      tasks.add(q.task());
      if (q.task().equals("choice")) {
        assertTrue(q.isChoice());
        assertEquals(TaskMode.RANK, request.mode(), "question " + i);
        assertEquals(texts(r.get("candidates")), request.candidates());
        assertEquals(GenerationOverrides.NONE, request.overrides());
        assertEquals(texts(r.get("expected").get("ranked")), q.expectedRanking());
        assertEquals(Set.copyOf(request.candidates()), Set.copyOf(q.expectedRanking()));
        assertEquals(q.expectedRanking().get(0), q.expectedText());
        assertEquals(List.of(), q.expectedTokenIds());
      } else {
        assertFalse(q.isChoice());
        assertEquals(TaskMode.GENERATE, request.mode(), "question " + i);
        assertEquals(List.of(), request.candidates());
        assertEquals(GREEDY, request.overrides());
        List<Integer> ids = new ArrayList<>();
        r.get("expected").get("token_ids").forEach(t -> ids.add(t.asInt()));
        assertEquals(ids, q.expectedTokenIds());
        assertEquals(List.of(), q.expectedRanking());
      }
    }
    assertEquals(Set.copyOf(HeldOutSet.TASK_TYPES), tasks, "every task type asked");
    assertEquals(60, images.size(), "one image per scene, read once");
  }

  @Test
  void scoresPerTaskTypeAndTemplate() {
    List<HeldOutQuestion> questions =
        List.of(
            question("colour", false, "red", "red"),
            question("colour", true, "blue", "green"),
            question("colour", true, "blue", "blue"),
            question("count", false, "2", "2"),
            question("choice", false, "a", "a"));
    AccuracyTable table = AccuracyTable.score(questions, List.of("red", "green", "blue", "3", "a"));

    assertEquals(AccuracyTable.ROWS, List.copyOf(table.rows().keySet()));
    assertEquals(new Row(3, 2, 1, 1, 2, 1, 3), table.row("colour"));
    assertEquals(new Row(1, 0, 1, 0, 0, 0, 0), table.row("count"));
    assertEquals(new Row(1, 1, 1, 1, 0, 0, 1), table.row("choice"));
    assertEquals(new Row(0, 0, 0, 0, 0, 0, 0), table.row("caption"));
    assertEquals(new Row(5, 3, 3, 2, 2, 1, 4), table.row(AccuracyTable.ALL));
    assertEquals(2.0 / 3, table.row("colour").accuracy());
    assertEquals(1.0, table.row("colour").seenAccuracy());
    assertEquals(0.5, table.row("colour").heldOutAccuracy());
    assertEquals(0.6, table.row("all").accuracy());
    assertEquals(2.0 / 3, table.row("all").seenAccuracy());
    assertEquals(Double.NaN, table.row("count").heldOutAccuracy());
    assertEquals(Double.NaN, table.row("caption").accuracy());
    Map<String, Double> accuracy = new LinkedHashMap<>();
    accuracy.put("colour", 2.0 / 3);
    accuracy.put("count", 0.0);
    accuracy.put("choice", 1.0);
    accuracy.put("all", 0.6);
    assertEquals(accuracy, table.accuracyByTask());
    assertEquals(List.copyOf(accuracy.keySet()), List.copyOf(table.accuracyByTask().keySet()));

    assertEquals(
        "4 answers to 5 questions",
        assertThrows(
                IllegalArgumentException.class,
                () -> AccuracyTable.score(questions, List.of("red", "green", "blue", "3")))
            .getMessage());
    assertEquals(
        "question 0 has the task type 'shape'; the task types are"
            + " [caption, colour, count, position, yesno, choice]",
        assertThrows(
                IllegalArgumentException.class,
                () ->
                    AccuracyTable.score(List.of(question("shape", false, "x", "x")), List.of("x")))
            .getMessage());
    assertEquals(
        "no row 'shape'; the rows are [caption, colour, count, position, yesno, choice, all]",
        assertThrows(IllegalArgumentException.class, () -> table.row("shape")).getMessage());
  }

  @Test
  void readsAHandMadeFile() throws IOException {
    HeldOutSet set = HeldOutSet.read(write(small()), dir);

    assertEquals("demo-test", set.model());
    assertEquals(GREEDY, set.generation());
    assertEquals(Map.of("colour", 1.0, "choice", 0.0, "all", 0.5), nonNaN(set.referenceAccuracy()));
    assertEquals(Double.NaN, set.referenceAccuracy().get("caption"));
    HeldOutQuestion colour = set.questions().get(0);
    HeldOutQuestion choice = set.questions().get(1);
    assertEquals(
        new EngineRequest(
            "q0",
            colour.request().images(),
            "What colour is the circle?",
            TaskMode.GENERATE,
            List.of(),
            GREEDY),
        colour.request());
    assertEquals(List.of(5, 6), colour.expectedTokenIds());
    assertEquals(TaskMode.RANK, choice.request().mode());
    assertEquals(List.of("red", "blue"), choice.request().candidates());
    assertEquals(List.of("blue", "red"), choice.expectedRanking());
    assertTrue(choice.heldOutTemplate());
    assertSame(colour.request().images().get(0), choice.request().images().get(0));
    assertArrayEquals(new byte[] {1, 2, 3}, colour.request().images().get(0));
  }

  @Test
  void scoresTheEnginesResultsAndRefusesAFailedQuestion() throws IOException {
    HeldOutSet set = HeldOutSet.read(write(small()), dir);
    EngineResult red = result("q0", "red");
    EngineResult blue = result("q1", "blue");

    assertEquals(List.of(red, blue), set.results(List.of(red, blue)));
    assertEquals(new Row(2, 1, 1, 1, 1, 0, 2), set.score(List.of(red, blue)).row("all"));
    assertEquals(
        "demo-test question 1 (Is the circle red or blue?) failed: INVALID_REQUEST no candidates",
        assertThrows(
                IllegalStateException.class,
                () ->
                    set.results(
                        List.of(
                            red,
                            new EngineFailure(
                                "q1", ErrorCode.INVALID_REQUEST, "no candidates", null))))
            .getMessage());
    assertEquals(
        "1 outcomes to 2 questions",
        assertThrows(IllegalArgumentException.class, () -> set.results(List.of(red))).getMessage());
  }

  @Test
  void refusesAMissingFileOrOneThatIsNotJson() throws IOException {
    Path missing = dir.resolve("golden/none/heldout.json");
    assertEquals(
        "held-out file " + missing + " is missing; export.py eval-demo writes it",
        refusal(missing));
    Path notJson = Files.writeString(dir.resolve("heldout.json"), "{\"model\": ");
    assertTrue(
        refusal(notJson).startsWith("held-out file " + notJson + " is not JSON: "),
        refusal(notJson));
  }

  @Test
  void refusesAFileWithADefectNamingTheFileAndTheDefect() throws IOException {
    assertDefect(
        f -> f.remove("questions"), "the file has no 'questions' (format: export.py eval-demo)");
    assertDefect(
        f -> question(f, 1).remove("instruction"),
        "question 1 has no 'instruction' (format: export.py eval-demo)");
    assertDefect(
        f -> question(f, 0).put("task", "shape"),
        "question 0 has the task type 'shape'; the task types are"
            + " [caption, colour, count, position, yesno, choice] (format: export.py eval-demo)");
    assertDefect(
        f -> question(f, 0).put("held_out_template", "no"),
        "question 0 'held_out_template' must be true or false, found \"no\""
            + " (format: export.py eval-demo)");
    assertDefect(
        f -> question(f, 1).putArray("candidates"),
        "question 1 'candidates' must be a non-empty array of texts, found []"
            + " (format: export.py eval-demo)");
    assertDefect(
        f -> ((ObjectNode) question(f, 0).get("expected")).putArray("token_ids").add("x"),
        "question 0 'expected' 'token_ids' must be an array of integers, found [\"x\"]"
            + " (format: export.py eval-demo)");
    assertDefect(
        f -> question(f, 1).put("image", "demo-heldout/scene-999.jpg"),
        "question 1 names the image demo-heldout/scene-999.jpg, which is not in "
            + dir
            + " (format: export.py eval-demo)");
    assertDefect(
        f -> ((ObjectNode) f.get("generation")).put("num_beams", 1.5),
        "'generation': generation parameter 'num_beams' must be of type int, found 1.5"
            + " (format: export.py eval-demo)");
    assertDefect(
        f -> ((ObjectNode) f.get("accuracy").get("colour")).put("questions", 2),
        "'accuracy' row 'colour' counts 2 questions, the file has 1 (format: export.py eval-demo)");
  }

  private void assertDefect(Consumer<ObjectNode> defect, String message) throws IOException {
    ObjectNode file = small();
    defect.accept(file);
    Path path = write(file);
    assertEquals("held-out file " + path + ": " + message, refusal(path));
  }

  private String refusal(Path file) {
    return assertThrows(IllegalArgumentException.class, () -> HeldOutSet.read(file, dir))
        .getMessage();
  }

  /**
   * A valid held-out file of two questions on one image: a generated colour answer (training
   * template) and a choice question (held-out template).
   */
  private ObjectNode small() throws IOException {
    Files.createDirectories(dir.resolve("demo-heldout"));
    Files.write(dir.resolve("demo-heldout/scene-000.jpg"), new byte[] {1, 2, 3});
    ObjectNode file = JSON.createObjectNode().put("model", "demo-test");
    file.putObject("generation")
        .put("num_beams", 1)
        .put("max_new_tokens", 20)
        .put("min_new_tokens", 1)
        .put("repetition_penalty", 1.0)
        .put("length_penalty", 1.0);
    ObjectNode accuracy = file.putObject("accuracy");
    for (String row : AccuracyTable.ROWS) {
      int n = row.equals("all") ? 2 : row.equals("colour") || row.equals("choice") ? 1 : 0;
      ObjectNode r = accuracy.putObject(row).put("questions", n);
      switch (row) {
        case "colour" -> r.put("accuracy", 1.0);
        case "choice" -> r.put("accuracy", 0.0);
        case "all" -> r.put("accuracy", 0.5);
        default -> r.putNull("accuracy");
      }
    }
    ArrayNode questions = file.putArray("questions");
    ObjectNode colour =
        questions
            .addObject()
            .put("image", "demo-heldout/scene-000.jpg")
            .put("task", "colour")
            .put("held_out_template", false)
            .put("instruction", "What colour is the circle?")
            .put("answer", "red");
    colour.putObject("expected").put("text", "red").putArray("token_ids").add(5).add(6);
    ObjectNode choice =
        questions
            .addObject()
            .put("image", "demo-heldout/scene-000.jpg")
            .put("task", "choice")
            .put("held_out_template", true)
            .put("instruction", "Is the circle red or blue?")
            .put("answer", "red");
    choice.putArray("candidates").add("red").add("blue");
    choice.putObject("expected").put("text", "blue").putArray("ranked").add("blue").add("red");
    return file;
  }

  private Path write(ObjectNode file) throws IOException {
    Path path = dir.resolve("golden/demo-test/heldout.json");
    Files.createDirectories(path.getParent());
    JSON.writeValue(path.toFile(), file);
    return path;
  }

  private static ObjectNode question(ObjectNode file, int index) {
    return (ObjectNode) file.get("questions").get(index);
  }

  private static HeldOutQuestion question(
      String task, boolean heldOut, String answer, String expected) {
    return new HeldOutQuestion(
        EngineRequest.generate("q", List.of(), "?"),
        task,
        heldOut,
        answer,
        expected,
        List.of(),
        List.of());
  }

  private static EngineResult result(String id, String text) {
    return new EngineResult(id, text, List.of(), FinishReason.EOS, List.of(), null, null, null);
  }

  private static List<String> texts(JsonNode array) {
    List<String> texts = new ArrayList<>();
    array.forEach(t -> texts.add(t.asText()));
    return texts;
  }

  private static Map<String, Double> nonNaN(Map<String, Double> accuracy) {
    Map<String, Double> known = new LinkedHashMap<>();
    accuracy.forEach(
        (k, v) -> {
          if (!v.isNaN()) {
            known.put(k, v);
          }
        });
    return known;
  }
}
