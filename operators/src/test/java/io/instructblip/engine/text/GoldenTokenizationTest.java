package io.instructblip.engine.text;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.instructblip.engine.model.ModelFixtures;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.stream.Stream;
import org.junit.jupiter.api.DynamicContainer;
import org.junit.jupiter.api.DynamicNode;
import org.junit.jupiter.api.DynamicTest;
import org.junit.jupiter.api.TestFactory;

/**
 * The fixture models' tokenizers and manifest recipes give exactly the ids of the Python reference
 * ({@code golden/<model>/reference.json}): Q-Former ids, LLM prompt ids, ranking candidate ids, and
 * the answer text decoded from the generated ids. Skipped without fixtures (system property {@code
 * instructblip.fixtures} or environment variable {@code INSTRUCTBLIP_FIXTURES}).
 */
class GoldenTokenizationTest {

  private static final ObjectMapper JSON = new ObjectMapper();

  static Path fixtures() {
    return ModelFixtures.root();
  }

  @TestFactory
  Stream<DynamicNode> tokenIdsMatchTheReference() throws IOException {
    Path root = fixtures();
    List<DynamicNode> models = new ArrayList<>();
    for (String model : new String[] {"tiny-vicuna", "tiny-flant5"}) {
      Path reference = root.resolve("golden").resolve(model).resolve("reference.json");
      Path manifest = root.resolve(model).resolve("manifest.json");
      if (Files.exists(reference) && Files.exists(manifest)) {
        models.add(DynamicContainer.dynamicContainer(model, cases(root.resolve(model), reference)));
      }
    }
    assertFalse(models.isEmpty(), "no reference.json with its model directory under " + root);
    return models.stream();
  }

  private static Stream<DynamicTest> cases(Path modelDir, Path referenceFile) throws IOException {
    JsonNode manifest = JSON.readTree(modelDir.resolve("manifest.json").toFile());
    JsonNode reference = JSON.readTree(referenceFile.toFile());
    List<DynamicTest> tests = new ArrayList<>();
    for (JsonNode c : reference.get("cases")) {
      tests.add(
          DynamicTest.dynamicTest(c.get("name").asText(), () -> checkCase(modelDir, manifest, c)));
    }
    return tests.stream();
  }

  private static void checkCase(Path modelDir, JsonNode manifest, JsonNode c) {
    JsonNode files = manifest.get("files");
    JsonNode special = manifest.get("special_tokens");
    try (TextTokenizer qformer =
            TextTokenizer.load(modelDir.resolve(files.get("qformer_tokenizer").asText()));
        TextTokenizer llm =
            TextTokenizer.load(modelDir.resolve(files.get("llm_tokenizer").asText()))) {
      PromptBuilder prompts =
          PromptBuilder.builder()
              .qformer(
                  qformer,
                  recipe(
                      manifest.get("prompt").get("qformer"), special.get("qformer_pad").asLong()))
              .llm(llm, recipe(manifest.get("prompt").get("llm"), special.get("llm_pad").asLong()))
              .eosId(special.get("llm_eos").asLong())
              .appendEosToCandidates(manifest.get("ranking").get("append_eos").asBoolean())
              .build();
      JsonNode expected = c.get("expected");
      PromptIds ids = prompts.build(c.get("instruction").asText());
      assertArrayEquals(longs(expected.get("qformer_input_ids")), ids.qformerIds(), "qformer ids");
      assertArrayEquals(longs(expected.get("prompt_ids")), ids.llmIds(), "prompt ids");
      assertEquals(expected.get("num_prompt_tokens").asInt(), ids.llmIds().length);
      JsonNode candidates = expected.get("candidates");
      if (candidates != null && !candidates.isNull()) {
        for (JsonNode candidate : candidates) {
          String text = candidate.get("text").asText();
          assertArrayEquals(
              longs(candidate.get("token_ids")), prompts.candidateIds(text), "candidate " + text);
        }
      }
      assertEquals(
          expected.get("text").asText(),
          prompts.answerText(longs(expected.get("token_ids"))),
          "answer text decoded from token_ids");
    }
  }

  private static PromptRecipe recipe(JsonNode node, long padId) {
    return new PromptRecipe(
        longs(node.get("prefix_ids")),
        longs(node.get("suffix_ids")),
        node.get("max_tokens").asInt(),
        PaddingSide.fromManifest(node.get("padding_side").asText()),
        padId);
  }

  private static long[] longs(JsonNode array) {
    long[] out = new long[array.size()];
    for (int i = 0; i < out.length; i++) {
      out[i] = array.get(i).asLong();
    }
    return out;
  }
}
