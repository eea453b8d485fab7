package io.instructblip.engine.model;

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
import java.nio.file.StandardCopyOption;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.function.Consumer;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class ModelSessionsTest {
  private static final ObjectMapper JSON = new ObjectMapper();

  @TempDir Path temp;
  private int copies;

  @Test
  void opensEveryStageOfBothFamiliesOnTheCpu() {
    for (String name : new String[] {"tiny-vicuna", "tiny-flant5"}) {
      ModelDirectory dir = ModelDirectory.open(ModelFixtures.modelDir(name));
      try (ModelSessions sessions = ModelSessions.open(dir, SessionSettings.defaults())) {
        assertEquals(DeviceSpec.cpu(), sessions.device());
        for (StageFile stage : StageFile.requiredFor(dir.manifest().llmFamily())) {
          assertEquals(stage.key() + ".onnx", sessions.session(stage).fileName());
        }
        assertEquals(sessions.session(StageFile.DECODER), sessions.sessionForFile("decoder.onnx"));
      }
    }
  }

  @Test
  void runsAStageByName() {
    ModelDirectory dir = ModelDirectory.open(ModelFixtures.modelDir("tiny-vicuna"));
    try (ModelSessions sessions = ModelSessions.open(dir, SessionSettings.defaults())) {
      StageSession embed = sessions.session(StageFile.EMBED_TOKENS);
      Map<String, FloatTensor> out =
          embed.run(Map.of("input_ids", LongTensor.of(new long[][] {{5, 6, 7}, {8, 9, 10}})));
      assertEquals(
          java.util.List.of(2, 3, dir.manifest().llm().hiddenSize()),
          java.util.Arrays.stream(out.get("inputs_embeds").shape()).boxed().toList());
      assertThrows(IllegalArgumentException.class, () -> embed.run(Map.of()));
    }
  }

  private String failure(String model, Consumer<Path> breakIt) {
    Path dir = ModelFixtures.copyModel(model, temp.resolve("model" + copies++));
    breakIt.accept(dir);
    ModelDirectory opened = ModelDirectory.open(dir);
    EngineException e =
        assertThrows(
            EngineException.class, () -> ModelSessions.open(opened, SessionSettings.defaults()));
    assertEquals(ErrorCode.MODEL_INVALID, e.code());
    return e.getMessage();
  }

  private static Consumer<Path> swap(String from, String to) {
    return dir -> {
      try {
        Files.copy(dir.resolve(from), dir.resolve(to), StandardCopyOption.REPLACE_EXISTING);
      } catch (IOException e) {
        throw new java.io.UncheckedIOException(e);
      }
    };
  }

  private static Consumer<Path> editManifest(Consumer<ObjectNode> edit) {
    return dir -> {
      try {
        ObjectNode root = (ObjectNode) JSON.readTree(dir.resolve("manifest.json").toFile());
        edit.accept(root);
        JSON.writeValue(dir.resolve("manifest.json").toFile(), root);
      } catch (IOException e) {
        throw new java.io.UncheckedIOException(e);
      }
    };
  }

  @Test
  void namesTheFileAndTensorOfASwappedModel() {
    String message = failure("tiny-vicuna", swap("qformer.onnx", "vision_encoder.onnx"));
    assertTrue(
        message.startsWith(
            "vision_encoder.onnx: input pixel_values is missing (the model's inputs"),
        message);
    assertEquals(
        "decoder.onnx: input inputs_embeds is missing (the model's inputs are [input_ids])",
        failure("tiny-vicuna", swap("embed_tokens.onnx", "decoder.onnx")));
  }

  @Test
  void namesTheTensorWhoseTypeOrShapeDisagreesWithTheManifest() {
    assertEquals(
        "vision_encoder.onnx: input pixel_values has type FLOAT, expected FLOAT16",
        failure("tiny-vicuna", editManifest(root -> root.put("dtype", "float16"))));
    assertEquals(
        "decoder.onnx: input past_key_values.2.key is missing (the model's inputs are"
            + " [inputs_embeds, attention_mask, position_ids, past_key_values.0.key,"
            + " past_key_values.0.value, past_key_values.1.key, past_key_values.1.value])",
        failure(
            "tiny-vicuna",
            editManifest(root -> ((ObjectNode) root.get("llm")).put("num_layers", 3))));
    assertTrue(
        failure(
                "tiny-vicuna",
                editManifest(root -> ((ObjectNode) root.get("llm")).put("num_layers", 1)))
            .startsWith("decoder.onnx: unexpected input past_key_values.1.key"));
    assertEquals(
        "decoder.onnx: input past_key_values.0.key has shape [-1, 4, -1, 8], expected [B,H,P,hd]"
            + " with hd = 16 (from manifest.json)",
        failure(
            "tiny-flant5",
            editManifest(root -> ((ObjectNode) root.get("llm")).put("head_dim", 16))));
  }

  @Test
  void parsesDevices() {
    assertEquals(DeviceSpec.cpu(), DeviceSpec.parse("cpu"));
    assertEquals(DeviceSpec.cuda(0), DeviceSpec.parse(" CUDA "));
    assertEquals(DeviceSpec.cuda(3), DeviceSpec.parse("cuda:3"));
    assertEquals(DeviceSpec.auto(), DeviceSpec.parse("auto"));
    assertEquals("cuda:3", DeviceSpec.cuda(3).toString());
    for (String bad : new String[] {"gpu", "cuda:", "cuda:-1", "cuda:x", "", "cpu:1"}) {
      EngineException e = assertThrows(EngineException.class, () -> DeviceSpec.parse(bad));
      assertEquals(ErrorCode.INVALID_PARAMETER, e.code());
      assertEquals(
          "device \"" + bad + "\" is not one of cpu, cuda, cuda:N (N = 0, 1, ...), auto",
          e.getMessage());
    }
  }

  @Test
  void autoWithoutADriverUsesTheCpuWithoutTryingCuda() {
    SessionSettings settings = SessionSettings.builder().device(DeviceSpec.auto()).build();
    List<Integer> cudaTried = new ArrayList<>();
    try (SessionOptionsFactory.Prepared prepared =
        new SessionOptionsFactory(() -> false, (options, device) -> cudaTried.add(device))
            .create(settings)) {
      assertEquals(DeviceSpec.cpu(), prepared.device());
    }
    assertEquals(List.of(), cudaTried, "auto must not try CUDA without a driver");
  }

  @Test
  void autoWithADriverTriesCudaZeroAndFallsBackToTheCpu() {
    SessionSettings settings = SessionSettings.builder().device(DeviceSpec.auto()).build();
    List<Integer> cudaTried = new ArrayList<>();
    SessionOptionsFactory factory =
        new SessionOptionsFactory(
            () -> true,
            (options, device) -> {
              cudaTried.add(device);
              throw new IllegalStateException("no CUDA here");
            });
    try (SessionOptionsFactory.Prepared prepared = factory.create(settings)) {
      assertEquals(DeviceSpec.cpu(), prepared.device());
    }
    assertEquals(List.of(0), cudaTried);
  }

  @Test
  void cudaThatCannotLoadIsDeviceUnavailableWithOnnxRuntimesReason() {
    org.junit.jupiter.api.Assumptions.assumeFalse(
        NvidiaDriverProbe.driverPresent(), "this machine has an NVIDIA driver");
    SessionSettings settings = SessionSettings.builder().device(DeviceSpec.cuda(0)).build();
    EngineException e =
        assertThrows(EngineException.class, () -> new SessionOptionsFactory().create(settings));
    assertEquals(ErrorCode.DEVICE_UNAVAILABLE, e.code());
    assertTrue(e.getMessage().startsWith("device cuda:0 cannot be used: ONNX Runtime says: "));
    assertTrue(
        e.getMessage()
            .endsWith(" (no NVIDIA driver found on this machine; use --device cpu or auto)"),
        e.getMessage());

    // auto where a driver seems present but CUDA does not load: falls back to the CPU
    SessionSettings auto = settings.toBuilder().device(DeviceSpec.auto()).build();
    ModelDirectory dir = ModelDirectory.open(ModelFixtures.modelDir("tiny-vicuna"));
    try (ModelSessions sessions =
        ModelSessions.open(dir, auto, new SessionOptionsFactory(() -> true))) {
      assertEquals(DeviceSpec.cpu(), sessions.device());
    }
  }

  @Test
  void settingsBuilderKeepsDefaultsInOnePlace() {
    SessionSettings defaults = SessionSettings.defaults();
    assertEquals(0, defaults.intraOpThreads());
    assertEquals(1, defaults.interOpThreads());
    assertTrue(defaults.memoryArena());
    assertEquals(DeviceSpec.cpu(), defaults.device());
    assertEquals(defaults, defaults.toBuilder().build());
    assertThrows(
        IllegalArgumentException.class, () -> SessionSettings.builder().intraOpThreads(-1).build());
  }
}
