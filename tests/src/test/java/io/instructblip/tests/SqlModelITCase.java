package io.instructblip.tests;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
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
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.apache.flink.table.api.DataTypes;
import org.apache.flink.table.api.EnvironmentSettings;
import org.apache.flink.table.api.Table;
import org.apache.flink.table.api.TableEnvironment;
import org.apache.flink.types.Row;
import org.apache.flink.util.CloseableIterator;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * InstructBLIP as a Flink SQL model on a local MiniCluster with the tiny fixture model: {@code
 * CREATE MODEL ... WITH ('provider' = 'instructblip')} and {@code ML_PREDICT} over a VALUES table
 * and over a filesystem table of image URIs (JSON lines) answer every row as the engine's {@code
 * infer} answers the same requests (generation and ranking, image bytes and file URIs, model
 * options and per-call CONFIG), and rows that cannot be answered get {@code status = 'ERROR'} with
 * their code while the query completes.
 */
class SqlModelITCase {
  private static final String MODEL = "tiny-vicuna";
  private static InstructBlipEngine engine;

  @BeforeAll
  static void openEngine() {
    engine =
        InstructBlipEngine.open(
            EngineConfig.builder(GoldenCases.model(MODEL))
                .session(
                    SessionSettings.builder().device(DeviceSpec.cpu()).intraOpThreads(1).build())
                .build());
  }

  @AfterAll
  static void closeEngine() {
    engine.close();
  }

  private static TableEnvironment tableEnvironment() {
    TableEnvironment env = TableEnvironment.create(EnvironmentSettings.inStreamingMode());
    env.getConfig().set("parallelism.default", "2");
    return env;
  }

  private static String createModel(String name, String input, String extraOptions) {
    return "CREATE TEMPORARY MODEL "
        + name
        + " INPUT ("
        + input
        + ") OUTPUT (text STRING, status STRING, error_code STRING, token_ids ARRAY<INT>,"
        + " ranked_candidates ARRAY<STRING>) WITH ('provider' = 'instructblip', 'model.dir' = '"
        + GoldenCases.model(MODEL)
        + "', 'device' = 'cpu', 'intra-op-threads' = '1', 'max-batch-rows' = '4',"
        + " 'max-new-tokens' = '8', 'num-beams' = '1', 'repetition-penalty' = '1.5'"
        + extraOptions
        + ")";
  }

  private static Map<String, List<Object>> collect(TableEnvironment env, String query)
      throws Exception {
    Map<String, List<Object>> answers = new HashMap<>();
    try (CloseableIterator<Row> rows = env.executeSql(query).collect()) {
      while (rows.hasNext()) {
        Row row = rows.next();
        Object tokens = row.getField("token_ids");
        Object ranked = row.getField("ranked_candidates");
        answers.put(
            (String) row.getField("id"),
            Arrays.asList(
                row.getField("status"),
                row.getField("error_code"),
                row.getField("text"),
                tokens == null ? null : Arrays.asList((Integer[]) tokens),
                ranked == null ? null : Arrays.asList((String[]) ranked)));
      }
    }
    return answers;
  }

  /** What the engine's infer answers, in the shape {@link #collect} reads rows. */
  private static Map<String, List<Object>> expected(List<EngineRequest> requests) {
    Map<String, List<Object>> out = new HashMap<>();
    for (EngineOutcome o : engine.infer(requests)) {
      if (o instanceof EngineFailure f) {
        out.put(f.id(), Arrays.asList("ERROR", f.code().name(), null, List.of(), List.of()));
        continue;
      }
      EngineResult r = (EngineResult) o;
      List<String> ranked = new ArrayList<>();
      r.candidates().forEach(c -> ranked.add(c.text()));
      out.put(r.id(), Arrays.asList("OK", null, r.text(), r.tokenIds(), ranked));
    }
    return out;
  }

  @Test
  void mlPredictAnswersEachRowAsInferDoes() throws Exception {
    GenerationOverrides options =
        GenerationOverrides.builder().maxNewTokens(8).numBeams(1).repetitionPenalty(1.5).build();
    String[][] rows = {
      {"rgb", "images/rgb.png", "What is in the image?", null},
      {"cmyk", "images/cmyk.jpg", "Is there a cat?", null},
      {"rgba", "images/rgba.png", "How many people are there?", null},
      {"bmp", "images/rgb.bmp", "What color is the sky?", null},
      {"rank", "images/palette.png", "Is there a cat?", "yes|no|a small cat"},
    };
    List<Row> values = new ArrayList<>();
    List<EngineRequest> requests = new ArrayList<>();
    for (String[] r : rows) {
      byte[] image = GoldenCases.bytes(r[1]);
      List<String> candidates = r[3] == null ? List.of() : List.of(r[3].split("\\|"));
      values.add(
          Row.of(r[0], image, r[2], r[3] == null ? null : candidates.toArray(new String[0])));
      requests.add(
          new EngineRequest(
              r[0],
              List.of(image),
              r[2],
              candidates.isEmpty() ? TaskMode.GENERATE : TaskMode.RANK,
              candidates,
              options));
    }
    values.add(Row.of("corrupt", GoldenCases.bytes("images/truncated.jpg"), "What?", null));
    values.add(Row.of("no-image", null, "What?", null));

    TableEnvironment env = tableEnvironment();
    Table images =
        env.fromValues(
            DataTypes.ROW(
                DataTypes.FIELD("id", DataTypes.STRING()),
                DataTypes.FIELD("image", DataTypes.BYTES()),
                DataTypes.FIELD("instruction", DataTypes.STRING()),
                DataTypes.FIELD("candidates", DataTypes.ARRAY(DataTypes.STRING()))),
            values);
    env.createTemporaryView("images", images);
    env.executeSql(
        createModel("captioner", "image BYTES, instruction STRING, candidates ARRAY<STRING>", ""));

    Map<String, List<Object>> actual =
        collect(
            env,
            "SELECT id, status, error_code, text, token_ids, ranked_candidates FROM ML_PREDICT("
                + "TABLE images, MODEL captioner, DESCRIPTOR(image, instruction, candidates))");

    Map<String, List<Object>> expected = expected(requests);
    expected.put("corrupt", Arrays.asList("ERROR", "IMAGE_UNREADABLE", null, List.of(), List.of()));
    expected.put(
        "no-image", Arrays.asList("ERROR", "INVALID_IMAGE_COUNT", null, List.of(), List.of()));
    assertEquals(expected, actual);
    assertEquals("OK", actual.get("rank").get(0));
    assertEquals(3, ((List<?>) actual.get("rank").get(4)).size(), "every candidate, best first");
  }

  @Test
  void fileUrisAndPerCallConfigAreAnsweredAsInferDoes() throws Exception {
    Path images = GoldenCases.fixtures().resolve("images");
    String[][] rows = {
      {"uri-rgb", images.resolve("rgb.png").toUri().toString(), "What is in the image?"},
      {"uri-jpg", images.resolve("baseline.jpg").toUri().toString(), "Describe the image."},
      {"uri-outside", "file:///etc/hostname", "What?"},
    };
    List<Row> values = new ArrayList<>();
    List<EngineRequest> requests = new ArrayList<>();
    GenerationOverrides options =
        GenerationOverrides.builder().maxNewTokens(4).numBeams(1).repetitionPenalty(1.5).build();
    for (String[] r : rows) {
      values.add(Row.of(r[0], r[1], r[2]));
      if (!r[0].equals("uri-outside")) {
        byte[] image =
            GoldenCases.bytes("images/" + Path.of(java.net.URI.create(r[1])).getFileName());
        requests.add(
            new EngineRequest(r[0], List.of(image), r[2], TaskMode.GENERATE, List.of(), options));
      }
    }
    TableEnvironment env = tableEnvironment();
    env.createTemporaryView(
        "uris",
        env.fromValues(
            DataTypes.ROW(
                DataTypes.FIELD("id", DataTypes.STRING()),
                DataTypes.FIELD("image_uri", DataTypes.STRING()),
                DataTypes.FIELD("instruction", DataTypes.STRING())),
            values));
    env.executeSql(
        createModel(
            "uri_captioner",
            "image_uri STRING, instruction STRING",
            ", 'image.allowed-file-roots' = '" + images + "'"));

    Map<String, List<Object>> actual =
        collect(
            env,
            "SELECT id, status, error_code, text, token_ids, ranked_candidates FROM ML_PREDICT("
                + "TABLE uris, MODEL uri_captioner, DESCRIPTOR(image_uri, instruction),"
                + " MAP['max-new-tokens', '4'])");

    Map<String, List<Object>> expected = expected(requests);
    expected.put(
        "uri-outside", Arrays.asList("ERROR", "IMAGE_URI_FORBIDDEN", null, List.of(), List.of()));
    assertEquals(expected, actual);
    assertTrue(((List<?>) actual.get("uri-rgb").get(3)).size() <= 4, "CONFIG's max-new-tokens");
    List<EngineRequest> withModelOptions = new ArrayList<>();
    GenerationOverrides eight =
        GenerationOverrides.builder().maxNewTokens(8).numBeams(1).repetitionPenalty(1.5).build();
    requests.forEach(
        r ->
            withModelOptions.add(
                new EngineRequest(
                    r.id(), r.images(), r.instruction(), r.mode(), r.candidates(), eight)));
    Map<String, List<Object>> withoutConfig = expected(withModelOptions);
    withoutConfig.put("uri-outside", expected.get("uri-outside"));
    assertNotEquals(withoutConfig, actual, "CONFIG overrides the model's max-new-tokens");
  }

  @Test
  void aFilesystemTableOfImagesIsCaptionedInOneStatement(@TempDir Path dir) throws Exception {
    Path images = GoldenCases.fixtures().resolve("images");
    String[][] rows = {
      {"fs-rgb", "rgb.png", "What is in the image?"},
      {"fs-jpg", "baseline.jpg", "Describe the image."},
      {"fs-webp", "lossless.webp", "What color is the sky?"},
    };
    GenerationOverrides options =
        GenerationOverrides.builder().maxNewTokens(8).numBeams(1).repetitionPenalty(1.5).build();
    StringBuilder jsonLines = new StringBuilder();
    List<EngineRequest> requests = new ArrayList<>();
    for (String[] r : rows) {
      jsonLines
          .append("{\"id\":\"")
          .append(r[0])
          .append("\",\"image_uri\":\"")
          .append(images.resolve(r[1]).toUri())
          .append("\",\"instruction\":\"")
          .append(r[2])
          .append("\"}\n");
      requests.add(
          new EngineRequest(
              r[0],
              List.of(GoldenCases.bytes("images/" + r[1])),
              r[2],
              TaskMode.GENERATE,
              List.of(),
              options));
    }
    Path table = Files.createDirectories(dir.resolve("catalogue"));
    Files.writeString(table.resolve("part-0.json"), jsonLines.toString());

    TableEnvironment env = tableEnvironment();
    env.executeSql(
        "CREATE TEMPORARY TABLE stored_images (id STRING, image_uri STRING, instruction STRING)"
            + " WITH ('connector' = 'filesystem', 'path' = '"
            + table.toUri()
            + "', 'format' = 'json')");
    env.executeSql(
        createModel(
            "fs_captioner",
            "image_uri STRING, instruction STRING",
            ", 'image.allowed-file-roots' = '" + images + "'"));

    Map<String, List<Object>> actual =
        collect(
            env,
            "SELECT id, status, error_code, text, token_ids, ranked_candidates FROM ML_PREDICT("
                + "TABLE stored_images, MODEL fs_captioner, DESCRIPTOR(image_uri, instruction))");

    assertEquals(expected(requests), actual);
  }
}
