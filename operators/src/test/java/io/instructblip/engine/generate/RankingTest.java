package io.instructblip.engine.generate;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import io.instructblip.engine.api.EngineException;
import io.instructblip.engine.api.ErrorCode;
import java.util.List;
import org.junit.jupiter.api.Test;

class RankingTest {

  @Test
  void sumsTheLogSoftmaxOfEachTargetUnderTeacherForcing() {
    float[][] logits = {
      {0f, 0f, 0f, 0f}, // log(1/4)
      {2f, 0f, 0f, 0f} // target 0: 2 - log(e^2 + 3)
    };
    RankedCandidate c = Ranking.score(0, "yes", List.of(1, 0), logits);
    double expected = -Math.log(4) + 2 - Math.log(Math.exp(2) + 3);
    assertEquals(expected, c.sumLogprob(), 1e-12);
    assertEquals(expected / 2, c.meanLogprob(), 1e-12);
    assertEquals(List.of(1, 0), c.tokenIds());
    assertEquals("yes", c.text());
  }

  @Test
  void isStableForLargeLogits() {
    float[][] logits = {{1000f, 1000f, -1000f}};
    RankedCandidate c = Ranking.score(0, "a", List.of(0), logits);
    assertEquals(-Math.log(2), c.sumLogprob(), 1e-12);
    assertEquals(1000 + Math.log(2), LogProbs.logSumExp(logits[0], 0, 3), 1e-9);
  }

  @Test
  void readsRowsFromAFlatBatchBuffer() {
    // [B=1, T=3, V=3]; the candidate's rows start at position 1
    float[] flat = {9f, 9f, 9f, 0f, 0f, 0f, 1f, 0f, 0f};
    RankedCandidate c = Ranking.score(2, "no", List.of(2, 0), flat, 3, 3);
    double expected = -Math.log(3) + 1 - Math.log(Math.E + 2);
    assertEquals(expected, c.sumLogprob(), 1e-12);
    assertEquals(
        c, Ranking.score(2, "no", List.of(2, 0), new float[][] {{0f, 0f, 0f}, {1f, 0f, 0f}}));
  }

  @Test
  void sortsBySumBestFirstAndKeepsTheInputOrderOnTies() {
    List<RankedCandidate> input =
        List.of(
            new RankedCandidate(0, "a", List.of(1), -3.0, -3.0),
            new RankedCandidate(1, "b", List.of(1, 2), -1.0, -0.5),
            new RankedCandidate(2, "c", List.of(3), -3.0, -3.0),
            new RankedCandidate(3, "d", List.of(4, 5, 6), -2.0, -0.667));
    assertEquals(
        List.of("b", "d", "a", "c"),
        Ranking.sortBestFirst(input).stream().map(RankedCandidate::text).toList());
  }

  @Test
  void refusesEmptyCandidatesBadIdsAndMismatchedRows() {
    EngineException empty =
        assertThrows(EngineException.class, () -> Ranking.score(0, "", List.of(), new float[0][0]));
    assertEquals(ErrorCode.INVALID_PARAMETER, empty.code());
    assertEquals(
        "candidate \"\" has no tokens to score: give a non-empty candidate (or a model whose"
            + " manifest sets ranking.append_eos)",
        empty.getMessage());

    EngineException id =
        assertThrows(
            EngineException.class,
            () -> Ranking.score(0, "x", List.of(5), new float[][] {{0f, 0f}}));
    assertEquals("candidate token id 5 is outside the vocabulary [0, 2)", id.getMessage());

    EngineException rows =
        assertThrows(
            EngineException.class,
            () -> Ranking.score(0, "x", List.of(1, 1), new float[][] {{0f, 0f}}));
    assertEquals(ErrorCode.INTERNAL, rows.code());
    assertEquals("ranking needs one logits row per target id: 2 ids, 1 rows", rows.getMessage());

    EngineException flat =
        assertThrows(
            EngineException.class, () -> Ranking.score(0, "x", List.of(1, 1), new float[5], 0, 3));
    assertEquals(
        "ranking logits buffer of 5 floats cannot hold 2 rows of 3 from offset 0",
        flat.getMessage());
  }
}
