package io.instructblip.engine.generate;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.instructblip.engine.api.EngineException;
import io.instructblip.engine.api.ErrorCode;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import org.junit.jupiter.api.Test;

class GreedyAndSamplingSearchTest {
  private static final int EOS = 2;

  private static GenerationParams.Builder greedy() {
    return GenerationParams.builder()
        .eosTokenIds(EOS)
        .numBeams(1)
        .repetitionPenalty(1.0)
        .minNewTokens(0)
        .maxNewTokens(10);
  }

  private static GenerationParams.Builder sampling() {
    return greedy().doSample(true).topP(1.0);
  }

  /** Prefers 3, then 4, then EOS; after two tokens EOS (2.0) beats 5 (1.0). */
  private static final FakeModel THREE_FOUR_EOS =
      generated -> {
        float[] logits = new float[6];
        int best = generated.length == 0 ? 3 : generated.length == 1 ? 4 : EOS;
        logits[best] = 2f;
        if (generated.length >= 2) {
          logits[5] = 1f;
        }
        return logits;
      };

  @Test
  void greedyTakesTheArgmaxAndStopsAtEosWithoutReturningIt() {
    Search search = Search.create(greedy().build());
    assertInstanceOf(GreedySearch.class, search);
    assertEquals(1, search.rows());
    List<int[][]> fed = THREE_FOUR_EOS.run(search);
    assertEquals(3, fed.size());
    assertArrayEquals(new int[] {3, 4}, fed.get(2)[0]);
    SearchResult result = search.result();
    assertEquals(List.of(3, 4), result.tokenIds());
    assertEquals(FinishReason.EOS, result.finishReason());
    double lp0 = -Math.log(1 + 5 * Math.exp(-2)); // 2.0 against five zeros
    double lp2 = 2 - Math.log(Math.exp(2) + Math.exp(1) + 4); // EOS 2.0, token 5 1.0
    assertEquals(2 * lp0 + lp2, result.score(), 1e-12);
    assertEquals(0, search.rows());
    assertArrayEquals(new int[0], search.nextTokens());
    assertArrayEquals(new int[0], search.parentRows());
  }

  @Test
  void greedyFeedsTheChosenTokenToRowZero() {
    Search search = Search.create(greedy().build());
    search.step(new float[][] {THREE_FOUR_EOS.logits(new int[0])});
    assertFalse(search.isDone());
    assertArrayEquals(new int[] {3}, search.nextTokens());
    assertArrayEquals(new int[] {0}, search.parentRows());
    assertEquals(1, search.generatedCount());
  }

  @Test
  void minNewTokensDelaysEos() {
    Search search = Search.create(greedy().minNewTokens(4).build());
    THREE_FOUR_EOS.run(search);
    assertEquals(List.of(3, 4, 5, 5), search.result().tokenIds());
    assertEquals(FinishReason.EOS, search.result().finishReason());
  }

  @Test
  void maxNewTokensEndsWithLength() {
    Search search = Search.create(greedy().maxNewTokens(1).build());
    THREE_FOUR_EOS.run(search);
    assertEquals(
        new SearchResult(List.of(3), FinishReason.LENGTH, search.result().score()),
        search.result());
    assertTrue(search.isDone());
  }

  private static final FakeModel THREE_OVER_FOUR =
      generated -> new float[] {0f, 0f, -5f, 2f, 1.5f, 0f};

  @Test
  void repetitionPenaltyPushesGreedyOffRepeatedTokens() {
    Search penalized = Search.create(greedy().repetitionPenalty(1.5).maxNewTokens(4).build());
    THREE_OVER_FOUR.run(penalized);
    // 3 (2.0) -> 4 (1.5 > 2/1.5) -> 3 (2/1.5 > 1.5/1.5) -> 3
    assertEquals(List.of(3, 4, 3, 3), penalized.result().tokenIds());

    Search plain = Search.create(greedy().maxNewTokens(4).build());
    THREE_OVER_FOUR.run(plain);
    assertEquals(List.of(3, 3, 3, 3), plain.result().tokenIds());
  }

  @Test
  void greedyBreaksTiesTowardTheLowestId() {
    Search search = Search.create(greedy().maxNewTokens(3).build());
    FakeModel flat = generated -> new float[] {0f, 0f, -1f, 0f};
    flat.run(search);
    assertEquals(List.of(0, 0, 0), search.result().tokenIds());
  }

  @Test
  void decoderStartIsInThePenaltySetOfEncoderDecoderModels() {
    FakeModel model = generated -> new float[] {2f, 1.9f, -5f};
    Search t5 = Search.create(greedy().repetitionPenalty(1.5).maxNewTokens(1).build(), 0);
    model.run(t5);
    assertEquals(List.of(1), t5.result().tokenIds()); // 0 penalized: 2/1.5 < 1.9

    Search decoderOnly = Search.create(greedy().repetitionPenalty(1.5).maxNewTokens(1).build());
    model.run(decoderOnly);
    assertEquals(List.of(0), decoderOnly.result().tokenIds());
  }

  @Test
  void refusesLogitsOfTheWrongShapeAndStepsAfterTheEnd() {
    Search search = Search.create(greedy().maxNewTokens(1).build());
    EngineException rows = assertThrows(EngineException.class, () -> search.step(new float[2][4]));
    assertEquals(ErrorCode.INTERNAL, rows.code());
    assertEquals("step() needs logits for 1 live row(s), got 2 row(s)", rows.getMessage());

    EngineException eos = assertThrows(EngineException.class, () -> search.step(new float[1][2]));
    assertEquals(ErrorCode.INVALID_PARAMETER, eos.code());
    assertEquals("eos token id 2 is outside the vocabulary [0, 2)", eos.getMessage());

    EngineException early = assertThrows(EngineException.class, search::result);
    assertEquals(
        "result() called before the search finished: check isDone() first", early.getMessage());

    search.step(new float[1][4]);
    EngineException late = assertThrows(EngineException.class, () -> search.step(new float[1][4]));
    assertEquals("step() called on a finished search: read result() instead", late.getMessage());
  }

  @Test
  void refusesADecoderPrefixOutsideTheVocabulary() {
    Search search = Search.create(greedy().build(), 9);
    EngineException e = assertThrows(EngineException.class, () -> search.step(new float[1][4]));
    assertEquals("decoder prefix id 9 is outside the vocabulary [0, 4)", e.getMessage());
  }

  /** A spread-out distribution so that samples vary. */
  private static final FakeModel SPREAD =
      generated -> FakeModel.probabilities(0.2, 0.15, 0.05, 0.2, 0.25, 0.15);

  private static List<Integer> sample(long seed) {
    Search search = Search.create(sampling().seed(seed).maxNewTokens(12).build());
    SPREAD.run(search);
    return search.result().tokenIds();
  }

  @Test
  void samplingWithTheSameSeedGivesTheSameTokens() {
    assertInstanceOf(SamplingSearch.class, Search.create(sampling().build()));
    assertEquals(sample(4), sample(4));
    // Pins the draws of SplittableRandom (a JDK-specified algorithm) and the walk in id order.
    assertEquals(List.of(3, 5, 5, 3), sample(4));
    assertEquals(List.of(3, 4, 3, 4, 1, 1, 4, 4, 1, 4, 1, 3), sample(2));
    Set<List<Integer>> distinct = new HashSet<>();
    for (long seed = 1; seed <= 5; seed++) {
      distinct.add(sample(seed));
    }
    assertTrue(distinct.size() > 1, "different seeds should give different samples");
  }

  @Test
  void samplingDoesNotDependOnWhatElseIsInTheBatch() {
    Search alone = Search.create(sampling().seed(11).maxNewTokens(8).build());
    SPREAD.run(alone);

    Search a = Search.create(sampling().seed(11).maxNewTokens(8).build());
    Search b = Search.create(sampling().seed(12).maxNewTokens(8).build());
    int[] ha = new int[0];
    int[] hb = new int[0];
    while (!a.isDone()) {
      if (!b.isDone()) {
        b.step(new float[][] {SPREAD.logits(hb)});
      }
      a.step(new float[][] {SPREAD.logits(ha)});
      if (!a.isDone()) {
        ha = append(ha, a.nextTokens()[0]);
      }
      if (!b.isDone()) {
        hb = append(hb, b.nextTokens()[0]);
      }
    }
    assertEquals(alone.result(), a.result());
    assertNotEquals(a.result().tokenIds(), b.result().tokenIds());
  }

  private static int[] append(int[] ids, int id) {
    int[] out = java.util.Arrays.copyOf(ids, ids.length + 1);
    out[ids.length] = id;
    return out;
  }

  @Test
  void samplingWithTopKOneIsGreedy() {
    Search sampled = Search.create(sampling().topK(1).seed(3).maxNewTokens(5).build());
    Search greedy = Search.create(greedy().maxNewTokens(5).build());
    SPREAD.run(sampled);
    SPREAD.run(greedy);
    assertEquals(List.of(4, 4, 4, 4, 4), greedy.result().tokenIds());
    assertEquals(greedy.result(), sampled.result());
  }

  @Test
  void drawWalksTheCumulativeDistributionInIdOrder() {
    float[] scores = FakeModel.probabilities(0.25, 0.5, 0, 0.25);
    assertEquals(0, SamplingSearch.draw(scores, 0.0));
    assertEquals(0, SamplingSearch.draw(scores, 0.2));
    assertEquals(1, SamplingSearch.draw(scores, 0.3));
    assertEquals(1, SamplingSearch.draw(scores, 0.74));
    assertEquals(3, SamplingSearch.draw(scores, 0.76));
    assertEquals(3, SamplingSearch.draw(scores, 0.9999999));
    EngineException e =
        assertThrows(
            EngineException.class, () -> SamplingSearch.draw(FakeModel.probabilities(0, 0), 0.5));
    assertEquals(ErrorCode.MODEL_ERROR, e.code());
  }
}
