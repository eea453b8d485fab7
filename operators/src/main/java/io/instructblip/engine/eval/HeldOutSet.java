package io.instructblip.engine.eval;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.instructblip.engine.api.EngineFailure;
import io.instructblip.engine.api.EngineOutcome;
import io.instructblip.engine.api.EngineRequest;
import io.instructblip.engine.api.EngineResult;
import io.instructblip.engine.api.GenerationOverrides;
import io.instructblip.engine.api.TaskMode;
import io.instructblip.engine.model.GenerationParametersJson;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * The held-out set of a demo model, as {@code export.py eval-demo} wrote it ({@code
 * fixtures/golden/<model>/heldout.json}, image paths relative to the fixtures folder): its
 * questions as engine requests with the true and the reference's answers, the generation settings
 * they are asked with, and the reference's accuracy per task type.
 *
 * <pre>{@code
 * HeldOutSet set = HeldOutSet.read(fixtures.resolve("golden/demo-vicuna/heldout.json"), fixtures);
 * List<EngineResult> results = set.results(engine.infer(set.requests()));
 * AccuracyTable table = set.score(results);
 * }</pre>
 *
 * @param model the model the reference answers are of (the file's {@code model})
 * @param generation the settings of the generated answers (greedy, short), from the file
 * @param referenceAccuracy the reference's accuracy per {@link AccuracyTable#ROWS row} ({@code NaN}
 *     where it had no question)
 * @param questions the questions in file order
 */
public record HeldOutSet(
    String model,
    GenerationOverrides generation,
    Map<String, Double> referenceAccuracy,
    List<HeldOutQuestion> questions) {

  /** The task types of the demo task, in {@code eval-demo}'s order. */
  public static final List<String> TASK_TYPES =
      List.of("caption", "colour", "count", "position", "yesno", "choice");

  private static final ObjectMapper JSON = new ObjectMapper();

  public HeldOutSet {
    referenceAccuracy = Map.copyOf(referenceAccuracy);
    questions = List.copyOf(questions);
  }

  /** The held-out set of {@code model} among the fixtures: {@code golden/<model>/heldout.json}. */
  public static HeldOutSet ofModel(Path fixtures, String model) throws IOException {
    return read(fixtures.resolve("golden").resolve(model).resolve("heldout.json"), fixtures);
  }

  /**
   * Reads a held-out file and the images it names.
   *
   * @param file a golden file of {@code export.py eval-demo}
   * @param fixtures the folder its image paths are relative to
   * @throws IllegalArgumentException naming the file and what is wrong: missing, not JSON, a
   *     missing or mistyped field, an unknown task type, an image that is not there, an accuracy
   *     table that does not count the file's questions
   * @throws IOException when a file cannot be read
   */
  public static HeldOutSet read(Path file, Path fixtures) throws IOException {
    if (!Files.isRegularFile(file)) {
      throw new IllegalArgumentException(
          "held-out file " + file + " is missing; export.py eval-demo writes it");
    }
    JsonNode root;
    try {
      root = JSON.readTree(file.toFile());
    } catch (JsonProcessingException e) {
      throw new IllegalArgumentException(
          "held-out file " + file + " is not JSON: " + e.getOriginalMessage(), e);
    }
    return new Reader(file, fixtures).read(root);
  }

  /** The questions' requests, in order (ids {@code q0, q1, ...}). */
  public List<EngineRequest> requests() {
    return questions.stream().map(HeldOutQuestion::request).toList();
  }

  /**
   * The engine's answers to {@link #requests()}, given its outcomes in the same order.
   *
   * @throws IllegalStateException when the engine failed a question (naming it, its code and
   *     message): a held-out question is always answerable
   * @throws IllegalArgumentException when there are not as many outcomes as questions
   */
  public List<EngineResult> results(List<EngineOutcome> outcomes) {
    if (outcomes.size() != questions.size()) {
      throw new IllegalArgumentException(
          outcomes.size() + " outcomes to " + questions.size() + " questions");
    }
    List<EngineResult> results = new ArrayList<>();
    for (int i = 0; i < outcomes.size(); i++) {
      if (outcomes.get(i) instanceof EngineFailure f) {
        throw new IllegalStateException(
            model
                + " question "
                + i
                + " ("
                + questions.get(i).request().instruction()
                + ") failed: "
                + f.code()
                + " "
                + f.message());
      }
      results.add((EngineResult) outcomes.get(i));
    }
    return results;
  }

  /** Scores the engine's answers to the questions ({@link #results}, in order). */
  public AccuracyTable score(List<EngineResult> results) {
    return AccuracyTable.score(questions, results.stream().map(EngineResult::text).toList());
  }

  /** Parses one file; every message names the file and, where it applies, the question. */
  private static final class Reader {
    private final Path file;
    private final Path fixtures;
    private final Map<String, byte[]> images = new HashMap<>();

    Reader(Path file, Path fixtures) {
      this.file = file;
      this.fixtures = fixtures;
    }

    HeldOutSet read(JsonNode root) throws IOException {
      if (!root.isObject()) {
        throw bad("the file", "must be a JSON object, found " + root.getNodeType());
      }
      String model = text(root, "model", "the file");
      GenerationOverrides greedy;
      try {
        greedy = GenerationParametersJson.overrides(root.get("generation"));
      } catch (IllegalArgumentException e) {
        throw bad("'generation':", e.getMessage());
      }
      JsonNode list = field(root, "questions", "the file");
      if (!list.isArray() || list.isEmpty()) {
        throw bad("'questions'", "must be a non-empty array");
      }
      List<HeldOutQuestion> questions = new ArrayList<>();
      for (JsonNode q : list) {
        questions.add(question(q, "question " + questions.size(), questions.size(), greedy));
      }
      return new HeldOutSet(model, greedy, referenceAccuracy(root, questions), questions);
    }

    private HeldOutQuestion question(
        JsonNode q, String where, int index, GenerationOverrides greedy) throws IOException {
      String task = text(q, "task", where);
      if (!TASK_TYPES.contains(task)) {
        throw bad(where, "has the task type '" + task + "'; the task types are " + TASK_TYPES);
      }
      JsonNode heldOut = field(q, "held_out_template", where);
      if (!heldOut.isBoolean()) {
        throw bad(where, "'held_out_template' must be true or false, found " + heldOut);
      }
      String instruction = text(q, "instruction", where);
      JsonNode expected = field(q, "expected", where);
      String expectedText = text(expected, "text", where + " 'expected'");
      boolean choice = q.has("candidates");
      List<String> candidates = choice ? texts(q, "candidates", where) : List.of();
      List<String> ranking = choice ? texts(expected, "ranked", where + " 'expected'") : List.of();
      List<Integer> tokenIds = choice ? List.of() : tokenIds(expected, where + " 'expected'");
      EngineRequest request =
          new EngineRequest(
              "q" + index,
              List.of(image(text(q, "image", where), where)),
              instruction,
              choice ? TaskMode.RANK : TaskMode.GENERATE,
              candidates,
              choice ? GenerationOverrides.NONE : greedy);
      return new HeldOutQuestion(
          request,
          task,
          heldOut.booleanValue(),
          text(q, "answer", where),
          expectedText,
          tokenIds,
          ranking);
    }

    /** The image at {@code relative}, read once however many questions show it. */
    private byte[] image(String relative, String where) throws IOException {
      byte[] bytes = images.get(relative);
      if (bytes == null) {
        Path path = fixtures.resolve(relative);
        if (!Files.isRegularFile(path)) {
          throw bad(where, "names the image " + relative + ", which is not in " + fixtures);
        }
        bytes = Files.readAllBytes(path);
        images.put(relative, bytes);
      }
      return bytes;
    }

    /** The reference's accuracy per row, checked to count the questions the file holds. */
    private Map<String, Double> referenceAccuracy(JsonNode root, List<HeldOutQuestion> questions) {
      JsonNode table = field(root, "accuracy", "the file");
      Map<String, Double> accuracy = new LinkedHashMap<>();
      for (String row : AccuracyTable.ROWS) {
        String where = "'accuracy' row '" + row + "'";
        JsonNode r = field(table, row, "'accuracy'");
        JsonNode count = field(r, "questions", where);
        long asked =
            questions.stream()
                .filter(q -> row.equals(AccuracyTable.ALL) || row.equals(q.task()))
                .count();
        if (!count.isIntegralNumber() || count.asLong() != asked) {
          throw bad(where, "counts " + count + " questions, the file has " + asked);
        }
        JsonNode value = field(r, "accuracy", where);
        if (!value.isNumber() && !value.isNull()) {
          throw bad(where, "'accuracy' must be a number or null, found " + value);
        }
        accuracy.put(row, value.isNull() ? Double.NaN : value.asDouble());
      }
      return accuracy;
    }

    private List<String> texts(JsonNode node, String name, String where) {
      JsonNode array = field(node, name, where);
      List<String> texts = new ArrayList<>();
      if (array.isArray()) {
        array.forEach(t -> texts.add(t.isTextual() ? t.asText() : null));
      }
      if (texts.isEmpty() || texts.contains(null)) {
        throw bad(where, "'" + name + "' must be a non-empty array of texts, found " + array);
      }
      return texts;
    }

    private List<Integer> tokenIds(JsonNode expected, String where) {
      JsonNode array = field(expected, "token_ids", where);
      if (!array.isArray()) {
        throw bad(where, "'token_ids' must be an array of integers, found " + array);
      }
      List<Integer> ids = new ArrayList<>();
      for (JsonNode t : array) {
        if (!t.isIntegralNumber() || !t.canConvertToInt()) {
          throw bad(where, "'token_ids' must be an array of integers, found " + array);
        }
        ids.add(t.intValue());
      }
      return ids;
    }

    private String text(JsonNode node, String name, String where) {
      JsonNode value = field(node, name, where);
      if (!value.isTextual()) {
        throw bad(where, "'" + name + "' must be a text, found " + value);
      }
      return value.asText();
    }

    private JsonNode field(JsonNode node, String name, String where) {
      JsonNode value = node.get(name);
      if (value == null) {
        throw bad(where, "has no '" + name + "'");
      }
      return value;
    }

    private IllegalArgumentException bad(String where, String what) {
      return new IllegalArgumentException(
          "held-out file " + file + ": " + where + " " + what + " (format: export.py eval-demo)");
    }
  }
}
