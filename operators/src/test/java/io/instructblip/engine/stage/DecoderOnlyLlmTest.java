package io.instructblip.engine.stage;

import static io.instructblip.engine.stage.LlmTestSupport.assertClose;
import static io.instructblip.engine.stage.LlmTestSupport.concat;
import static io.instructblip.engine.stage.LlmTestSupport.randomEmbeds;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import io.instructblip.engine.model.FloatTensor;
import io.instructblip.engine.model.ModelDirectory;
import io.instructblip.engine.model.ModelFixtures;
import io.instructblip.engine.model.ModelSessions;
import io.instructblip.engine.model.SessionSettings;
import io.instructblip.engine.stage.DecoderOnlyLlm.StepInput;
import java.util.List;
import java.util.Random;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

class DecoderOnlyLlmTest {
  private static ModelSessions sessions;
  private static DecoderOnlyLlm llm;
  private static int hidden;

  @BeforeAll
  static void open() {
    sessions =
        ModelSessions.open(
            ModelDirectory.open(ModelFixtures.modelDir("tiny-vicuna")),
            SessionSettings.builder().intraOpThreads(1).build());
    llm = new DecoderOnlyLlm(sessions);
    hidden = sessions.manifest().llm().hiddenSize();
  }

  @AfterAll
  static void close() {
    sessions.close();
  }

  /** The last logits of one whole sequence, prefilled alone. */
  private static float[] alone(FloatTensor embeds) {
    return llm.prefill(List.of(embeds)).lastLogits().get(0);
  }

  private static FloatTensor withTokens(FloatTensor prefix, long... tokens) {
    return tokens.length == 0 ? prefix : concat(prefix, llm.embedder().embed(tokens));
  }

  @Test
  void stepByStepDecodeMatchesPrefillOfTheWholeSequence() {
    Random random = new Random(1);
    FloatTensor prefix = randomEmbeds(random, 6, hidden);
    long[] tokens = {17, 4, 250, 9, 33};
    DecoderOnlyLlm.Prefill prefill = llm.prefill(List.of(prefix));
    SequenceKv cache = prefill.caches().get(0);
    assertEquals(6, cache.length());
    for (int i = 0; i < tokens.length; i++) {
      float[] stepped = llm.step(List.of(new StepInput(cache, new long[] {tokens[i]}))).get(0)[0];
      float[] whole = alone(withTokens(prefix, java.util.Arrays.copyOf(tokens, i + 1)));
      assertClose(whole, stepped, "after token " + i);
    }
    assertEquals(6 + tokens.length, cache.length());
  }

  @Test
  void aRowGivesTheSameLogitsAloneAndInAPackedBatch() {
    Random random = new Random(2);
    List<FloatTensor> rows =
        List.of(
            randomEmbeds(random, 3, hidden),
            randomEmbeds(random, 9, hidden),
            randomEmbeds(random, 1, hidden));
    DecoderOnlyLlm.Prefill batch = llm.prefill(rows);
    for (int i = 0; i < rows.size(); i++) {
      assertClose(alone(rows.get(i)), batch.lastLogits().get(i), "prefill row " + i);
      assertEquals(rows.get(i).dim(0), batch.caches().get(i).length());
    }
    // rows of different past lengths step together, twice
    long[][] tokens = {{5, 6}, {7, 8}, {9, 10}};
    for (int step = 0; step < 2; step++) {
      List<StepInput> inputs = new java.util.ArrayList<>();
      for (int i = 0; i < rows.size(); i++) {
        inputs.add(new StepInput(batch.caches().get(i), new long[] {tokens[i][step]}));
      }
      List<float[][]> logits = llm.step(inputs);
      for (int i = 0; i < rows.size(); i++) {
        float[] expected =
            alone(withTokens(rows.get(i), java.util.Arrays.copyOf(tokens[i], step + 1)));
        assertClose(expected, logits.get(i)[0], "step " + step + " row " + i);
      }
    }
  }

  @Test
  void rowsJoinLeaveAndForkBetweenSteps() {
    Random random = new Random(3);
    FloatTensor a = randomEmbeds(random, 4, hidden);
    FloatTensor b = randomEmbeds(random, 7, hidden);
    SequenceKv cacheA = llm.prefill(List.of(a)).caches().get(0);
    llm.step(List.of(new StepInput(cacheA, new long[] {11})));
    // b joins the running batch; a forks into two beams with different next tokens
    SequenceKv cacheB = llm.prefill(List.of(b)).caches().get(0);
    SequenceKv beams = cacheA.select(new int[] {0, 0});
    List<float[][]> logits =
        llm.step(
            List.of(
                new StepInput(beams, new long[] {12, 13}), new StepInput(cacheB, new long[] {14})));
    assertClose(alone(withTokens(a, 11, 12)), logits.get(0)[0], "beam 0");
    assertClose(alone(withTokens(a, 11, 13)), logits.get(0)[1], "beam 1");
    assertClose(alone(withTokens(b, 14)), logits.get(1)[0], "joined row");
    // beams reorder (beam 1 is the parent of both), a's original cache leaves
    beams.reorder(new int[] {1, 1});
    logits =
        llm.step(
            List.of(
                new StepInput(cacheB, new long[] {15}), new StepInput(beams, new long[] {20, 21})));
    assertClose(alone(withTokens(b, 14, 15)), logits.get(0)[0], "row b");
    assertClose(alone(withTokens(a, 11, 13, 20)), logits.get(1)[0], "beam 0 after reorder");
    assertClose(alone(withTokens(a, 11, 13, 21)), logits.get(1)[1], "beam 1 after reorder");
    // forks copied the cache: the original still holds the prompt and one token
    assertEquals(a.dim(0) + 1, cacheA.length());
  }

  @Test
  void continuationLogitsMatchPrefillsOfEachPrefix() {
    Random random = new Random(4);
    FloatTensor prompt = randomEmbeds(random, 5, hidden);
    SequenceKv cache = llm.prefill(List.of(prompt)).caches().get(0);
    long[][] candidates = {{40, 41, 2}, {42}, {43, 44}};
    List<FloatTensor> logits = llm.logitsForContinuation(cache, 0, candidates);
    assertEquals(5, cache.length());
    for (int c = 0; c < candidates.length; c++) {
      assertEquals(candidates[c].length, logits.get(c).dim(0));
      for (int t = 0; t < candidates[c].length; t++) {
        float[] expected = alone(withTokens(prompt, java.util.Arrays.copyOf(candidates[c], t + 1)));
        assertClose(expected, logits.get(c).slice(t).data(), "candidate " + c + " position " + t);
      }
    }
  }

  @Test
  void aRowMayFillButNotExceedMaxPositions() {
    int max = sessions.manifest().llm().maxPositions();
    Random random = new Random(6);
    FloatTensor full = randomEmbeds(random, max - 1, hidden);
    DecoderOnlyLlm.Prefill prefill = llm.prefill(List.of(full, randomEmbeds(random, 2, hidden)));
    SequenceKv cache = prefill.caches().get(0);
    llm.step(
        List.of(
            new StepInput(cache, new long[] {3}),
            new StepInput(prefill.caches().get(1), new long[] {4})));
    assertEquals(max, cache.length());
    IllegalArgumentException e =
        assertThrows(
            IllegalArgumentException.class,
            () -> llm.step(List.of(new StepInput(cache, new long[] {5}))));
    assertEquals(
        "a row would hold " + (max + 1) + " positions, more than llm.max_positions " + max,
        e.getMessage());
  }

  @Test
  void refusesMisuse() {
    SequenceKv cache = llm.prefill(List.of(randomEmbeds(new Random(5), 2, hidden))).caches().get(0);
    assertThrows(IllegalArgumentException.class, () -> new StepInput(cache, new long[] {1, 2}));
    assertThrows(
        IllegalArgumentException.class,
        () ->
            llm.step(
                List.of(
                    new StepInput(cache, new long[] {1}), new StepInput(cache, new long[] {2}))));
    assertThrows(
        IllegalArgumentException.class,
        () -> llm.step(List.of(new StepInput(cache, new long[] {100_000}))));
    assertThrows(
        IllegalArgumentException.class,
        () ->
            llm.prefill(
                List.of(new FloatTensor(new int[] {2, hidden + 1}, new float[2 * hidden + 2]))));
  }
}
