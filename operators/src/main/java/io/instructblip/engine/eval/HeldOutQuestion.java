package io.instructblip.engine.eval;

import io.instructblip.engine.api.EngineRequest;
import io.instructblip.engine.api.TaskMode;
import java.util.List;
import java.util.Objects;

/**
 * One question of a held-out file ({@link HeldOutSet}): the engine request that asks it, what kind
 * of question it is, the true answer and the PyTorch reference's answer.
 *
 * @param request a greedy {@link TaskMode#GENERATE} request with the file's generation settings, or
 *     a {@link TaskMode#RANK} request over the question's candidates (a choice question); ids
 *     {@code q0, q1, ...} in file order
 * @param task the task type, one of {@link HeldOutSet#TASK_TYPES}
 * @param heldOutTemplate whether the instruction is in a template the model was not trained on
 * @param answer the true answer
 * @param expectedText the reference's answer (for a choice question its best candidate)
 * @param expectedTokenIds the reference's generated token ids; empty for a choice question
 * @param expectedRanking the reference's ranking of the candidates, best first; empty for a
 *     generated answer
 */
public record HeldOutQuestion(
    EngineRequest request,
    String task,
    boolean heldOutTemplate,
    String answer,
    String expectedText,
    List<Integer> expectedTokenIds,
    List<String> expectedRanking) {

  public HeldOutQuestion {
    Objects.requireNonNull(request, "request");
    Objects.requireNonNull(task, "task");
    Objects.requireNonNull(answer, "answer");
    Objects.requireNonNull(expectedText, "expectedText");
    expectedTokenIds = List.copyOf(expectedTokenIds);
    expectedRanking = List.copyOf(expectedRanking);
  }

  /** Whether the model answers by ranking candidates rather than by generating. */
  public boolean isChoice() {
    return request.mode() == TaskMode.RANK;
  }
}
