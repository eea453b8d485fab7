package io.instructblip.flink.pipeline;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.instructblip.engine.api.EngineRequest;
import io.instructblip.engine.model.GoldenFiles;
import io.instructblip.engine.model.ModelFixtures;
import io.instructblip.flink.InFlight;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

/** The tiny-vicuna golden cases as stage items, for the tests of the model stages. */
final class GoldenStageItems {
  private static final ObjectMapper JSON = new ObjectMapper();

  /** The fixture the cases belong to, on the CPU with one thread per session. */
  static final EngineSpec ENGINE =
      new EngineSpec(ModelFixtures.modelDir("tiny-vicuna").toString(), "cpu", 1);

  private GoldenStageItems() {}

  /**
   * The greedy and beam cases of the tiny-vicuna reference, as fresh stage items in the file's
   * order; {@code expected} receives each case's reference token ids.
   */
  static List<StageItem> generateCases(Map<String, List<Integer>> expected) throws Exception {
    JsonNode golden =
        JSON.readTree(ModelFixtures.root().resolve("golden/tiny-vicuna/reference.json").toFile());
    List<StageItem> items = new ArrayList<>();
    for (JsonNode c : golden.get("cases")) {
      if (c.hasNonNull("candidates")) {
        continue;
      }
      String id = c.get("name").asText();
      EngineRequest request = GoldenFiles.request(id, c);
      List<Integer> tokens = new ArrayList<>();
      c.get("expected").get("token_ids").forEach(t -> tokens.add(t.asInt()));
      expected.put(id, tokens);
      items.add(StageItem.of(request, InFlight.NO_DEADLINE, ("ctx-" + id).getBytes()));
    }
    return items;
  }
}
