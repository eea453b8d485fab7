package io.instructblip.engine.stage;

import static io.instructblip.engine.stage.LlmTestSupport.assertClose;
import static io.instructblip.engine.stage.LlmTestSupport.randomEmbeds;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;

import io.instructblip.engine.model.FloatTensor;
import io.instructblip.engine.model.ModelDirectory;
import io.instructblip.engine.model.ModelFixtures;
import io.instructblip.engine.model.ModelSessions;
import io.instructblip.engine.model.SessionSettings;
import io.instructblip.engine.stage.EncoderDecoderLlm.StepInput;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Random;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

class EncoderDecoderLlmTest {
  private static ModelSessions sessions;
  private static EncoderDecoderLlm llm;
  private static int hidden;

  @BeforeAll
  static void open() {
    sessions =
        ModelSessions.open(
            ModelDirectory.open(ModelFixtures.modelDir("tiny-flant5")),
            SessionSettings.builder().intraOpThreads(1).build());
    llm = new EncoderDecoderLlm(sessions);
    hidden = sessions.manifest().llm().hiddenSize();
  }

  @AfterAll
  static void close() {
    sessions.close();
  }

  /**
   * Logits of the last position of {@code [decoder_start] + tokens}, by one teacher-forced pass.
   */
  private static float[] teacherForcedLast(FloatTensor encoderStates, long... tokens) {
    long[] ids = new long[tokens.length + 1];
    ids[0] = llm.decoderStart();
    System.arraycopy(tokens, 0, ids, 1, tokens.length);
    FloatTensor logits = llm.teacherForced(encoderStates, new long[][] {ids}).get(0);
    return logits.slice(ids.length - 1).data();
  }

  @Test
  void encodingInABatchEqualsEncodingAlone() {
    Random random = new Random(11);
    List<FloatTensor> rows =
        List.of(randomEmbeds(random, 5, hidden), randomEmbeds(random, 2, hidden));
    List<FloatTensor> batch = llm.encode(rows);
    for (int i = 0; i < rows.size(); i++) {
      FloatTensor alone = llm.encode(List.of(rows.get(i))).get(0);
      assertEquals(Arrays.toString(alone.shape()), Arrays.toString(batch.get(i).shape()));
      assertClose(alone.data(), batch.get(i).data(), "encoder row " + i);
    }
  }

  @Test
  void stepByStepDecodeMatchesTeacherForcing() {
    FloatTensor states = llm.encode(List.of(randomEmbeds(new Random(12), 6, hidden))).get(0);
    EncoderDecoderLlm.Start start = llm.start(List.of(states));
    EncoderDecoderState state = start.states().get(0);
    assertEquals(1, state.self().length());
    assertEquals(6, state.cross().length());
    assertClose(teacherForcedLast(states), start.logits().get(0), "start");
    long[] tokens = {7, 200, 3, 45};
    for (int i = 0; i < tokens.length; i++) {
      float[] stepped = llm.step(List.of(new StepInput(state, new long[] {tokens[i]}))).get(0)[0];
      assertClose(
          teacherForcedLast(states, Arrays.copyOf(tokens, i + 1)), stepped, "after token " + i);
    }
  }

  @Test
  void teacherForcingInABatchGivesEveryPositionsLogits() {
    FloatTensor states = llm.encode(List.of(randomEmbeds(new Random(13), 4, hidden))).get(0);
    long start = llm.decoderStart();
    long[][] candidates = {{start, 9, 10, 11}, {start, 12}};
    List<FloatTensor> logits = llm.teacherForced(states, candidates);
    for (int c = 0; c < candidates.length; c++) {
      for (int t = 0; t < candidates[c].length; t++) {
        long[] prefix = Arrays.copyOfRange(candidates[c], 1, t + 1);
        assertClose(
            teacherForcedLast(states, prefix),
            logits.get(c).slice(t).data(),
            "candidate " + c + " position " + t);
      }
    }
  }

  @Test
  void rowsOfDifferentLengthsJoinForkAndLeaveBetweenSteps() {
    Random random = new Random(14);
    List<FloatTensor> states =
        llm.encode(List.of(randomEmbeds(random, 3, hidden), randomEmbeds(random, 8, hidden)));
    EncoderDecoderLlm.Start started = llm.start(List.of(states.get(0)));
    EncoderDecoderState a = started.states().get(0);
    llm.step(List.of(new StepInput(a, new long[] {21})));
    llm.step(List.of(new StepInput(a, new long[] {22})));
    // b joins with a shorter decoder past and a longer encoder; a forks into three beams
    EncoderDecoderLlm.Start joined = llm.start(List.of(states.get(1)));
    EncoderDecoderState b = joined.states().get(0);
    EncoderDecoderState beams = a.select(new int[] {0, 0, 0});
    assertSame(a.cross(), beams.cross());
    List<float[][]> logits =
        llm.step(
            List.of(
                new StepInput(b, new long[] {30}), new StepInput(beams, new long[] {31, 32, 33})));
    assertClose(teacherForcedLast(states.get(1), 30), logits.get(0)[0], "joined row");
    for (int k = 0; k < 3; k++) {
      assertClose(teacherForcedLast(states.get(0), 21, 22, 31 + k), logits.get(1)[k], "beam " + k);
    }
    beams.reorder(new int[] {2, 0});
    logits = llm.step(List.of(new StepInput(beams, new long[] {40, 41})));
    assertClose(teacherForcedLast(states.get(0), 21, 22, 33, 40), logits.get(0)[0], "beam 0");
    assertClose(teacherForcedLast(states.get(0), 21, 22, 31, 41), logits.get(0)[1], "beam 1");
  }

  @Test
  void startsSeveralSequencesInOneBatch() {
    Random random = new Random(15);
    List<FloatTensor> states =
        llm.encode(List.of(randomEmbeds(random, 2, hidden), randomEmbeds(random, 7, hidden)));
    EncoderDecoderLlm.Start start = llm.start(states);
    List<StepInput> inputs = new ArrayList<>();
    for (int i = 0; i < 2; i++) {
      assertClose(teacherForcedLast(states.get(i)), start.logits().get(i), "start " + i);
      assertEquals(states.get(i).dim(0), start.states().get(i).cross().length());
      inputs.add(new StepInput(start.states().get(i), new long[] {50 + i}));
    }
    List<float[][]> logits = llm.step(inputs);
    for (int i = 0; i < 2; i++) {
      assertClose(teacherForcedLast(states.get(i), 50 + i), logits.get(i)[0], "step " + i);
    }
  }

  @Test
  void refusesMisuse() {
    FloatTensor states = llm.encode(List.of(randomEmbeds(new Random(16), 2, hidden))).get(0);
    EncoderDecoderState state = llm.start(List.of(states)).states().get(0);
    assertThrows(IllegalArgumentException.class, () -> new StepInput(state, new long[0]));
    assertThrows(
        IllegalArgumentException.class,
        () ->
            llm.step(
                List.of(
                    new StepInput(state, new long[] {1}), new StepInput(state, new long[] {2}))));
    assertThrows(
        IllegalArgumentException.class, () -> llm.teacherForced(states, new long[][] {{}}));
    assertThrows(IllegalArgumentException.class, () -> new DecoderOnlyLlm(sessions));
  }
}
