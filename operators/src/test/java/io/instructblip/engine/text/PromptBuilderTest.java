package io.instructblip.engine.text;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import io.instructblip.engine.api.EngineException;
import io.instructblip.engine.api.ErrorCode;
import java.util.List;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

class PromptBuilderTest {

  private static TextTokenizer tokenizer;

  private static final PromptRecipe QFORMER =
      new PromptRecipe(new long[] {2}, new long[] {3}, 8, PaddingSide.RIGHT, 0);
  private static final PromptRecipe LLM =
      new PromptRecipe(new long[] {2}, new long[0], 7, PaddingSide.LEFT, 0);

  @BeforeAll
  static void load() {
    tokenizer = TextTokenizer.load(TextTokenizerTest.wordPiecePath());
  }

  @AfterAll
  static void close() {
    tokenizer.close();
  }

  private static PromptBuilder prompts(boolean appendEos) {
    return PromptBuilder.builder()
        .qformer(tokenizer, QFORMER)
        .llm(tokenizer, LLM)
        .eosId(3)
        .appendEosToCandidates(appendEos)
        .build();
  }

  @Test
  void wrapsTheInstructionInEachRecipe() {
    PromptIds ids = prompts(true).build("What is in the picture?");
    assertArrayEquals(new long[] {2, 4, 5, 6, 7, 8, 9, 3}, ids.qformerIds());
    assertArrayEquals(new long[] {2, 4, 5, 6, 7, 8, 9}, ids.llmIds());
  }

  @Test
  void emptyOrBlankInstructionIsRefused() {
    for (String instruction : new String[] {null, "", "  \n\t "}) {
      EngineException e =
          assertThrows(EngineException.class, () -> prompts(true).build(instruction));
      assertEquals(ErrorCode.INSTRUCTION_EMPTY, e.code());
    }
    assertEquals(
        "the instruction is empty; send a question or instruction about the image",
        assertThrows(EngineException.class, () -> prompts(true).build(" ")).getMessage());
  }

  @Test
  void tooLongInstructionIsRefusedWithTheCounts() {
    // 8 tokens: the Q-Former would take 1 + 8 + 1 = 10 > 8.
    EngineException e =
        assertThrows(
            EngineException.class, () -> prompts(true).build("What is in the picture? a cat"));
    assertEquals(ErrorCode.INSTRUCTION_TOO_LONG, e.code());
    assertEquals(
        "the instruction is 8 Q-Former tokens (10 with special tokens), over the limit of 8;"
            + " shorten it",
        e.getMessage());
    // The LLM limit is checked on its own: 6 tokens fit (1 + 6 = 7), 7 do not (8 > 7).
    assertEquals(7, prompts(true).llmPromptIds("a cat is in the picture").length);
    EngineException llm =
        assertThrows(
            EngineException.class, () -> prompts(true).llmPromptIds("a cat is in the picture ?"));
    assertEquals(
        "the instruction is 7 LLM tokens (8 with special tokens), over the limit of 7; shorten it",
        llm.getMessage());
  }

  @Test
  void candidatesEndWithEosWhenConfigured() {
    assertArrayEquals(new long[] {10, 11, 12, 3}, prompts(true).candidateIds("a cats"));
    assertArrayEquals(new long[] {10, 11, 12}, prompts(false).candidateIds("a cats"));
    assertArrayEquals(new long[] {3}, prompts(true).candidateIds(""));
    EngineException e = assertThrows(EngineException.class, () -> prompts(false).candidateIds(""));
    assertEquals(ErrorCode.INVALID_PARAMETER, e.code());
  }

  @Test
  void answerTextSkipsSpecialTokensAndStrips() {
    assertEquals("a cats", prompts(true).answerText(new long[] {2, 10, 11, 12, 3, 0}));
    assertEquals("", prompts(true).answerText(new long[0]));
  }

  @Test
  void batchesArePaddedOnTheRecipeSide() {
    List<long[]> rows = List.of(new long[] {2, 4, 3}, new long[] {2, 3});
    PaddedIds right = QFORMER.pad(rows);
    assertEquals(2, right.batchSize());
    assertEquals(3, right.length());
    assertArrayEquals(new long[] {2, 4, 3, 2, 3, 0}, right.ids());
    assertArrayEquals(new long[] {1, 1, 1, 1, 1, 0}, right.mask());
    PaddedIds left = LLM.pad(rows);
    assertArrayEquals(new long[] {2, 4, 3, 0, 2, 3}, left.ids());
    assertArrayEquals(new long[] {1, 1, 1, 0, 1, 1}, left.mask());
  }

  @Test
  void recipeAndBuilderAreValidated() {
    IllegalArgumentException e =
        assertThrows(
            IllegalArgumentException.class,
            () -> new PromptRecipe(new long[] {1}, new long[] {2}, 2, PaddingSide.LEFT, 0));
    assertEquals(
        "max_tokens (2) must exceed the 2 prefix and suffix ids, or no instruction fits",
        e.getMessage());
    assertThrows(
        IllegalArgumentException.class,
        () -> new PromptRecipe(new long[] {-1}, new long[0], 4, PaddingSide.LEFT, 0));
    assertEquals(PaddingSide.LEFT, PaddingSide.fromManifest("left"));
    assertEquals(PaddingSide.RIGHT, PaddingSide.fromManifest("right"));
    assertThrows(IllegalArgumentException.class, () -> PaddingSide.fromManifest("Left"));
    IllegalStateException missing =
        assertThrows(
            IllegalStateException.class,
            () -> PromptBuilder.builder().qformer(tokenizer, QFORMER).llm(tokenizer, LLM).build());
    assertEquals("eosId was not set (special_tokens.llm_eos)", missing.getMessage());
  }
}
