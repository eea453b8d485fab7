package io.instructblip.tests;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.instructblip.engine.EngineConfig;
import io.instructblip.engine.InstructBlipEngine;
import io.instructblip.engine.api.EngineOutcome;
import io.instructblip.engine.api.EngineRequest;
import io.instructblip.engine.api.GenerationOverrides;
import io.instructblip.engine.api.TaskMode;
import io.instructblip.engine.model.DeviceSpec;
import io.instructblip.engine.model.SessionSettings;
import io.instructblip.job.Main;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code annotate --manifest}: JSONL requests with several instructions per image, ranking rows and
 * per-row parameters, relative and absolute image URIs, and lines that are no valid request; and a
 * CSV manifest with a header and its own instructions. Every line is one row, equal to the engine's
 * answer to the same request.
 */
class AnnotateManifestITCase {
  static final String MODEL = "tiny-vicuna";

  @TempDir Path tmp;

  @Test
  void jsonlManifestRowsAreTheEnginesAnswers() throws Exception {
    Path src = tmp.resolve("src");
    Files.createDirectories(src.resolve("sub"));
    Files.write(src.resolve("sub/cat.png"), GoldenCases.bytes("images/rgb.png"));
    Files.write(src.resolve("dog.jpg"), GoldenCases.bytes("images/baseline.jpg"));
    Path outside = tmp.resolve("outside.png");
    Files.write(outside, GoldenCases.bytes("images/rgb.png"));
    String dog = src.resolve("dog.jpg").toUri().toString();
    Path manifest = tmp.resolve("requests.jsonl");
    Files.writeString(
        manifest,
        String.join(
            "\n",
            line(
                "cat-caption",
                "sub/cat.png",
                "Describe the image.",
                "\"generation\": {\"max_new_tokens\": 4}"),
            line(
                "cat-color",
                "sub/cat.png",
                "What color is it?",
                "\"generation\": {\"max_new_tokens\": 2, \"num_beams\": 2}"),
            line(
                "dog-caption",
                dog,
                "Describe the image.",
                "\"generation\": {\"max_new_tokens\": 3}"),
            line(
                "dog-rank",
                "dog.jpg",
                "Is it a cat or a dog?",
                "\"mode\": \"RANK\", \"candidates\": [\"cat\", \"dog\"]"),
            line(
                "outside",
                outside.toString(),
                "Describe the image.",
                "\"generation\": {\"max_new_tokens\": 2}"),
            line(
                "missing",
                "sub/none.png",
                "Describe the image.",
                "\"generation\": {\"max_new_tokens\": 2}"),
            "{\"id\": \"bad-params\", \"images\": [{\"uri\": \"dog.jpg\"}], \"instruction\": \"x\", \"mode\": \"RANK\"}",
            "this is not json",
            ""));
    Path dst = tmp.resolve("dst");
    assertEquals(
        0,
        Main.run(
            "annotate",
            "--model",
            GoldenCases.model(MODEL).toString(),
            "--input",
            src.toString(),
            "--manifest",
            manifest.toString(),
            "--output",
            dst.toString(),
            "--device",
            "cpu",
            "--threads",
            "1",
            "--checkpoint-interval",
            "1 s",
            "--no-progress"));
    Map<String, AnnotateOutput.Row> rows = AnnotateOutput.byId(AnnotateOutput.read(dst));
    assertEquals(8, rows.size(), rows.keySet().toString());
    byte[] cat = GoldenCases.bytes("images/rgb.png");
    byte[] dogBytes = GoldenCases.bytes("images/baseline.jpg");
    Map<String, EngineOutcome> engine =
        engine(
            List.of(
                generate("cat-caption", cat, "Describe the image.", 4, null),
                generate("cat-color", cat, "What color is it?", 2, 2),
                generate("dog-caption", dogBytes, "Describe the image.", 3, null),
                new EngineRequest(
                    "dog-rank",
                    List.of(dogBytes),
                    "Is it a cat or a dog?",
                    TaskMode.RANK,
                    List.of("cat", "dog"),
                    GenerationOverrides.NONE)));
    for (String id : List.of("cat-caption", "cat-color", "dog-caption")) {
      assertEquals("OK", rows.get(id).status(), id);
      assertEquals(engine.get(id).answer().tokenIds(), rows.get(id).tokenIds(), id);
    }
    assertEquals("OK", rows.get("dog-rank").status());
    assertEquals(engine.get("dog-rank").answer().text(), rows.get("dog-rank").text());
    assertEquals("sub/cat.png", rows.get("cat-caption").image());
    assertEquals("IMAGE_URI_FORBIDDEN", rows.get("outside").errorCode());
    assertEquals("IMAGE_UNREADABLE", rows.get("missing").errorCode());
    assertEquals("INVALID_REQUEST", rows.get("bad-params").errorCode());
    assertEquals("INVALID_REQUEST", rows.get("manifest:this is not json").errorCode());
  }

  @Test
  void csvManifestWithSeveralInstructionsPerImage() throws Exception {
    Path src = tmp.resolve("src");
    Files.createDirectories(src);
    Files.write(src.resolve("a b.png"), GoldenCases.bytes("images/rgb.png"));
    Path manifest = tmp.resolve("m.csv");
    Files.writeString(
        manifest,
        "id,image,instruction\n"
            + "1,a b.png,\"Describe it, briefly.\"\n"
            + "2,a b.png,What color?\n"
            + "3,a b.png,\n"
            + ",a b.png,no id\n");
    Path dst = tmp.resolve("dst");
    assertEquals(
        0,
        Main.run(
            "annotate",
            "--model",
            GoldenCases.model(MODEL).toString(),
            "--input",
            src.toString(),
            "--manifest",
            manifest.toString(),
            "--output",
            dst.toString(),
            "--format",
            "jsonl",
            "--instruction",
            "Default question?",
            "--max-new-tokens",
            "2",
            "--device",
            "cpu",
            "--threads",
            "1",
            "--checkpoint-interval",
            "1 s",
            "--no-progress"));
    Map<String, AnnotateOutput.Row> rows = AnnotateOutput.byId(AnnotateOutput.read(dst));
    assertEquals(4, rows.size(), rows.keySet().toString());
    byte[] image = GoldenCases.bytes("images/rgb.png");
    Map<String, EngineOutcome> engine =
        engine(
            List.of(
                generate("1", image, "Describe it, briefly.", 2, null),
                generate("2", image, "What color?", 2, null),
                generate("3", image, "Default question?", 2, null)));
    for (String id : List.of("1", "2", "3")) {
      assertEquals(engine.get(id).answer().tokenIds(), rows.get(id).tokenIds(), id);
      assertEquals("a b.png", rows.get(id).image());
    }
    assertTrue(rows.keySet().stream().anyMatch(id -> id.startsWith("manifest:")));
  }

  private static String line(String id, String uri, String instruction, String more) {
    return "{\"id\": \""
        + id
        + "\", \"images\": [{\"uri\": \""
        + uri
        + "\"}], \"instruction\": \""
        + instruction
        + "\", "
        + more
        + "}";
  }

  private static EngineRequest generate(
      String id, byte[] image, String instruction, int maxNewTokens, Integer beams) {
    return new EngineRequest(
        id,
        List.of(image),
        instruction,
        TaskMode.GENERATE,
        List.of(),
        GenerationOverrides.builder().maxNewTokens(maxNewTokens).numBeams(beams).build());
  }

  private static Map<String, EngineOutcome> engine(List<EngineRequest> requests) throws Exception {
    Map<String, EngineOutcome> results = new HashMap<>();
    try (InstructBlipEngine engine =
        InstructBlipEngine.open(
            EngineConfig.builder(GoldenCases.model(MODEL))
                .session(
                    SessionSettings.builder()
                        .device(DeviceSpec.parse("cpu"))
                        .intraOpThreads(1)
                        .build())
                .build())) {
      for (EngineOutcome r : engine.infer(new ArrayList<>(requests))) {
        results.put(r.id(), r);
      }
    }
    return results;
  }
}
