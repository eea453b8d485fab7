package io.instructblip.engine.generate;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.Arrays;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/**
 * Beam search on hand-checked cases: the fake model's logits are {@code log(p)}, so each step's
 * log-probabilities are the logs of the probabilities written here and the sums can be followed by
 * hand (comments give them to 3 decimals).
 */
class BeamSearchTest {
  private static final int EOS = 3;
  private static final double TOLERANCE = 1e-6;

  private static GenerationParams.Builder beams(int k) {
    return GenerationParams.builder()
        .eosTokenIds(EOS)
        .numBeams(k)
        .repetitionPenalty(1.0)
        .minNewTokens(0)
        .lengthPenalty(1.0)
        .maxNewTokens(10);
  }

  /** A model given by a table from generated ids (as Arrays.toString) to probabilities. */
  private static FakeModel table(Map<String, double[]> probabilities, double... otherwise) {
    return generated ->
        FakeModel.probabilities(probabilities.getOrDefault(Arrays.toString(generated), otherwise));
  }

  private static double ln(double p) {
    return Math.log(p);
  }

  /**
   * K = 2, V = 4, EOS = 3, max 3 new tokens.
   *
   * <pre>
   * step 1 from []:      p = .1 .5 .3 .1   -> beams [1] -0.693, [2] -1.204 (0 and EOS tie at -2.303)
   * step 2 from [1]:     p = .2 .2 .2 .4   -> [1]+EOS -1.609 (rank 1: finished, n = 2, -0.805)
   *        from [2]:     p = .7 .1 .1 .1   -> [2,0] -1.561 (rank 0), [1,0] -2.303 (rank 2)
   * step 3 from [2,0]:   p = .1 .1 .1 .7   -> [2,0]+EOS -1.918 (rank 0: finished, n = 3, -0.639)
   *        from [1,0]:   p = .6 .2 .1 .1   -> [1,0,0] -2.813, then [2,0,0] -3.863
   * max reached: [1,0,0] -0.938 and [2,0,0] -1.288 cannot enter {-0.639, -0.805}
   * </pre>
   */
  private static final FakeModel HAND_CHECKED =
      table(
          Map.of(
              "[]", new double[] {.1, .5, .3, .1},
              "[1]", new double[] {.2, .2, .2, .4},
              "[2]", new double[] {.7, .1, .1, .1},
              "[2, 0]", new double[] {.1, .1, .1, .7},
              "[1, 0]", new double[] {.6, .2, .1, .1}),
          .25,
          .25,
          .25,
          .25);

  @Test
  void followsTheHandCheckedCaseStepByStep() {
    Search search = Search.create(beams(2).maxNewTokens(3).build());
    assertInstanceOf(BeamSearch.class, search);
    assertEquals(1, search.rows()); // the prefill row stands for the K initial beams

    search.step(new float[][] {HAND_CHECKED.logits(new int[0])});
    assertArrayEquals(new int[] {1, 2}, search.nextTokens());
    assertArrayEquals(new int[] {0, 0}, search.parentRows());
    assertEquals(2, search.rows());

    search.step(
        new float[][] {HAND_CHECKED.logits(new int[] {1}), HAND_CHECKED.logits(new int[] {2})});
    assertArrayEquals(new int[] {0, 0}, search.nextTokens());
    assertArrayEquals(new int[] {1, 0}, search.parentRows()); // [2,0] continues row 1
    float[] sums = ((BeamSearch) search).runningSums();
    assertEquals(ln(.3) + ln(.7), sums[0], TOLERANCE);
    assertEquals(ln(.5) + ln(.2), sums[1], TOLERANCE);
    assertEquals(1, ((BeamSearch) search).finishedHypotheses().size());
    assertFalse(search.isDone());

    search.step(
        new float[][] {
          HAND_CHECKED.logits(new int[] {2, 0}), HAND_CHECKED.logits(new int[] {1, 0})
        });
    assertTrue(search.isDone());
    assertEquals(0, search.rows());
    SearchResult best = search.result();
    assertEquals(List.of(2, 0), best.tokenIds());
    assertEquals(FinishReason.EOS, best.finishReason());
    assertEquals((ln(.3) + ln(.7) + ln(.7)) / 3, best.score(), TOLERANCE);
  }

  @Test
  void returnsTheBestFinishedHypothesesBestFirst() {
    Search search = Search.create(beams(2).maxNewTokens(3).numReturnSequences(2).build());
    HAND_CHECKED.run(search);
    List<SearchResult> results = search.results();
    assertEquals(2, results.size());
    assertEquals(List.of(2, 0), results.get(0).tokenIds());
    assertEquals(List.of(1), results.get(1).tokenIds());
    assertEquals((ln(.5) + ln(.4)) / 2, results.get(1).score(), TOLERANCE);
    assertEquals(search.result(), results.get(0));
  }

  @Test
  void lengthPenaltyZeroRanksByTheRawSum() {
    Search search = Search.create(beams(2).maxNewTokens(3).lengthPenalty(0).build());
    HAND_CHECKED.run(search);
    assertEquals(List.of(1), search.result().tokenIds()); // -1.609 beats -1.918
    assertEquals(ln(.5) + ln(.4), search.result().score(), TOLERANCE);
  }

  @Test
  void atMaxNewTokensTheRunningBeamsJoinTheFinishedOnes() {
    Search search = Search.create(beams(2).maxNewTokens(2).build());
    HAND_CHECKED.run(search);
    // after step 2: finished [1]+EOS (-1.609 / 2 = -0.805); running [2,0] (-1.561 / 2 = -0.781)
    List<SearchResult> results = ((BeamSearch) search).results();
    assertEquals(
        new SearchResult(List.of(2, 0), FinishReason.LENGTH, results.get(0).score()),
        search.result());
    assertEquals((ln(.3) + ln(.7)) / 2, search.result().score(), TOLERANCE);
    BeamHypotheses finished = ((BeamSearch) search).finishedHypotheses();
    assertEquals(2, finished.size());
    assertEquals(FinishReason.EOS, finished.bestFirst().get(1).finishReason());
  }

  @Test
  void stopsEarlyWhenNoRunningBeamCanBeatTheWorstFinished() {
    FakeModel model =
        table(
            Map.of(
                "[]", new double[] {.05, .05, .45, .45},
                "[2]", new double[] {.1, .1, .1, .7},
                "[0]", new double[] {.25, .25, .25, .25}),
            .25,
            .25,
            .25,
            .25);
    Search search = Search.create(beams(2).build());
    List<int[][]> fed = model.run(search);
    // step 1: [2] and EOS tie at -0.799: [2] runs (lower index), EOS finishes [] (n = 1, -0.799);
    // step 2: [2]+EOS finishes (n = 2, -0.578); best running [2,0] -3.101 / 2 > worst? no: done.
    assertEquals(2, fed.size());
    assertEquals(2, search.generatedCount());
    List<SearchResult> all =
        ((BeamSearch) search)
            .finishedHypotheses().bestFirst().stream()
                .map(h -> SearchResult.of(h.tokenIds(), h.finishReason(), h.score()))
                .toList();
    assertEquals(List.of(2), all.get(0).tokenIds());
    assertEquals((ln(.45) + ln(.7)) / 2, all.get(0).score(), TOLERANCE);
    assertEquals(List.of(), all.get(1).tokenIds());
    assertEquals(ln(.45), all.get(1).score(), TOLERANCE);
    assertEquals(all.get(0), search.result());
  }

  @Test
  void anEosRankedOutsideTheFirstKIsIgnored() {
    // two EOS ids (2 and 3): the walk covers max(2, 1 + 2) * K = 6 candidates
    GenerationParams params = beams(2).eosTokenIds(2, 3).maxNewTokens(5).build();
    BeamSearch search = new BeamSearch(params);
    search.step(new float[][] {FakeModel.probabilities(.15, .4, .25, .2)});
    // ranks: 1 (runs), EOS 2 (rank 1 < K: finished), EOS 3 (rank 2: ignored), 0 (runs)
    assertArrayEquals(new int[] {1, 0}, search.nextTokens());
    assertEquals(1, search.finishedHypotheses().size());
    BeamHypotheses.Hypothesis only = search.finishedHypotheses().bestFirst().get(0);
    assertEquals(ln(.25), only.score(), TOLERANCE);
    assertEquals(1, only.length());
  }

  @Test
  void tiesGoToTheLowerFlatIndex() {
    BeamSearch search = new BeamSearch(beams(3).build());
    search.step(new float[][] {{0f, 0f, 0f, 0f, 0f}});
    assertArrayEquals(new int[] {0, 1, 2}, search.nextTokens());
    float[] same = {0f, 0f, 0f, 0f, 0f};
    search.step(new float[][] {same, same, same});
    // every beam has the same sum: the first beam's tokens come first (flat index b * V + t)
    assertArrayEquals(new int[] {0, 1, 2}, search.nextTokens());
    assertArrayEquals(new int[] {0, 0, 0}, search.parentRows());
  }

  @Test
  void theInitialCopiesOfBeamZeroStartAtMinusOneBillion() {
    // V = 2, K = 2: beam 0 offers token 0 and EOS; the copy of beam 0 fills the second slot
    BeamSearch search = new BeamSearch(beams(2).eosTokenIds(1).build());
    search.step(new float[][] {FakeModel.probabilities(.5, .5)});
    assertArrayEquals(new int[] {0, 0}, search.nextTokens());
    assertArrayEquals(new int[] {0, 0}, search.parentRows());
    assertArrayEquals(new float[] {(float) ln(.5), -1e9f}, search.runningSums(), 1e-6f);
    assertEquals(1, search.finishedHypotheses().size());
  }

  @Test
  void minNewTokensKeepsEosOutOfTheFirstSteps() {
    BeamSearch search = new BeamSearch(beams(2).minNewTokens(1).build());
    search.step(new float[][] {FakeModel.probabilities(.1, .2, .1, .6)});
    assertEquals(0, search.finishedHypotheses().size());
    assertArrayEquals(new int[] {1, 0}, search.nextTokens());
  }

  @Test
  void repetitionPenaltyUsesEachBeamsOwnTokens() {
    // log-probabilities are negative: the penalty multiplies them by r
    BeamSearch search = new BeamSearch(beams(2).repetitionPenalty(2.0).build());
    search.step(new float[][] {FakeModel.probabilities(.4, .35, .05, .2)});
    assertArrayEquals(new int[] {0, 1}, search.nextTokens());
    float[] row = FakeModel.probabilities(.4, .35, .05, .2);
    search.step(new float[][] {row, row});
    // beam [0]: 0 -> 2 ln .4 = -1.833, 1 -> ln .35 = -1.050; beam [1]: 0 -> ln .4, 1 -> 2 ln .35
    // sums: [0,1] -1.966, [1,0] -1.966 (tie: lower flat index first), [0,EOS] ...
    assertArrayEquals(new int[] {1, 0}, search.nextTokens());
    assertArrayEquals(new int[] {0, 1}, search.parentRows());
  }

  @Test
  void decoderStartJoinsThePenaltySet() {
    GenerationParams params = beams(2).repetitionPenalty(3.0).build();
    BeamSearch t5 = new BeamSearch(params, 0);
    t5.step(new float[][] {FakeModel.probabilities(.4, .3, .1, .2)});
    // ln .4 * 3 = -2.749 falls below ln .1 = -2.303: beams are [1] and [2]
    assertArrayEquals(new int[] {1, 2}, t5.nextTokens());
  }

  @Test
  void hypothesesKeepTheBestKByNormalizedScore() {
    BeamHypotheses h = new BeamHypotheses(2, 1.0);
    assertTrue(h.add(new int[] {1, 2}, -3.0, 3, FinishReason.EOS)); // -1.0
    assertEquals(-1.0, h.worstScore());
    assertTrue(h.add(new int[] {4}, -2.0, 1, FinishReason.EOS)); // -2.0
    assertEquals(-2.0, h.worstScore());
    assertFalse(h.isDone(-2.9, 2)); // -1.45 > -2.0
    assertTrue(h.add(new int[] {5}, -1.5, 1, FinishReason.EOS)); // -1.5 evicts -2.0
    assertEquals(-1.5, h.worstScore());
    assertFalse(h.add(new int[] {6}, -3.0, 2, FinishReason.LENGTH)); // -1.5: not better
    assertTrue(h.isDone(-3.0, 2)); // -1.5 <= -1.5
    assertFalse(h.isDone(-2.9, 2)); // -1.45 > -1.5
    assertEquals(
        List.of(-1.0, -1.5), h.bestFirst().stream().map(BeamHypotheses.Hypothesis::score).toList());
    assertEquals(-2.0, new BeamHypotheses(1, 2.0).normalize(-8, 2));
  }

  @Test
  void hypothesesOfEqualScoreKeepTheirArrivalOrder() {
    BeamHypotheses h = new BeamHypotheses(3, 1.0);
    h.add(new int[] {1}, -1.0, 1, FinishReason.EOS);
    h.add(new int[] {2}, -2.0, 2, FinishReason.EOS);
    h.add(new int[] {3}, -0.5, 1, FinishReason.EOS);
    assertEquals(List.of(3, 1, 2), h.bestFirst().stream().map(x -> x.tokenIds()[0]).toList());
    // 1 and 2 tie at -1.0: the new one evicts 1, the first added of the two
    assertTrue(h.add(new int[] {4}, -0.75, 1, FinishReason.EOS));
    assertEquals(List.of(3, 4, 2), h.bestFirst().stream().map(x -> x.tokenIds()[0]).toList());
  }

  @Test
  void ofEqualWorstHypothesesTheFirstAddedIsEvicted() {
    BeamHypotheses h = new BeamHypotheses(2, 1.0);
    h.add(new int[] {1}, -2.0, 1, FinishReason.EOS);
    h.add(new int[] {2}, -4.0, 2, FinishReason.EOS); // also -2.0
    h.add(new int[] {3}, -1.0, 1, FinishReason.EOS);
    assertEquals(List.of(3, 2), h.bestFirst().stream().map(x -> x.tokenIds()[0]).toList());
  }
}
