package io.instructblip.engine.model;

import io.instructblip.engine.api.GenerationDefaults;
import java.util.Map;
import java.util.Optional;
import java.util.OptionalLong;

/**
 * The contents of a model directory's {@code manifest.json} (docs/model-format.md, version 1),
 * already validated. Obtain one through {@link ModelDirectory#open(java.nio.file.Path)} or {@link
 * ManifestParser#parse}. Array-valued fields are copies: changing them changes nothing here.
 *
 * @param stageFiles the ONNX file name of every stage the family uses (the others are absent)
 */
public record ModelManifest(
    String format,
    int formatVersion,
    String name,
    Source source,
    LlmFamily llmFamily,
    ModelDtype dtype,
    int numQueryTokens,
    Map<StageFile, String> stageFiles,
    String llmTokenizerFile,
    String qformerTokenizerFile,
    Vision vision,
    QFormer qformer,
    Llm llm,
    ImagePreprocessing imagePreprocessing,
    SpecialTokens specialTokens,
    PromptRecipe qformerPrompt,
    PromptRecipe llmPrompt,
    Ranking ranking,
    GenerationDefaults generationDefaults) {

  /** The manifest format name this runtime reads. */
  public static final String FORMAT = "instructblip-onnx";

  /** The {@code format_version} values this runtime reads. */
  public static final int SUPPORTED_VERSION = 1;

  /** Copies the file map so that the record is immutable. */
  public ModelManifest {
    stageFiles = Map.copyOf(stageFiles);
  }

  /** The file name of a stage, if this family uses it. */
  public Optional<String> stageFile(StageFile stage) {
    return Optional.ofNullable(stageFiles.get(stage));
  }

  /** Where the model came from (informational). */
  public record Source(String kind, String preset, String checkpoint, Long seed) {}

  /** Vision encoder dimensions; {@code numPositions} is N, the image tokens per image. */
  public record Vision(int imageSize, int patchSize, int hiddenSize, int numPositions) {}

  /** Q-Former dimensions. */
  public record QFormer(int hiddenSize, int maxTextTokens) {}

  /** LLM dimensions; KV tensors are {@code [B, numKvHeads, P, headDim]}. */
  public record Llm(
      int hiddenSize,
      int vocabSize,
      int numLayers,
      int numHeads,
      int numKvHeads,
      int headDim,
      int maxPositions) {}

  /** How an image becomes {@code pixel_values} (as HF {@code BlipImageProcessor}). */
  public record ImagePreprocessing(
      int size,
      String resample,
      boolean doConvertRgb,
      double rescaleFactor,
      double[] mean,
      double[] std) {
    /** Returns a copy of the per-channel mean. */
    @Override
    public double[] mean() {
      return mean.clone();
    }

    /** Returns a copy of the per-channel standard deviation. */
    @Override
    public double[] std() {
      return std.clone();
    }
  }

  /**
   * Special token ids; {@code decoderStart} is present for {@code encoder_decoder} only, {@code
   * llmBos} where the LLM has a BOS token (T5 has none).
   */
  public record SpecialTokens(
      long qformerCls,
      long qformerSep,
      long qformerPad,
      OptionalLong llmBos,
      long llmEos,
      long llmPad,
      OptionalLong decoderStart) {}

  /** Which side a batch of token sequences is padded on. */
  public enum PaddingSide {
    LEFT,
    RIGHT
  }

  /** The token-level recipe of one prompt: {@code prefixIds + encode(text) + suffixIds}. */
  public record PromptRecipe(
      long[] prefixIds, long[] suffixIds, int maxTokens, PaddingSide paddingSide) {
    /** Returns a copy of the ids put before the encoded text. */
    @Override
    public long[] prefixIds() {
      return prefixIds.clone();
    }

    /** Returns a copy of the ids put after the encoded text. */
    @Override
    public long[] suffixIds() {
      return suffixIds.clone();
    }
  }

  /** Ranking options. */
  public record Ranking(boolean appendEos) {}
}
