package io.instructblip.engine.model;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.instructblip.engine.api.EngineException;
import io.instructblip.engine.api.ErrorCode;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.function.Consumer;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class ModelDirectoryTest {
  private static final ObjectMapper JSON = new ObjectMapper();

  @TempDir Path temp;
  private int copies;

  @Test
  void opensBothFixtureFamilies() {
    ModelDirectory vicuna = ModelDirectory.open(ModelFixtures.modelDir("tiny-vicuna"));
    ModelManifest m = vicuna.manifest();
    assertEquals(LlmFamily.DECODER_ONLY, m.llmFamily());
    assertEquals(ModelDtype.FLOAT32, m.dtype());
    assertEquals(vicuna.root().resolve("decoder.onnx"), vicuna.stagePath(StageFile.DECODER));
    assertTrue(m.stageFile(StageFile.ENCODER).isEmpty());
    assertTrue(m.specialTokens().decoderStart().isEmpty());
    assertEquals(m.vision().numPositions(), 17);

    ModelDirectory t5 = ModelDirectory.open(ModelFixtures.modelDir("tiny-flant5"));
    assertEquals(LlmFamily.ENCODER_DECODER, t5.manifest().llmFamily());
    assertEquals(0L, t5.manifest().specialTokens().decoderStart().getAsLong());
    assertArrayEquals(new long[] {1}, t5.manifest().llmPrompt().suffixIds());
    assertThrows(IllegalArgumentException.class, () -> vicuna.stagePath(StageFile.DECODER_INIT));
  }

  private Path brokenCopy(Consumer<ObjectNode> edit) throws IOException {
    Path dir = ModelFixtures.copyModel("tiny-vicuna", temp.resolve("model" + copies++));
    Path manifest = dir.resolve("manifest.json");
    ObjectNode root = (ObjectNode) JSON.readTree(manifest.toFile());
    edit.accept(root);
    JSON.writeValue(manifest.toFile(), root);
    return dir;
  }

  private String failure(Consumer<ObjectNode> edit) throws IOException {
    Path dir = brokenCopy(edit);
    EngineException e = assertThrows(EngineException.class, () -> ModelDirectory.open(dir));
    assertEquals(ErrorCode.MODEL_INVALID, e.code());
    return e.getMessage();
  }

  private static ObjectNode at(ObjectNode root, String field) {
    return (ObjectNode) root.get(field);
  }

  @Test
  void namesAMissingField() throws IOException {
    assertEquals(
        "manifest.json: llm.num_layers is missing",
        failure(root -> at(root, "llm").remove("num_layers")));
    assertEquals(
        "manifest.json: special_tokens.llm_eos is missing",
        failure(root -> at(root, "special_tokens").putNull("llm_eos")));
    assertEquals(
        "manifest.json: generation_defaults is missing",
        failure(root -> root.remove("generation_defaults")));
  }

  @Test
  void namesAFieldOfTheWrongType() throws IOException {
    assertEquals(
        "manifest.json: llm.num_layers must be an integer, found \"two\"",
        failure(root -> at(root, "llm").put("num_layers", "two")));
    assertEquals(
        "manifest.json: vision.hidden_size must be > 0, found 0",
        failure(root -> at(root, "vision").put("hidden_size", 0)));
    assertEquals(
        "manifest.json: ranking.append_eos must be true or false, found 1",
        failure(root -> at(root, "ranking").put("append_eos", 1)));
  }

  /**
   * The generation defaults obey the rules a request obeys (ParameterRules): the parser used to
   * re-implement them and accepted an infinite temperature, which no request may send.
   */
  @Test
  void generationDefaultsFollowTheRequestRules() throws IOException {
    assertEquals(
        "manifest.json generation_defaults: temperature must be a number between 0.01 and 100.0"
            + " (lower values overflow; 0.01 is all but greedy, or set do_sample false), got"
            + " Infinity; fix the model directory",
        failure(
            root ->
                at(root, "generation_defaults")
                    .put("temperature", new java.math.BigDecimal("1e999"))));
    assertEquals(
        "manifest.json generation_defaults: num_beams must be between 1 (no beam search) and 64,"
            + " got 65; fix the model directory",
        failure(root -> at(root, "generation_defaults").put("num_beams", 65)));
    assertEquals(
        "manifest.json generation_defaults: top_p must be greater than 0 and at most 1 (1.0 turns"
            + " it off), got 1.5; fix the model directory",
        failure(root -> at(root, "generation_defaults").put("top_p", 1.5)));
  }

  @Test
  void refusesOtherFormatsAndVersions() throws IOException {
    assertEquals(
        "manifest.json: format is \"onnx\", expected \"instructblip-onnx\"",
        failure(root -> root.put("format", "onnx")));
    assertEquals(
        "manifest.json: format_version 2 is not supported; this runtime reads format_version 1"
            + " (re-export the model with a matching export tool)",
        failure(root -> root.put("format_version", 2)));
    assertEquals(
        "manifest.json: dtype is \"bfloat16\", expected float32 or float16",
        failure(root -> root.put("dtype", "bfloat16")));
    assertEquals(
        "manifest.json: llm_family is \"moe\", expected decoder_only or encoder_decoder",
        failure(root -> root.put("llm_family", "moe")));
  }

  @Test
  void checksDimensionRules() throws IOException {
    assertEquals(
        "manifest.json: vision.num_positions is 16, expected (image_size / patch_size)^2 + 1 = 17",
        failure(root -> at(root, "vision").put("num_positions", 16)));
    assertEquals(
        "manifest.json: image_preprocessing.size is 224, expected vision.image_size 32",
        failure(root -> at(root, "image_preprocessing").put("size", 224)));
    assertEquals(
        "manifest.json: llm.num_heads 4 is not a multiple of llm.num_kv_heads 3",
        failure(root -> at(root, "llm").put("num_kv_heads", 3)));
    assertEquals(
        "manifest.json: special_tokens.llm_eos is 256, outside the vocabulary [0, 256)",
        failure(root -> at(root, "special_tokens").put("llm_eos", 256)));
  }

  @Test
  void checksFilesOfTheFamily() throws IOException {
    assertEquals(
        "manifest.json: files.encoder must be null for llm_family decoder_only, found"
            + " \"encoder.onnx\"",
        failure(root -> at(root, "files").put("encoder", "encoder.onnx")));
    assertEquals(
        "manifest.json: files.encoder is missing or null, but llm_family encoder_decoder needs it",
        failure(
            root -> {
              root.put("llm_family", "encoder_decoder");
            }));
    assertEquals(
        "manifest.json: special_tokens.decoder_start must be null for llm_family decoder_only",
        failure(root -> at(root, "special_tokens").put("decoder_start", 0)));
    assertEquals(
        "manifest.json: files.qformer is \"../qformer.onnx\": files must be plain names inside the"
            + " model directory",
        failure(root -> at(root, "files").put("qformer", "../qformer.onnx")));
  }

  @Test
  void namesAMissingFile() throws IOException {
    Path dir = ModelFixtures.copyModel("tiny-vicuna", temp.resolve("model"));
    Files.delete(dir.resolve("decoder.onnx"));
    EngineException e = assertThrows(EngineException.class, () -> ModelDirectory.open(dir));
    assertEquals(ErrorCode.MODEL_INVALID, e.code());
    assertEquals(
        "manifest.json: files.decoder names \"decoder.onnx\", which does not exist in " + dir,
        e.getMessage());
  }

  @Test
  void failsOnMissingDirectoryManifestOrBadJson() throws IOException {
    Path missing = temp.resolve("nothing-here");
    assertEquals(
        "model directory " + missing + " does not exist or is not a directory",
        assertThrows(EngineException.class, () -> ModelDirectory.open(missing)).getMessage());
    Path empty = Files.createDirectories(temp.resolve("empty"));
    assertEquals(
        "manifest.json: not found in "
            + empty
            + " (is this a model directory written by deploy/model-export?)",
        assertThrows(EngineException.class, () -> ModelDirectory.open(empty)).getMessage());
    Files.writeString(empty.resolve("manifest.json"), "[1, 2]");
    assertEquals(
        "manifest.json: must hold a JSON object",
        assertThrows(EngineException.class, () -> ModelDirectory.open(empty)).getMessage());
  }
}
