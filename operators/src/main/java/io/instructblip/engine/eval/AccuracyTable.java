package io.instructblip.engine.eval;

import java.util.ArrayList;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Answers to held-out questions scored as {@code export.py eval-demo} scores them: an answer is
 * right when it equals the true answer exactly (for a choice question, the best-ranked candidate),
 * per task type and over all questions ({@link #ALL}), split by training and held-out templates,
 * with how many answers are the PyTorch reference's own.
 *
 * @param rows one row per entry of {@link #ROWS}, in that order
 */
public record AccuracyTable(Map<String, Row> rows) {

  /** The row over every question. */
  public static final String ALL = "all";

  /** The rows: the task types in {@code eval-demo}'s order, then {@link #ALL}. */
  public static final List<String> ROWS = rowNames();

  /**
   * The score of one task type (or of all questions).
   *
   * @param questions questions of this type
   * @param right answers equal to the true answer
   * @param seenQuestions questions in training templates
   * @param seenRight right answers among them
   * @param heldOutQuestions questions in held-out templates
   * @param heldOutRight right answers among them
   * @param sameAsReference answers equal to the reference's answer
   */
  public record Row(
      int questions,
      int right,
      int seenQuestions,
      int seenRight,
      int heldOutQuestions,
      int heldOutRight,
      int sameAsReference) {

    /** The share of right answers ({@code NaN} without questions). */
    public double accuracy() {
      return share(right, questions);
    }

    /** The share of right answers in training templates ({@code NaN} without such questions). */
    public double seenAccuracy() {
      return share(seenRight, seenQuestions);
    }

    /** The share of right answers in held-out templates ({@code NaN} without such questions). */
    public double heldOutAccuracy() {
      return share(heldOutRight, heldOutQuestions);
    }

    private Row plus(boolean isRight, boolean heldOut, boolean asReference) {
      int r = isRight ? 1 : 0;
      return new Row(
          questions + 1,
          right + r,
          seenQuestions + (heldOut ? 0 : 1),
          seenRight + (heldOut ? 0 : r),
          heldOutQuestions + (heldOut ? 1 : 0),
          heldOutRight + (heldOut ? r : 0),
          sameAsReference + (asReference ? 1 : 0));
    }

    private static double share(int part, int whole) {
      return whole == 0 ? Double.NaN : (double) part / whole;
    }
  }

  public AccuracyTable {
    rows = Collections.unmodifiableMap(new LinkedHashMap<>(rows));
  }

  /**
   * Scores {@code answers}, the answer texts to {@code questions} in the same order.
   *
   * @throws IllegalArgumentException when there are not as many answers as questions, or a question
   *     has a task type that is no {@link HeldOutSet#TASK_TYPES task type}
   */
  public static AccuracyTable score(List<HeldOutQuestion> questions, List<String> answers) {
    if (questions.size() != answers.size()) {
      throw new IllegalArgumentException(
          answers.size() + " answers to " + questions.size() + " questions");
    }
    Map<String, Row> rows = new LinkedHashMap<>();
    ROWS.forEach(task -> rows.put(task, new Row(0, 0, 0, 0, 0, 0, 0)));
    for (int i = 0; i < questions.size(); i++) {
      HeldOutQuestion q = questions.get(i);
      if (!HeldOutSet.TASK_TYPES.contains(q.task())) {
        throw new IllegalArgumentException(
            "question "
                + i
                + " has the task type '"
                + q.task()
                + "'; the task types are "
                + HeldOutSet.TASK_TYPES);
      }
      String answer = answers.get(i);
      boolean right = answer.equals(q.answer());
      boolean asReference = answer.equals(q.expectedText());
      for (String task : List.of(q.task(), ALL)) {
        rows.put(task, rows.get(task).plus(right, q.heldOutTemplate(), asReference));
      }
    }
    return new AccuracyTable(rows);
  }

  /** The row of a task type or of {@link #ALL}. */
  public Row row(String task) {
    Row row = rows.get(task);
    if (row == null) {
      throw new IllegalArgumentException("no row '" + task + "'; the rows are " + ROWS);
    }
    return row;
  }

  /** The accuracy of every row that has questions, in {@link #ROWS} order. */
  public Map<String, Double> accuracyByTask() {
    Map<String, Double> accuracy = new LinkedHashMap<>();
    rows.forEach(
        (task, row) -> {
          if (row.questions() > 0) {
            accuracy.put(task, row.accuracy());
          }
        });
    return accuracy;
  }

  private static List<String> rowNames() {
    List<String> rows = new ArrayList<>(HeldOutSet.TASK_TYPES);
    rows.add(ALL);
    return List.copyOf(rows);
  }
}
