package io.instructblip.engine.model;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.instructblip.engine.api.EngineException;
import io.instructblip.engine.api.ErrorCode;
import io.instructblip.engine.api.GenerationDefaults;
import io.instructblip.engine.api.GenerationParameter;
import io.instructblip.engine.model.ModelManifest.ImagePreprocessing;
import io.instructblip.engine.model.ModelManifest.Llm;
import io.instructblip.engine.model.ModelManifest.PaddingSide;
import io.instructblip.engine.model.ModelManifest.PromptRecipe;
import io.instructblip.engine.model.ModelManifest.QFormer;
import io.instructblip.engine.model.ModelManifest.Ranking;
import io.instructblip.engine.model.ModelManifest.Source;
import io.instructblip.engine.model.ModelManifest.SpecialTokens;
import io.instructblip.engine.model.ModelManifest.Vision;
import java.util.EnumMap;
import java.util.Locale;
import java.util.Map;
import java.util.OptionalLong;

/**
 * Reads {@code manifest.json} into a {@link ModelManifest} and checks every field rule of
 * docs/model-format.md that needs no other file. Failures are {@link ErrorCode#MODEL_INVALID} with
 * a message naming the field, e.g. {@code manifest.json: llm.num_layers is missing}.
 */
public final class ManifestParser {
  /** The manifest's file name, used as the prefix of every message. */
  public static final String FILE_NAME = "manifest.json";

  private static final ObjectMapper MAPPER = new ObjectMapper();

  private ManifestParser() {}

  /** Parses and validates the manifest text. */
  public static ModelManifest parse(String json) {
    JsonNode root;
    try {
      root = MAPPER.readTree(json);
    } catch (JsonProcessingException e) {
      throw invalid("is not valid JSON (" + e.getOriginalMessage() + ")");
    }
    if (root == null || !root.isObject()) {
      throw invalid("must hold a JSON object");
    }
    return read(new Fields(root, ""));
  }

  private static ModelManifest read(Fields root) {
    String format = root.string("format");
    if (!ModelManifest.FORMAT.equals(format)) {
      throw invalid("format is \"" + format + "\", expected \"" + ModelManifest.FORMAT + "\"");
    }
    int version = root.integer("format_version");
    if (version != ModelManifest.SUPPORTED_VERSION) {
      throw invalid(
          "format_version "
              + version
              + " is not supported; this runtime reads format_version "
              + ModelManifest.SUPPORTED_VERSION
              + " (re-export the model with a matching export tool)");
    }
    String name = root.string("name");
    Source source = readSource(root.optionalObject("source"));
    LlmFamily family = root.choice("llm_family", LlmFamily.values(), LlmFamily::wireName);
    ModelDtype dtype = root.choice("dtype", ModelDtype.values(), ModelDtype::wireName);
    int numQueryTokens = root.positive("num_query_tokens");

    Fields files = root.object("files");
    Map<StageFile, String> stageFiles = new EnumMap<>(StageFile.class);
    for (StageFile stage : StageFile.values()) {
      String fileName = files.optionalString(stage.key());
      boolean required = StageFile.requiredFor(family).contains(stage);
      if (required && fileName == null) {
        throw invalid(
            files.path(stage.key())
                + " is missing or null, but llm_family "
                + family.wireName()
                + " needs it");
      }
      if (!required && fileName != null) {
        throw invalid(
            files.path(stage.key())
                + " must be null for llm_family "
                + family.wireName()
                + ", found \""
                + fileName
                + "\"");
      }
      if (fileName != null) {
        stageFiles.put(stage, fileName);
      }
    }
    String llmTokenizer = files.string("llm_tokenizer");
    String qformerTokenizer = files.string("qformer_tokenizer");

    Fields visionFields = root.object("vision");
    Vision vision =
        new Vision(
            visionFields.positive("image_size"),
            visionFields.positive("patch_size"),
            visionFields.positive("hidden_size"),
            visionFields.positive("num_positions"));
    if (vision.imageSize() % vision.patchSize() != 0) {
      throw invalid(
          "vision.image_size "
              + vision.imageSize()
              + " is not a multiple of vision.patch_size "
              + vision.patchSize());
    }
    int side = vision.imageSize() / vision.patchSize();
    if (vision.numPositions() != side * side + 1) {
      throw invalid(
          "vision.num_positions is "
              + vision.numPositions()
              + ", expected (image_size / patch_size)^2 + 1 = "
              + (side * side + 1));
    }

    Fields qformerFields = root.object("qformer");
    QFormer qformer =
        new QFormer(
            qformerFields.positive("hidden_size"), qformerFields.positive("max_text_tokens"));

    Fields llmFields = root.object("llm");
    Llm llm =
        new Llm(
            llmFields.positive("hidden_size"),
            llmFields.positive("vocab_size"),
            llmFields.positive("num_layers"),
            llmFields.positive("num_heads"),
            llmFields.positive("num_kv_heads"),
            llmFields.positive("head_dim"),
            llmFields.positive("max_positions"));
    if (llm.numHeads() % llm.numKvHeads() != 0) {
      throw invalid(
          "llm.num_heads "
              + llm.numHeads()
              + " is not a multiple of llm.num_kv_heads "
              + llm.numKvHeads());
    }
    if (family == LlmFamily.ENCODER_DECODER && llm.numKvHeads() != llm.numHeads()) {
      throw invalid("llm.num_kv_heads must equal llm.num_heads for llm_family encoder_decoder");
    }

    ImagePreprocessing preprocessing = readPreprocessing(root.object("image_preprocessing"));
    if (preprocessing.size() != vision.imageSize()) {
      throw invalid(
          "image_preprocessing.size is "
              + preprocessing.size()
              + ", expected vision.image_size "
              + vision.imageSize());
    }

    SpecialTokens special = readSpecialTokens(root.object("special_tokens"), family, llm);

    Fields prompt = root.object("prompt");
    PromptRecipe qformerPrompt = readPrompt(prompt.object("qformer"), Long.MAX_VALUE);
    PromptRecipe llmPrompt = readPrompt(prompt.object("llm"), llm.vocabSize());
    if (qformerPrompt.maxTokens() > qformer.maxTextTokens()) {
      throw invalid(
          "prompt.qformer.max_tokens "
              + qformerPrompt.maxTokens()
              + " exceeds qformer.max_text_tokens "
              + qformer.maxTextTokens());
    }

    Ranking ranking = new Ranking(root.object("ranking").bool("append_eos"));
    GenerationDefaults defaults = readGenerationDefaults(root.object("generation_defaults"));

    return new ModelManifest(
        format,
        version,
        name,
        source,
        family,
        dtype,
        numQueryTokens,
        stageFiles,
        llmTokenizer,
        qformerTokenizer,
        vision,
        qformer,
        llm,
        preprocessing,
        special,
        qformerPrompt,
        llmPrompt,
        ranking,
        defaults);
  }

  private static Source readSource(Fields source) {
    if (source == null) {
      return new Source("unknown", null, null, null);
    }
    OptionalLong seed = source.optionalLong("seed");
    return new Source(
        source.string("kind"),
        source.optionalString("preset"),
        source.optionalString("checkpoint"),
        seed.isPresent() ? seed.getAsLong() : null);
  }

  private static ImagePreprocessing readPreprocessing(Fields fields) {
    double[] mean = fields.doubles("mean", 3);
    double[] std = fields.doubles("std", 3);
    for (int c = 0; c < 3; c++) {
      if (!(std[c] > 0)) {
        throw invalid(fields.path("std") + "[" + c + "] must be > 0, found " + std[c]);
      }
    }
    double rescale = fields.number("rescale_factor");
    if (!(rescale > 0)) {
      throw invalid(fields.path("rescale_factor") + " must be > 0, found " + rescale);
    }
    return new ImagePreprocessing(
        fields.positive("size"),
        fields.string("resample"),
        fields.bool("do_convert_rgb"),
        rescale,
        mean,
        std);
  }

  private static SpecialTokens readSpecialTokens(Fields fields, LlmFamily family, Llm llm) {
    OptionalLong decoderStart = fields.optionalLong("decoder_start");
    if (family == LlmFamily.ENCODER_DECODER && decoderStart.isEmpty()) {
      throw invalid(fields.path("decoder_start") + " is missing, but encoder_decoder needs it");
    }
    if (family == LlmFamily.DECODER_ONLY && decoderStart.isPresent()) {
      throw invalid(fields.path("decoder_start") + " must be null for llm_family decoder_only");
    }
    if (decoderStart.isPresent()) {
      checkTokenId(fields.path("decoder_start"), decoderStart.getAsLong(), llm.vocabSize());
    }
    OptionalLong bos = fields.optionalLong("llm_bos");
    if (bos.isPresent()) {
      checkTokenId(fields.path("llm_bos"), bos.getAsLong(), llm.vocabSize());
    }
    return new SpecialTokens(
        fields.tokenId("qformer_cls", Long.MAX_VALUE),
        fields.tokenId("qformer_sep", Long.MAX_VALUE),
        fields.tokenId("qformer_pad", Long.MAX_VALUE),
        bos,
        fields.tokenId("llm_eos", llm.vocabSize()),
        fields.tokenId("llm_pad", llm.vocabSize()),
        decoderStart);
  }

  private static PromptRecipe readPrompt(Fields fields, long vocabSize) {
    long[] prefix = fields.longs("prefix_ids");
    long[] suffix = fields.longs("suffix_ids");
    for (int i = 0; i < prefix.length; i++) {
      checkTokenId(fields.path("prefix_ids") + "[" + i + "]", prefix[i], vocabSize);
    }
    for (int i = 0; i < suffix.length; i++) {
      checkTokenId(fields.path("suffix_ids") + "[" + i + "]", suffix[i], vocabSize);
    }
    int maxTokens = fields.positive("max_tokens");
    if (maxTokens <= prefix.length + suffix.length) {
      throw invalid(
          fields.path("max_tokens")
              + " is "
              + maxTokens
              + ", which leaves no room for text after "
              + (prefix.length + suffix.length)
              + " prefix/suffix ids");
    }
    PaddingSide side =
        fields.choice("padding_side", PaddingSide.values(), s -> s.name().toLowerCase(Locale.ROOT));
    return new PromptRecipe(prefix, suffix, maxTokens, side);
  }

  /**
   * The manifest's generation defaults: every parameter of {@link GenerationParameter} that a model
   * directory sets, its type checked here, its range by the one set of rules every request is
   * checked against (through {@link GenerationDefaults}), so the manifest cannot accept a default
   * that a request could not send.
   */
  private static GenerationDefaults readGenerationDefaults(Fields fields) {
    Map<GenerationParameter, Object> values = new EnumMap<>(GenerationParameter.class);
    for (GenerationParameter p : GenerationParameter.values()) {
      if (p.modelDefault()) {
        values.put(p, fields.parameter(p));
      }
    }
    // Checks the ranges and fails with MODEL_INVALID naming generation_defaults.
    return GenerationDefaults.of(values::get);
  }

  private static void checkTokenId(String path, long id, long vocabSize) {
    if (id < 0 || id >= vocabSize) {
      throw invalid(
          path
              + " is "
              + id
              + ", outside the vocabulary"
              + (vocabSize == Long.MAX_VALUE ? "" : " [0, " + vocabSize + ")"));
    }
  }

  static EngineException invalid(String what) {
    return new EngineException(ErrorCode.MODEL_INVALID, FILE_NAME + ": " + what);
  }

  /** The fields of one JSON object, with the dotted path used in messages. */
  private record Fields(JsonNode node, String prefix) {

    String path(String field) {
      return prefix + field;
    }

    private JsonNode present(String field) {
      JsonNode value = node.get(field);
      if (value == null || value.isNull()) {
        throw invalid(path(field) + " is missing");
      }
      return value;
    }

    private static String describe(JsonNode value) {
      return value.toString();
    }

    Fields object(String field) {
      JsonNode value = present(field);
      if (!value.isObject()) {
        throw invalid(path(field) + " must be an object, found " + describe(value));
      }
      return new Fields(value, path(field) + ".");
    }

    Fields optionalObject(String field) {
      JsonNode value = node.get(field);
      return value == null || value.isNull() ? null : object(field);
    }

    String string(String field) {
      JsonNode value = present(field);
      if (!value.isTextual()) {
        throw invalid(path(field) + " must be a string, found " + describe(value));
      }
      return value.asText();
    }

    String optionalString(String field) {
      JsonNode value = node.get(field);
      return value == null || value.isNull() ? null : string(field);
    }

    int integer(String field) {
      JsonNode value = present(field);
      if (!value.isIntegralNumber() || !value.canConvertToInt()) {
        throw invalid(path(field) + " must be an integer, found " + describe(value));
      }
      return value.intValue();
    }

    int positive(String field) {
      int value = integer(field);
      if (value <= 0) {
        throw invalid(path(field) + " must be > 0, found " + value);
      }
      return value;
    }

    long tokenId(String field, long vocabSize) {
      JsonNode value = present(field);
      if (!value.isIntegralNumber() || !value.canConvertToLong()) {
        throw invalid(path(field) + " must be an integer, found " + describe(value));
      }
      checkTokenId(path(field), value.longValue(), vocabSize);
      return value.longValue();
    }

    OptionalLong optionalLong(String field) {
      JsonNode value = node.get(field);
      if (value == null || value.isNull()) {
        return OptionalLong.empty();
      }
      if (!value.isIntegralNumber() || !value.canConvertToLong()) {
        throw invalid(path(field) + " must be an integer or null, found " + describe(value));
      }
      return OptionalLong.of(value.longValue());
    }

    /** The value of the generation parameter {@code p}, of its type. */
    Object parameter(GenerationParameter p) {
      JsonNode node = present(p.key());
      Object value = GenerationParametersJson.value(p, node);
      if (value == null) {
        throw invalid(
            path(p.key())
                + (p.type() == GenerationParameter.ValueType.BOOLEAN
                    ? " must be true or false"
                    : p.type() == GenerationParameter.ValueType.DOUBLE
                        ? " must be a number"
                        : " must be an integer")
                + ", found "
                + describe(node));
      }
      return value;
    }

    double number(String field) {
      JsonNode value = present(field);
      if (!value.isNumber()) {
        throw invalid(path(field) + " must be a number, found " + describe(value));
      }
      return value.doubleValue();
    }

    boolean bool(String field) {
      JsonNode value = present(field);
      if (!value.isBoolean()) {
        throw invalid(path(field) + " must be true or false, found " + describe(value));
      }
      return value.booleanValue();
    }

    long[] longs(String field) {
      JsonNode value = present(field);
      if (!value.isArray()) {
        throw invalid(path(field) + " must be an array of integers, found " + describe(value));
      }
      long[] result = new long[value.size()];
      for (int i = 0; i < result.length; i++) {
        JsonNode item = value.get(i);
        if (!item.isIntegralNumber() || !item.canConvertToLong()) {
          throw invalid(path(field) + "[" + i + "] must be an integer, found " + describe(item));
        }
        result[i] = item.longValue();
      }
      return result;
    }

    double[] doubles(String field, int length) {
      JsonNode value = present(field);
      if (!value.isArray() || value.size() != length) {
        throw invalid(
            path(field) + " must be an array of " + length + " numbers, found " + describe(value));
      }
      double[] result = new double[length];
      for (int i = 0; i < length; i++) {
        JsonNode item = value.get(i);
        if (!item.isNumber()) {
          throw invalid(path(field) + "[" + i + "] must be a number, found " + describe(item));
        }
        result[i] = item.doubleValue();
      }
      return result;
    }

    <E> E choice(String field, E[] values, java.util.function.Function<E, String> wireName) {
      String text = string(field);
      StringBuilder allowed = new StringBuilder();
      for (E value : values) {
        if (wireName.apply(value).equals(text)) {
          return value;
        }
        allowed.append(allowed.length() == 0 ? "" : " or ").append(wireName.apply(value));
      }
      throw invalid(path(field) + " is \"" + text + "\", expected " + allowed);
    }
  }
}
