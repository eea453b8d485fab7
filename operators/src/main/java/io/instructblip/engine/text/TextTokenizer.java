package io.instructblip.engine.text;

import ai.djl.huggingface.tokenizers.HuggingFaceTokenizer;
import io.instructblip.engine.api.EngineException;
import io.instructblip.engine.api.ErrorCode;
import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import java.util.Objects;

/**
 * A HuggingFace {@code tokenizers} tokenizer loaded from a {@code tokenizer.json} file, used
 * without its own special-token template: no padding, no truncation, {@code add_special_tokens =
 * false} (the manifest's prompt recipe adds every special token, see docs/model-format.md).
 *
 * <p>Fully offline. Before the first tokenizer is created the DJL switches are set as system
 * properties unless already set: {@code ai.djl.offline=true} and {@code OPT_OUT_TRACKING=true} (DJL
 * otherwise probes the network for telemetry on every load) and {@code RUST_FLAVOR=cpu} (on a
 * machine with CUDA, DJL would otherwise look for, and try to download, a CUDA build of its
 * tokenizer library). Environment variables of the same names take precedence in DJL. The native
 * library is extracted under {@code DJL_CACHE_DIR} (default {@code ~/.djl.ai}).
 *
 * <p>Encoding and decoding are thread-safe; {@link #close()} frees the native tokenizer.
 */
public final class TextTokenizer implements AutoCloseable {

  private static final Map<String, String> OPTIONS =
      Map.of(
          "addSpecialTokens", "false",
          "padding", "false",
          "truncation", "false",
          "withOverflowingTokens", "false");

  static {
    setIfAbsent("ai.djl.offline", "true");
    setIfAbsent("OPT_OUT_TRACKING", "true");
    setIfAbsent("RUST_FLAVOR", "cpu");
  }

  private final HuggingFaceTokenizer tokenizer;
  private final Path source;

  private TextTokenizer(HuggingFaceTokenizer tokenizer, Path source) {
    this.tokenizer = tokenizer;
    this.source = source;
  }

  /**
   * Loads the tokenizer in {@code tokenizerJson} (a HuggingFace {@code tokenizer.json} file).
   *
   * @throws EngineException {@link ErrorCode#MODEL_INVALID} when the file is missing or not a
   *     tokenizer
   */
  public static TextTokenizer load(Path tokenizerJson) {
    Objects.requireNonNull(tokenizerJson, "tokenizerJson");
    if (!Files.isRegularFile(tokenizerJson)) {
      throw new EngineException(
          ErrorCode.MODEL_INVALID,
          "tokenizer file "
              + tokenizerJson
              + " does not exist; the model directory must contain the tokenizer files named in"
              + " manifest.json");
    }
    try (InputStream in = Files.newInputStream(tokenizerJson)) {
      return new TextTokenizer(HuggingFaceTokenizer.newInstance(in, OPTIONS), tokenizerJson);
    } catch (IOException | RuntimeException e) {
      throw new EngineException(
          ErrorCode.MODEL_INVALID,
          "cannot load tokenizer "
              + tokenizerJson
              + " ("
              + e.getMessage()
              + "); it must be a HuggingFace tokenizers tokenizer.json",
          e);
    }
  }

  /** The file this tokenizer was loaded from. */
  public Path source() {
    return source;
  }

  /** The token ids of {@code text}, without any special token added. */
  public long[] encode(String text) {
    Objects.requireNonNull(text, "text");
    return tokenizer.encode(text, false, false).getIds();
  }

  /** The text of {@code ids}; special tokens are left out when {@code skipSpecialTokens}. */
  public String decode(long[] ids, boolean skipSpecialTokens) {
    Objects.requireNonNull(ids, "ids");
    return tokenizer.decode(ids, skipSpecialTokens);
  }

  @Override
  public void close() {
    tokenizer.close();
  }

  private static void setIfAbsent(String key, String value) {
    if (System.getProperty(key) == null) {
      System.setProperty(key, value);
    }
  }
}
