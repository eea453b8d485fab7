package io.instructblip.sql;

import io.instructblip.engine.InstructBlipEngine;
import io.instructblip.engine.api.EngineRequest;
import io.instructblip.engine.api.GenerationOverrides;
import io.instructblip.engine.api.TaskMode;
import io.instructblip.flink.SharedEngineRegistry;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import org.apache.flink.table.api.DataTypes;
import org.apache.flink.table.api.EnvironmentSettings;
import org.apache.flink.table.api.TableEnvironment;
import org.apache.flink.types.Row;
import org.apache.flink.util.CloseableIterator;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.condition.EnabledIfSystemProperty;

/**
 * Not a test: requests/s of {@code ML_PREDICT} against the engine's {@code infer} on the same rows
 * (docs/sql.md). Runs only with {@code -Dinstructblip.bench.model=DIR}, e.g. {@code mvn -pl tests
 * -am test -Dtest=SqlThroughputBench -Dsurefire.failIfNoSpecifiedTests=false
 * -Dinstructblip.bench.model=/work/models/small-vicuna}. Both paths run on one warm engine each:
 * the SQL one is held open across queries through the shared registry.
 */
@EnabledIfSystemProperty(named = "instructblip.bench.model", matches = ".+")
class SqlThroughputBench {
  private static final int ROWS = 64;
  private static final int BATCH = 8;

  @Test
  void sqlAgainstTheEngine() throws Exception {
    Path model = Path.of(System.getProperty("instructblip.bench.model"));
    Path images = Path.of(System.getProperty("instructblip.fixtures")).resolve("images");
    String[] files = {"rgb.png", "baseline.jpg", "cmyk.jpg", "rgb.bmp"};
    GenerationOverrides options =
        GenerationOverrides.builder().maxNewTokens(16).minNewTokens(16).numBeams(1).build();
    List<EngineRequest> requests = new ArrayList<>();
    List<Row> rows = new ArrayList<>();
    for (int i = 0; i < ROWS; i++) {
      byte[] image = Files.readAllBytes(images.resolve(files[i % files.length]));
      String instruction = "Describe image " + i + ".";
      requests.add(
          new EngineRequest(
              "r" + i, List.of(image), instruction, TaskMode.GENERATE, List.of(), options));
      rows.add(Row.of("r" + i, image, instruction));
    }
    EngineKey key = new EngineKey(model.toString(), "cpu", 0, BATCH, 10);
    try (SharedEngineRegistry.Lease<RowBatcher> held =
            SharedEngineRegistry.global()
                .acquire(
                    key,
                    () ->
                        new RowBatcher(
                            InstructBlipEngine.open(key.engineConfig()),
                            BATCH,
                            Duration.ofMillis(10)));
        InstructBlipEngine engine = InstructBlipEngine.open(key.engineConfig())) {
      engine.infer(requests.subList(0, 16), BATCH, BATCH); // warm-up
      TableEnvironment env = TableEnvironment.create(EnvironmentSettings.inStreamingMode());
      env.getConfig().set("parallelism.default", "1");
      env.createTemporaryView(
          "images",
          env.fromValues(
              DataTypes.ROW(
                  DataTypes.FIELD("id", DataTypes.STRING()),
                  DataTypes.FIELD("image", DataTypes.BYTES()),
                  DataTypes.FIELD("instruction", DataTypes.STRING())),
              rows));
      env.executeSql(
          "CREATE TEMPORARY MODEL m INPUT (image BYTES, instruction STRING) OUTPUT (status STRING)"
              + " WITH ('provider' = 'instructblip', 'model.dir' = '"
              + model
              + "', 'device' = 'cpu', 'max-batch-rows' = '"
              + BATCH
              + "', 'max-batch-wait' = '10 ms', 'max-new-tokens' = '16', 'min-new-tokens' = '16',"
              + " 'num-beams' = '1')");
      String query =
          "SELECT id, status FROM ML_PREDICT(TABLE images, MODEL m, DESCRIPTOR(image, instruction),"
              + " MAP['max-concurrent-operations', '"
              + 2 * BATCH
              + "'])";
      count(env, query); // warm-up of the SQL path (the engine stays open: held above)
      for (int run = 0; run < 3; run++) {
        long t0 = System.nanoTime();
        engine.infer(requests, BATCH, BATCH);
        double engineRate = ROWS / ((System.nanoTime() - t0) / 1e9);
        long t1 = System.nanoTime();
        int answered = count(env, query);
        double sqlRate = answered / ((System.nanoTime() - t1) / 1e9);
        System.out.printf(
            "BENCH run %d: engine %.2f requests/s, SQL %.2f requests/s (%d rows): %.1f %%%n",
            run, engineRate, sqlRate, answered, 100 * sqlRate / engineRate);
      }
    }
  }

  private static int count(TableEnvironment env, String query) throws Exception {
    int n = 0;
    try (CloseableIterator<Row> it = env.executeSql(query).collect()) {
      while (it.hasNext()) {
        if (!"OK".equals(it.next().getField("status"))) {
          throw new IllegalStateException("a row failed");
        }
        n++;
      }
    }
    return n;
  }
}
