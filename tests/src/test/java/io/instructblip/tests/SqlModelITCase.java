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

  /** The {@code max-new-tokens} of every model this test creates ({@link #createModel}). */
  private static final int MODEL_MAX_NEW_TOKENS = 8;

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

  /** Registers {@code rows} as the temporary view {@code name} with the columns {@code fields}. */
  private static void createView(
      TableEnvironment env, String name, List<Row> rows, DataTypes.Field... fields) {
    env.createTemporaryView(name, env.fromValues(DataTypes.ROW(fields), rows));
  }

  /**
   * Creates the model {@code name} on the fixture model, with the options the engine's requests of
   * this test carry ({@link #request}) and {@code extraOptions} (each starting with a comma).
   */
  private static void createModel(
      TableEnvironment env, String name, String input, String extraOptions) {
    env.executeSql(
        "CREATE TEMPORARY MODEL "
            + name
            + " INPUT ("
            + input
            + ") OUTPUT (text STRING, status STRING, error_code STRING, token_ids ARRAY<INT>,"
            + " ranked_candidates ARRAY<STRING>) WITH ('provider' = 'instructblip', 'model.dir' = '"
            + GoldenCases.model(MODEL)
            + "', 'device' = 'cpu', 'intra-op-threads' = '1', 'max-batch-rows' = '4',"
            + " 'max-new-tokens' = '"
            + MODEL_MAX_NEW_TOKENS
            + "', 'num-beams' = '1', 'repetition-penalty' = '1.5'"
            + extraOptions
            + ")");
  }

  /**
   * A model reading images by URI ({@code image_uri, instruction}) from the fixture images only.
   */
  private static void createUriModel(TableEnvironment env, String name) {
    createModel(
        env,
        name,
        "image_uri STRING, instruction STRING",
        ", 'image.allowed-file-roots' = '" + images() + "'");
  }

  private static Path images() {
    return GoldenCases.fixtures().resolve("images");
  }

  /** The file URI of the fixture image {@code file}. */
  private static String imageUri(String file) {
    return images().resolve(file).toUri().toString();
  }

  /**
   * The request a model of this test makes of a row: its model options ({@link #createModel}), with
   * {@code maxNewTokens}; ranking when there are candidates.
   */
  private static EngineRequest request(
      String id, byte[] image, String instruction, List<String> candidates, int maxNewTokens) {
    return new EngineRequest(
        id,
        List.of(image),
        instruction,
        TaskMode.forCandidates(candidates),
        candidates,
        GenerationOverrides.builder()
            .maxNewTokens(maxNewTokens)
            .numBeams(1)
            .repetitionPenalty(1.5)
            .build());
  }

  /**
   * The answers of {@code ML_PREDICT(arguments)} by row id: status, error code, text, token ids and
   * ranked candidates.
   */
  private static Map<String, List<Object>> predict(TableEnvironment env, String arguments)
      throws Exception {
    String query =
        "SELECT id, status, error_code, text, token_ids, ranked_candidates FROM ML_PREDICT("
            + arguments
            + ")";
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

  /** What the engine's infer answers, in the shape {@link #predict} reads rows. */
  private static Map<String, List<Object>> expected(List<EngineRequest> requests) {
    Map<String, List<Object>> out = new HashMap<>();
    for (EngineOutcome o : engine.infer(requests)) {
      if (o instanceof EngineFailure f) {
        out.put(f.id(), error(f.code().name()));
        continue;
      }
      EngineResult r = (EngineResult) o;
      List<String> ranked = new ArrayList<>();
      r.candidates().forEach(c -> ranked.add(c.text()));
      out.put(r.id(), Arrays.asList("OK", null, r.text(), r.tokenIds(), ranked));
    }
    return out;
  }

  /** An error row as {@link #predict} reads it. */
  private static List<Object> error(String code) {
    return Arrays.asList("ERROR", code, null, List.of(), List.of());
  }

  @Test
  void mlPredictAnswersEachRowAsInferDoes() throws Exception {
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
      requests.add(request(r[0], image, r[2], candidates, MODEL_MAX_NEW_TOKENS));
    }
    values.add(Row.of("corrupt", GoldenCases.bytes("images/truncated.jpg"), "What?", null));
    values.add(Row.of("no-image", null, "What?", null));

    TableEnvironment env = tableEnvironment();
    createView(
        env,
        "images",
        values,
        DataTypes.FIELD("id", DataTypes.STRING()),
        DataTypes.FIELD("image", DataTypes.BYTES()),
        DataTypes.FIELD("instruction", DataTypes.STRING()),
        DataTypes.FIELD("candidates", DataTypes.ARRAY(DataTypes.STRING())));
    createModel(env, "captioner", "image BYTES, instruction STRING, candidates ARRAY<STRING>", "");

    Map<String, List<Object>> actual =
        predict(env, "TABLE images, MODEL captioner, DESCRIPTOR(image, instruction, candidates)");

    Map<String, List<Object>> expected = expected(requests);
    expected.put("corrupt", error("IMAGE_UNREADABLE"));
    expected.put("no-image", error("INVALID_IMAGE_COUNT"));
    assertEquals(expected, actual);
    assertEquals("OK", actual.get("rank").get(0));
    assertEquals(3, ((List<?>) actual.get("rank").get(4)).size(), "every candidate, best first");
  }

  @Test
  void fileUrisAndPerCallConfigAreAnsweredAsInferDoes() throws Exception {
    String[][] rows = {
      {"uri-rgb", "rgb.png", "What is in the image?"},
      {"uri-jpg", "baseline.jpg", "Describe the image."},
    };
    List<Row> values = new ArrayList<>();
    List<EngineRequest> requests = new ArrayList<>();
    List<EngineRequest> withModelOptions = new ArrayList<>();
    for (String[] r : rows) {
      values.add(Row.of(r[0], imageUri(r[1]), r[2]));
      byte[] image = GoldenCases.bytes("images/" + r[1]);
      requests.add(request(r[0], image, r[2], List.of(), 4));
      withModelOptions.add(request(r[0], image, r[2], List.of(), MODEL_MAX_NEW_TOKENS));
    }
    values.add(Row.of("uri-outside", "file:///etc/hostname", "What?"));
    TableEnvironment env = tableEnvironment();
    createView(
        env,
        "uris",
        values,
        DataTypes.FIELD("id", DataTypes.STRING()),
        DataTypes.FIELD("image_uri", DataTypes.STRING()),
        DataTypes.FIELD("instruction", DataTypes.STRING()));
    createUriModel(env, "uri_captioner");

    Map<String, List<Object>> actual =
        predict(
            env,
            "TABLE uris, MODEL uri_captioner, DESCRIPTOR(image_uri, instruction),"
                + " MAP['max-new-tokens', '4']");

    Map<String, List<Object>> expected = expected(requests);
    expected.put("uri-outside", error("IMAGE_URI_FORBIDDEN"));
    assertEquals(expected, actual);
    assertTrue(((List<?>) actual.get("uri-rgb").get(3)).size() <= 4, "CONFIG's max-new-tokens");
    Map<String, List<Object>> withoutConfig = expected(withModelOptions);
    withoutConfig.put("uri-outside", expected.get("uri-outside"));
    assertNotEquals(withoutConfig, actual, "CONFIG overrides the model's max-new-tokens");
  }

  @Test
  void aFilesystemTableOfImagesIsCaptionedInOneStatement(@TempDir Path dir) throws Exception {
    String[][] rows = {
      {"fs-rgb", "rgb.png", "What is in the image?"},
      {"fs-jpg", "baseline.jpg", "Describe the image."},
      {"fs-webp", "lossless.webp", "What color is the sky?"},
    };
    StringBuilder jsonLines = new StringBuilder();
    List<EngineRequest> requests = new ArrayList<>();
    for (String[] r : rows) {
      jsonLines
          .append("{\"id\":\"")
          .append(r[0])
          .append("\",\"image_uri\":\"")
          .append(imageUri(r[1]))
          .append("\",\"instruction\":\"")
          .append(r[2])
          .append("\"}\n");
      requests.add(
          request(
              r[0], GoldenCases.bytes("images/" + r[1]), r[2], List.of(), MODEL_MAX_NEW_TOKENS));
    }
    Path table = Files.createDirectories(dir.resolve("catalogue"));
    Files.writeString(table.resolve("part-0.json"), jsonLines.toString());

    TableEnvironment env = tableEnvironment();
    env.executeSql(
        "CREATE TEMPORARY TABLE stored_images (id STRING, image_uri STRING, instruction STRING)"
            + " WITH ('connector' = 'filesystem', 'path' = '"
            + table.toUri()
            + "', 'format' = 'json')");
    createUriModel(env, "fs_captioner");

    Map<String, List<Object>> actual =
        predict(env, "TABLE stored_images, MODEL fs_captioner, DESCRIPTOR(image_uri, instruction)");

    assertEquals(expected(requests), actual);
  }
}
