package io.instructblip.tests;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.instructblip.engine.EngineConfig;
import io.instructblip.engine.InstructBlipEngine;
import io.instructblip.engine.api.EngineFailure;
import io.instructblip.engine.api.EngineOutcome;
import io.instructblip.engine.api.EngineRequest;
import io.instructblip.engine.api.EngineResult;
import io.instructblip.engine.api.GenerationOverrides;
import io.instructblip.engine.api.TaskMode;
import io.instructblip.engine.model.DeviceSpec;
import io.instructblip.engine.model.SessionSettings;
import io.instructblip.job.Main;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeSet;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/**
 * {@code annotate} end to end on a local Flink (a MiniCluster in this JVM) with the tiny fixture
 * models: a folder tree of about 200 files (nested folders, every image format the engine reads,
 * corrupt images, non-image and hidden files) -> exactly one row per image, each row's tokens or
 * error code those of the engine for the same request, read back with parquet-avro or Jackson.
 */
class AnnotateITCase {
  static final String INSTRUCTION = "What is in the picture?";
  static final int MAX_NEW_TOKENS = 3;

  /** The fixture images the tree is made of: every format, and broken ones. */
  static final List<String> SOURCES =
      List.of(
          "rgb.png",
          "baseline.jpg",
          "progressive.jpg",
          "palette.png",
          "cmyk.jpg",
          "rgb.bmp",
          "lossless.webp",
          "two-frames.gif",
          "grey.png",
          "grey16.png",
          "rgba.png",
          "exif-rotate6.jpg",
          "truncated.jpg",
          "empty.png",
          "huge-header.png",
          "garbage.bin");

  @TempDir Path tmp;

  /**
   * Writes the tree under {@code src}: {@code count} images (copies of {@link #SOURCES}, a garbage
   * file named .jpg among them) in nested folders, plus files that are not images. Returns each
   * image id (its relative path) with its source fixture.
   */
  static Map<String, String> imageTree(Path src, int count) throws IOException {
    Map<String, String> ids = new LinkedHashMap<>();
    for (int i = 0; i < count; i++) {
      String source = SOURCES.get(i % SOURCES.size());
      String ext = source.equals("garbage.bin") ? "jpg" : source.substring(source.indexOf('.') + 1);
      String name =
          (i % 7 == 0 ? "with space " : "img-") + i + "." + (i % 5 == 0 ? ext.toUpperCase() : ext);
      String id = "d" + (i % 4) + "/e" + (i % 3) + "/" + name;
      Path file = src.resolve(id);
      Files.createDirectories(file.getParent());
      Files.write(file, GoldenCases.bytes("images/" + source));
      ids.put(id, source);
    }
    Files.writeString(src.resolve("README.txt"), "not an image");
    Files.write(src.resolve("d1/garbage.bin"), GoldenCases.bytes("images/garbage.bin"));
    Files.write(src.resolve("d2/.hidden.jpg"), GoldenCases.bytes("images/rgb.png"));
    Files.createDirectories(src.resolve("_skipped"));
    Files.write(src.resolve("_skipped/x.jpg"), GoldenCases.bytes("images/rgb.png"));
    return ids;
  }

  /** The engine's result for each source fixture, with the same instruction and options. */
  static Map<String, EngineOutcome> engineResults(String model) throws Exception {
    List<EngineRequest> requests = new ArrayList<>();
    for (String source : new TreeSet<>(SOURCES)) {
      requests.add(
          new EngineRequest(
              source,
              List.of(GoldenCases.bytes("images/" + source)),
              INSTRUCTION,
              TaskMode.GENERATE,
              List.of(),
              GenerationOverrides.builder().maxNewTokens(MAX_NEW_TOKENS).build()));
    }
    Map<String, EngineOutcome> results = new LinkedHashMap<>();
    try (InstructBlipEngine engine =
        InstructBlipEngine.open(
            EngineConfig.builder(GoldenCases.model(model))
                .session(
                    SessionSettings.builder()
                        .device(DeviceSpec.parse("cpu"))
                        .intraOpThreads(1)
                        .build())
                .build())) {
      for (EngineOutcome r : engine.infer(requests)) {
        results.put(r.id(), r);
      }
    }
    return results;
  }

  static String[] command(String model, Path src, Path dst, String format, String... more) {
    List<String> args =
        new ArrayList<>(
            List.of(
                "annotate",
                "--model",
                GoldenCases.model(model).toString(),
                "--input",
                src.toString(),
                "--output",
                dst.toString(),
                "--format",
                format,
                "--instruction",
                INSTRUCTION,
                "--max-new-tokens",
                Integer.toString(MAX_NEW_TOKENS),
                "--device",
                "cpu",
                "--threads",
                "1",
                "--vision-max-wait",
                "5 ms",
                "--qformer-max-wait",
                "5 ms",
                "--checkpoint-interval",
                "1 s",
                "--no-progress"));
    args.addAll(List.of(more));
    return args.toArray(String[]::new);
  }

  /** Every row matches the engine's result for its source image, and every image has one row. */
  static void assertRows(
      Map<String, String> ids, Map<String, EngineOutcome> engine, List<AnnotateOutput.Row> rows) {
    Map<String, AnnotateOutput.Row> byId = AnnotateOutput.byId(rows);
    assertEquals(new TreeSet<>(ids.keySet()), byId.keySet());
    int errors = 0;
    for (Map.Entry<String, String> e : ids.entrySet()) {
      AnnotateOutput.Row row = byId.get(e.getKey());
      EngineOutcome expected = engine.get(e.getValue());
      assertEquals(e.getKey(), row.image(), "metadata image of " + e.getKey());
      if (expected instanceof EngineResult answer) {
        assertEquals("OK", row.status(), e.getKey() + ": " + row);
        assertEquals(answer.tokenIds(), row.tokenIds(), e.getKey());
        assertEquals(answer.text(), row.text(), e.getKey());
      } else {
        errors++;
        assertEquals("ERROR", row.status(), e.getKey());
        assertEquals(((EngineFailure) expected).code().name(), row.errorCode(), e.getKey());
      }
    }
    assertTrue(errors > 0, "the tree holds broken images");
  }

  @ParameterizedTest(name = "{0} -> {1}")
  @CsvSource({"tiny-vicuna, parquet", "tiny-flant5, jsonl"})
  void annotatesAFolderTreeOneRowPerImage(String model, String format) throws Exception {
    Path src = tmp.resolve("src");
    Path dst = tmp.resolve("dst");
    Map<String, String> ids = imageTree(src, 200);
    assertEquals(0, Main.run(command(model, src, dst, format)));
    assertTrue(Files.exists(dst.resolve("_SUCCESS")));
    assertRows(ids, engineResults(model), AnnotateOutput.read(dst));
    // The same command again: the output is complete, nothing is redone or duplicated.
    assertEquals(0, Main.run(command(model, src, dst, format)));
    assertEquals(ids.size(), AnnotateOutput.read(dst).size());
  }
}
