package io.instructblip.engine.generate;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.io.InputStream;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.stream.Stream;
import org.junit.jupiter.api.DynamicTest;
import org.junit.jupiter.api.TestFactory;

/**
 * Greedy and beam search agree token for token with the Python reference
 * (deploy/model-export/instructblip_export/generation.py) on the cases that {@code
 * make_reference_searches.py} (next to the JSON file) wrote: fake models given as tables from a
 * row's generated ids to logits. The Java search must ask for exactly the histories the reference
 * asked for, and return the same ids, finish reason and (beam) score.
 */
class ReferenceSearchesTest {
  private static final String RESOURCE = "reference-searches.json";

  @TestFactory
  Stream<DynamicTest> agreesWithThePythonReference() throws IOException {
    JsonNode root;
    try (InputStream in = ReferenceSearchesTest.class.getResourceAsStream(RESOURCE)) {
      assertNotNull(in, RESOURCE + " is missing from the test resources");
      root = new ObjectMapper().readTree(in);
    }
    List<DynamicTest> tests = new ArrayList<>();
    int index = 0;
    for (JsonNode c : root.get("cases")) {
      JsonNode p = c.get("params");
      String name =
          "case "
              + index++
              + ": beams "
              + p.get("num_beams").asInt()
              + ", max "
              + p.get("max_new_tokens").asInt();
      tests.add(DynamicTest.dynamicTest(name, () -> check(c)));
    }
    return tests.stream();
  }

  private static void check(JsonNode c) {
    JsonNode p = c.get("params");
    GenerationParams params =
        GenerationParams.builder()
            .eosTokenIds(c.get("eos").asInt())
            .maxNewTokens(p.get("max_new_tokens").asInt())
            .minNewTokens(p.get("min_new_tokens").asInt())
            .numBeams(p.get("num_beams").asInt())
            .lengthPenalty(p.get("length_penalty").asDouble())
            .repetitionPenalty(p.get("repetition_penalty").asDouble())
            .build();
    int[] prefix = ints(c.get("prefix"));
    JsonNode table = c.get("table");
    FakeModel model =
        generated -> {
          JsonNode row = table.get(Arrays.toString(generated));
          assertNotNull(row, "the reference never asked for history " + Arrays.toString(generated));
          float[] logits = new float[row.size()];
          for (int i = 0; i < logits.length; i++) {
            logits[i] = (float) row.get(i).asDouble();
          }
          return logits;
        };
    Search search = Search.create(params, prefix);
    model.run(search);

    JsonNode expected = c.get("expected");
    SearchResult result = search.result();
    List<Integer> ids = new ArrayList<>();
    expected.get("token_ids").forEach(t -> ids.add(t.asInt()));
    assertEquals(ids, result.tokenIds());
    assertEquals(expected.get("finish_reason").asText(), result.finishReason().wireName());
    if (!expected.get("score").isNull()) {
      double score = expected.get("score").asDouble();
      assertEquals(score, result.score(), 1e-6 * Math.max(1, Math.abs(score)));
    }
  }

  private static int[] ints(JsonNode array) {
    int[] out = new int[array.size()];
    for (int i = 0; i < out.length; i++) {
      out[i] = array.get(i).asInt();
    }
    return out;
  }
}
