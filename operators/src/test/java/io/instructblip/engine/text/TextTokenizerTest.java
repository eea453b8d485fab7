package io.instructblip.engine.text;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.instructblip.engine.api.EngineException;
import io.instructblip.engine.api.ErrorCode;
import java.io.IOException;
import java.net.URISyntaxException;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A small BERT-style WordPiece tokenizer (test resource) whose post-processor would add [CLS] and
 * [SEP]: the tokenizer must not add them.
 */
class TextTokenizerTest {

  static TextTokenizer wordPiece;

  static Path wordPiecePath() {
    try {
      return Path.of(TextTokenizerTest.class.getResource("wordpiece-tokenizer.json").toURI());
    } catch (URISyntaxException e) {
      throw new IllegalStateException(e);
    }
  }

  @BeforeAll
  static void load() {
    wordPiece = TextTokenizer.load(wordPiecePath());
  }

  @AfterAll
  static void close() {
    wordPiece.close();
  }

  @Test
  void encodesWithoutSpecialTokensPaddingOrTruncation() {
    assertArrayEquals(new long[] {4, 5, 6, 7, 8, 9}, wordPiece.encode("What is in the picture?"));
    assertArrayEquals(new long[] {11, 12, 14}, wordPiece.encode("Cats."));
    assertArrayEquals(new long[] {1}, wordPiece.encode("zebra"));
    assertArrayEquals(new long[0], wordPiece.encode(""));
    long[] long600 = wordPiece.encode("cat ".repeat(600));
    assertEquals(600, long600.length);
  }

  @Test
  void decodesWithAndWithoutSpecialTokens() {
    long[] ids = {2, 10, 11, 12, 3};
    assertEquals("a cats", wordPiece.decode(ids, true));
    assertEquals("[CLS] a cats [SEP]", wordPiece.decode(ids, false));
    assertEquals(
        "what is in the picture?",
        wordPiece.decode(wordPiece.encode("What is in the picture?"), true));
  }

  @Test
  void offlineSwitchesAreSet() {
    assertEquals("true", System.getProperty("ai.djl.offline"));
    assertTrue(System.getProperty("OPT_OUT_TRACKING") != null);
    assertTrue(System.getProperty("RUST_FLAVOR") != null);
  }

  @Test
  void missingFileIsAnInvalidModel(@TempDir Path dir) {
    Path missing = dir.resolve("llm_tokenizer.json");
    EngineException e = assertThrows(EngineException.class, () -> TextTokenizer.load(missing));
    assertEquals(ErrorCode.MODEL_INVALID, e.code());
    assertEquals(
        "tokenizer file "
            + missing
            + " does not exist; the model directory must contain the tokenizer files named in"
            + " manifest.json",
        e.getMessage());
  }

  @Test
  void notATokenizerIsAnInvalidModel(@TempDir Path dir) throws IOException {
    Path bad = Files.writeString(dir.resolve("tokenizer.json"), "{\"hello\": 1}");
    EngineException e = assertThrows(EngineException.class, () -> TextTokenizer.load(bad));
    assertEquals(ErrorCode.MODEL_INVALID, e.code());
    assertTrue(e.getMessage().startsWith("cannot load tokenizer " + bad), e.getMessage());
  }
}
