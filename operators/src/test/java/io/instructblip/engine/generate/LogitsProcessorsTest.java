package io.instructblip.engine.generate;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;

import java.util.List;
import org.junit.jupiter.api.Test;

/** Each processor on a 2 x 10 batch of rows with exact expected values. */
class LogitsProcessorsTest {
  private static final float NEG_INF = Float.NEGATIVE_INFINITY;

  private static float[][] batch() {
    return new float[][] {
      {0f, 4f, -1f, -1f, 2.5f, 3f, -6f, 1f, 0.5f, -0.25f},
      {1f, 2f, 3f, 4f, 5f, 6f, 7f, 8f, 9f, 10f}
    };
  }

  private static TokenHistory generated(int... ids) {
    TokenHistory h = TokenHistory.startingWith();
    for (int id : ids) {
      h = h.append(id);
    }
    return h;
  }

  @Test
  void repetitionPenaltyDividesPositiveAndMultipliesNegativeScoresOncePerId() {
    float[][] s = batch();
    LogitsProcessor p = new RepetitionPenaltyProcessor(2.0);
    p.process(s[0], generated(1, 3, 3, 0, 9));
    p.process(s[1], generated());
    assertArrayEquals(
        new float[] {0f, 2f, -1f, -2f, 2.5f, 3f, -6f, 1f, 0.5f, -0.5f}, s[0]); // 3 penalized once
    assertArrayEquals(batch()[1], s[1]);
  }

  @Test
  void repetitionPenaltyCountsTheDecoderStartOfEncoderDecoderModels() {
    float[][] s = batch();
    new RepetitionPenaltyProcessor(1.5).process(s[1], TokenHistory.startingWith(0).append(9));
    assertArrayEquals(new float[] {1f / 1.5f, 2f, 3f, 4f, 5f, 6f, 7f, 8f, 9f, 10f / 1.5f}, s[1]);
  }

  @Test
  void minNewTokensBansEosUntilEnoughTokensWereGenerated() {
    float[][] s = batch();
    LogitsProcessor p = new MinNewTokensProcessor(2, List.of(2, 7));
    p.process(s[0], generated(5)); // 1 generated < 2
    p.process(s[1], generated(5, 6)); // 2 generated: allowed
    assertArrayEquals(
        new float[] {0f, 4f, NEG_INF, -1f, 2.5f, 3f, -6f, NEG_INF, 0.5f, -0.25f}, s[0]);
    assertArrayEquals(batch()[1], s[1]);
  }

  @Test
  void minNewTokensCountsOnlyGeneratedTokensNotTheDecoderStart() {
    float[] s = batch()[1];
    new MinNewTokensProcessor(1, List.of(2)).process(s, TokenHistory.startingWith(0));
    assertEquals(NEG_INF, s[2]);
  }

  @Test
  void temperatureDividesEveryScore() {
    float[][] s = batch();
    LogitsProcessor p = new TemperatureProcessor(0.5);
    p.process(s[0], generated());
    p.process(s[1], generated());
    assertArrayEquals(new float[] {0f, 8f, -2f, -2f, 5f, 6f, -12f, 2f, 1f, -0.5f}, s[0]);
    assertArrayEquals(new float[] {2f, 4f, 6f, 8f, 10f, 12f, 14f, 16f, 18f, 20f}, s[1]);
  }

  @Test
  void topKKeepsTheKBestAndTiesWithTheKth() {
    float[][] s = batch();
    LogitsProcessor p = new TopKProcessor(3);
    p.process(s[0], generated());
    p.process(s[1], generated());
    assertArrayEquals(
        new float[] {NEG_INF, 4f, NEG_INF, NEG_INF, 2.5f, 3f, NEG_INF, NEG_INF, NEG_INF, NEG_INF},
        s[0]);
    assertArrayEquals(
        new float[] {NEG_INF, NEG_INF, NEG_INF, NEG_INF, NEG_INF, NEG_INF, NEG_INF, 8f, 9f, 10f},
        s[1]);

    float[] tie = {1f, 5f, 5f, 2f, 5f, 0f, 0f, 0f, 0f, 0f};
    new TopKProcessor(2).process(tie, generated());
    assertArrayEquals(
        new float[] {NEG_INF, 5f, 5f, NEG_INF, 5f, NEG_INF, NEG_INF, NEG_INF, NEG_INF, NEG_INF},
        tie);

    float[] all = batch()[0];
    new TopKProcessor(10).process(all, generated());
    assertArrayEquals(batch()[0], all);
  }

  private static float[] logOf(double... probabilities) {
    float[] s = new float[probabilities.length];
    for (int i = 0; i < s.length; i++) {
      s[i] = (float) Math.log(probabilities[i]);
    }
    return s;
  }

  @Test
  void topPKeepsTheSmallestBestSetReachingP() {
    float[][] s = {
      logOf(0.1, 0.4, 0.05, 0.3, 0.05, 0.02, 0.02, 0.02, 0.02, 0.02),
      logOf(0.2, 0.2, 0.2, 0.3, 0.02, 0.02, 0.02, 0.02, 0.01, 0.01)
    };
    float[][] expected = {s[0].clone(), s[1].clone()};
    LogitsProcessor p = new TopPProcessor(0.6);
    p.process(s[0], generated());
    p.process(s[1], generated());
    // row 0: 0.4 (id 1) + 0.3 (id 3) = 0.7 >= 0.6
    for (int id : new int[] {0, 2, 4, 5, 6, 7, 8, 9}) {
      expected[0][id] = NEG_INF;
    }
    // row 1: 0.3 (id 3) + 0.2 (id 0, the lowest of the tied ids) + 0.2 (id 1) = 0.7
    for (int id : new int[] {2, 4, 5, 6, 7, 8, 9}) {
      expected[1][id] = NEG_INF;
    }
    assertArrayEquals(expected[0], s[0]);
    assertArrayEquals(expected[1], s[1]);
  }

  @Test
  void topPAlwaysKeepsTheBestToken() {
    float[] s = logOf(0.1, 0.4, 0.05, 0.3, 0.05, 0.02, 0.02, 0.02, 0.02, 0.02);
    float best = s[1];
    new TopPProcessor(0.01).process(s, generated());
    float[] expected = new float[10];
    java.util.Arrays.fill(expected, NEG_INF);
    expected[1] = best;
    assertArrayEquals(expected, s);
  }

  @Test
  void topPIgnoresTokensAlreadyRemoved() {
    float[] s = {NEG_INF, 0f, 0f, NEG_INF, NEG_INF, NEG_INF, NEG_INF, NEG_INF, NEG_INF, 0f};
    new TopPProcessor(0.5).process(s, generated()); // 1/3 + 1/3 >= 0.5: ids 1 and 2
    assertArrayEquals(
        new float[] {
          NEG_INF, 0f, 0f, NEG_INF, NEG_INF, NEG_INF, NEG_INF, NEG_INF, NEG_INF, NEG_INF
        },
        s);
  }

  @Test
  void chainAppliesTheStepsInTheDocumentedOrderAndLeavesOutNoOps() {
    GenerationParams greedy =
        GenerationParams.builder().eosTokenIds(2).numBeams(1).temperature(0.5).topK(3).build();
    assertEquals(
        "LogitsProcessorChain[RepetitionPenalty(1.5), MinNewTokens(1, eos=[2])]",
        LogitsProcessorChain.forParams(greedy).toString());

    GenerationParams sampling =
        GenerationParams.builder()
            .eosTokenIds(2)
            .numBeams(1)
            .doSample(true)
            .repetitionPenalty(1.0)
            .minNewTokens(0)
            .temperature(0.5)
            .topK(3)
            .topP(0.9)
            .build();
    assertEquals(
        "LogitsProcessorChain[Temperature(0.5), TopK(3), TopP(0.9)]",
        LogitsProcessorChain.forParams(sampling).toString());

    GenerationParams plain =
        GenerationParams.builder()
            .eosTokenIds(2)
            .numBeams(1)
            .doSample(true)
            .repetitionPenalty(1.0)
            .minNewTokens(0)
            .topP(1.0)
            .build();
    assertEquals(List.of(), LogitsProcessorChain.forParams(plain).processors());
  }

  @Test
  void chainRunsPenaltyThenMinTokensThenSamplingSteps() {
    GenerationParams params =
        GenerationParams.builder()
            .eosTokenIds(9)
            .numBeams(1)
            .doSample(true)
            .repetitionPenalty(2.0)
            .minNewTokens(2)
            .temperature(0.5)
            .topK(2)
            .topP(1.0)
            .build();
    float[] s = batch()[1];
    LogitsProcessorChain.forParams(params).process(s, generated(8));
    // 9 -> 4.5 by the penalty, EOS (id 9) -> -inf, all x2, keep the 2 best: 16 (id 7), 14 (id 6)
    assertArrayEquals(
        new float[] {
          NEG_INF, NEG_INF, NEG_INF, NEG_INF, NEG_INF, NEG_INF, 14f, 16f, NEG_INF, NEG_INF
        },
        s);
  }

  @Test
  void temperatureRefusesValuesThatWouldOverflowTheScores() {
    // (float) 1e-300 is 0: every score became infinite and sampling failed.
    org.junit.jupiter.api.Assertions.assertThrows(
        io.instructblip.engine.api.EngineException.class, () -> new TemperatureProcessor(1e-300));
    float[] scores = {30f, -30f, 0f};
    new TemperatureProcessor(io.instructblip.engine.api.GenerationParameter.MIN_TEMPERATURE)
        .process(scores, null);
    for (float v : scores) {
      org.junit.jupiter.api.Assertions.assertTrue(Float.isFinite(v), "finite: " + v);
    }
  }
}
