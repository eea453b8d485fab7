package io.instructblip.engine.model;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;
import org.junit.jupiter.api.DynamicContainer;
import org.junit.jupiter.api.DynamicNode;
import org.junit.jupiter.api.DynamicTest;
import org.junit.jupiter.api.TestFactory;

/**
 * Every case of {@code golden/<model>/stages.json} through the session of its file: inputs fed by
 * name, outputs compared by name within the file's tolerance (as numpy's {@code allclose} with
 * {@code atol = rtol = tolerance}).
 */
class GoldenStagesTest {
  private static final ObjectMapper JSON = new ObjectMapper();

  @TestFactory
  Stream<DynamicNode> everyStageCaseMatchesThePythonReference() throws IOException {
    List<DynamicNode> models = new ArrayList<>();
    for (String model : new String[] {"tiny-vicuna", "tiny-flant5"}) {
      JsonNode root = GoldenFiles.stages(model);
      double tolerance = root.get("tolerance").asDouble();
      List<DynamicTest> cases = new ArrayList<>();
      for (JsonNode testCase : root.get("cases")) {
        cases.add(
            DynamicTest.dynamicTest(
                testCase.get("name").asText(), () -> runCase(model, testCase, tolerance)));
      }
      assertFalse(cases.isEmpty(), model + " stages.json has no cases");
      models.add(DynamicContainer.dynamicContainer(model, cases));
    }
    return models.stream();
  }

  private static final Map<String, ModelSessions> OPEN = new LinkedHashMap<>();

  private static synchronized ModelSessions sessions(String model) {
    return OPEN.computeIfAbsent(
        model,
        name ->
            ModelSessions.open(
                ModelDirectory.open(ModelFixtures.modelDir(name)),
                SessionSettings.builder().intraOpThreads(1).build()));
  }

  @org.junit.jupiter.api.AfterAll
  static void closeAll() {
    OPEN.values().forEach(ModelSessions::close);
    OPEN.clear();
  }

  private static void runCase(String model, JsonNode testCase, double tolerance) {
    StageSession session = sessions(model).sessionForFile(testCase.get("file").asText());
    Map<String, HostTensor> inputs = new LinkedHashMap<>();
    for (Iterator<Map.Entry<String, JsonNode>> it = testCase.get("inputs").fields();
        it.hasNext(); ) {
      Map.Entry<String, JsonNode> entry = it.next();
      inputs.put(entry.getKey(), GoldenFiles.tensor(entry.getValue()));
    }
    Map<String, FloatTensor> actual = session.run(inputs);
    for (Iterator<Map.Entry<String, JsonNode>> it = testCase.get("outputs").fields();
        it.hasNext(); ) {
      Map.Entry<String, JsonNode> entry = it.next();
      FloatTensor expected = (FloatTensor) GoldenFiles.tensor(entry.getValue());
      FloatTensor got = actual.get(entry.getKey());
      String what = testCase.get("name").asText() + " " + entry.getKey();
      assertTrue(got != null, what + ": not among the outputs " + actual.keySet());
      assertArrayEquals(expected.shape(), got.shape(), what + ": shape");
      double worst = 0;
      int worstAt = -1;
      for (int i = 0; i < expected.data().length; i++) {
        double diff = Math.abs(expected.data()[i] - got.data()[i]);
        double allowed = tolerance + tolerance * Math.abs(expected.data()[i]);
        if (!(diff <= allowed) && (worstAt < 0 || diff > worst)) {
          worst = diff;
          worstAt = i;
        }
      }
      assertTrue(
          worstAt < 0,
          what
              + ": element "
              + worstAt
              + " differs by "
              + worst
              + " (expected "
              + (worstAt < 0 ? "" : expected.data()[worstAt])
              + ")");
    }
  }
}
