package io.instructblip.tests;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.instructblip.engine.api.EngineRequest;
import io.instructblip.engine.eval.AccuracyTable;
import io.instructblip.engine.eval.HeldOutQuestion;
import io.instructblip.engine.eval.HeldOutSet;
import io.instructblip.flink.BatchingConfig;
import io.instructblip.flink.ContinuousBatchingConfig;
import io.instructblip.flink.InFlight;
import io.instructblip.flink.pipeline.EngineSpec;
import io.instructblip.flink.pipeline.InstructBlipStages;
import io.instructblip.flink.pipeline.StageItem;
import io.instructblip.flink.pipeline.StageSerializers;
import io.instructblip.job.Main;
import io.instructblip.job.local.LocalCluster;
import io.instructblip.job.wiring.StageItems;
import io.instructblip.schema.MessageCodec;
import io.instructblip.schema.WireFormat;
import io.instructblip.schema.avro.InferenceRequest;
import io.instructblip.schema.avro.InferenceResponse;
import io.instructblip.schema.avro.RankedCandidate;
import io.instructblip.schema.avro.ResponseStatus;
import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.apache.flink.api.common.eventtime.WatermarkStrategy;
import org.apache.flink.api.common.typeinfo.Types;
import org.apache.flink.connector.datagen.source.DataGeneratorSource;
import org.apache.flink.connector.datagen.source.GeneratorFunction;
import org.apache.flink.runtime.testutils.MiniClusterResourceConfiguration;
import org.apache.flink.streaming.api.environment.StreamExecutionEnvironment;
import org.apache.flink.test.junit5.MiniClusterExtension;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * The held-out questions of the trained demo models, answered through the four Flink stages on a
 * MiniCluster (micro-batched vision and Q-Former, continuous batching in the LLM stage) and through
 * Kafka (the job as {@code local} runs it: an embedded broker, request records in, responses read
 * with read_committed): every answer equals the PyTorch reference's, so both score exactly what
 * {@code export.py eval-demo} scored, per task type; {@code local --heldout} prints that table.
 */
class DemoAccuracyITCase {
  @RegisterExtension
  static final MiniClusterExtension CLUSTER =
      new MiniClusterExtension(
          new MiniClusterResourceConfiguration.Builder()
              .setNumberTaskManagers(1)
              .setNumberSlotsPerTaskManager(2)
              .build());

  /** Question {@code i} of the model's held-out set. */
  static final class Questions implements GeneratorFunction<Long, StageItem> {
    private static final long serialVersionUID = 1L;
    private final String model;
    private transient List<HeldOutQuestion> questions;

    Questions(String model) {
      this.model = model;
    }

    @Override
    public StageItem map(Long index) {
      if (questions == null) {
        questions = GoldenCases.heldOut(model).questions();
      }
      EngineRequest request = questions.get(index.intValue()).request();
      return StageItem.of(request, InFlight.NO_DEADLINE, request.id().getBytes());
    }
  }

  @ParameterizedTest
  @ValueSource(strings = {"demo-vicuna", "demo-flant5"})
  void everyHeldOutQuestionGetsTheReferenceAnswer(String model) throws Exception {
    StagesPipelineITCase.SINK.clear();
    HeldOutSet set = GoldenCases.heldOut(model);
    StreamExecutionEnvironment env = StreamExecutionEnvironment.getExecutionEnvironment();
    env.setParallelism(2);
    DataGeneratorSource<StageItem> source =
        new DataGeneratorSource<>(
            new Questions(model), set.questions().size(), StageSerializers.ITEM);
    InstructBlipStages.Streams out =
        InstructBlipStages.builder(new EngineSpec(GoldenCases.model(model).toString(), "cpu", 1))
            .vision(BatchingConfig.builder().maxBatchSize(8).maxWait(Duration.ofMillis(5)).build())
            .qformer(BatchingConfig.builder().maxBatchSize(8).maxWait(Duration.ofMillis(5)).build())
            .llm(ContinuousBatchingConfig.builder().maxRunning(8).maxInFlight(16).build())
            .build()
            .apply(env.fromSource(source, WatermarkStrategy.noWatermarks(), "questions"));
    out.answers()
        .map(a -> a.id() + "|" + a.result().text())
        .returns(Types.STRING)
        .union(out.failures().map(f -> f.requestId() + "|error " + f.code()).returns(Types.STRING))
        .sinkTo(new StagesPipelineITCase.CollectingSink());
    env.execute("demo held-out questions");

    Map<String, String> answers = new HashMap<>();
    for (String line : StagesPipelineITCase.SINK) {
      int bar = line.indexOf('|');
      answers.put(line.substring(0, bar), line.substring(bar + 1));
    }
    assertEquals(set.questions().size(), answers.size(), "one answer per question");
    assertScoresAsTheReference(model + " (Flink stages)", set, answers);
  }

  /**
   * Every question as a request record (Avro, the job's default format) to the request topic of the
   * job as {@code local} wires it; exactly one response per request id reaches a read_committed
   * consumer, with the reference's answer: the text and generated token ids, or for a choice
   * question the reference's ranking of the candidates.
   */
  @ParameterizedTest
  @ValueSource(strings = {"demo-vicuna", "demo-flant5"})
  void everyHeldOutQuestionThroughKafkaGetsTheReferenceAnswer(String model) throws Exception {
    HeldOutSet set = GoldenCases.heldOut(model);
    Map<String, InferenceResponse> responses = new HashMap<>();
    try (LocalCluster local =
        LocalCluster.start(KafkaJobFixture.cpuStages(model), Duration.ofMillis(200), 0)) {
      String topic = local.settings().requestTopic();
      List<ProducerRecord<byte[], byte[]>> records = new ArrayList<>();
      for (EngineRequest request : set.requests()) {
        InferenceRequest r = StageItems.request(request).build();
        records.add(
            new ProducerRecord<>(
                topic,
                r.getId().getBytes(StandardCharsets.UTF_8),
                MessageCodec.requests().encode(r, WireFormat.AVRO)));
      }
      KafkaJobFixture.produce(local.kafka(), topic, records);
      List<ConsumerRecord<byte[], byte[]>> read =
          KafkaJobFixture.readCommitted(
              local.kafka(),
              local.settings().responseTopic(),
              records.size(),
              Duration.ofSeconds(120),
              Duration.ofSeconds(1));
      List<String> ids = new ArrayList<>();
      for (ConsumerRecord<byte[], byte[]> record : read) {
        InferenceResponse response = MessageCodec.responses().decode(record.value());
        ids.add(response.getId());
        responses.put(response.getId(), response);
      }
      KafkaJobFixture.countBy(ids).forEach((id, n) -> assertEquals(1, n, "responses for " + id));
    }
    assertEquals(set.questions().size(), responses.size(), model + ": one response per question");

    Map<String, String> answers = new HashMap<>();
    for (HeldOutQuestion q : set.questions()) {
      InferenceResponse r = responses.get(q.request().id());
      String where = model + " " + q.request().id() + " (" + q.request().instruction() + ")";
      assertEquals(ResponseStatus.OK, r.getStatus(), where + ": " + r.getError());
      if (q.isChoice()) {
        assertEquals(
            q.expectedRanking(),
            r.getCandidates().stream().map(RankedCandidate::getText).toList(),
            where + ": ranking");
      } else {
        assertEquals(q.expectedTokenIds(), r.getTokenIds(), where + ": token ids");
      }
      answers.put(q.request().id(), r.getText());
    }
    assertScoresAsTheReference(model + " (Kafka)", set, answers);
  }

  /**
   * {@code local --heldout FILE}, the same questions through Kafka as a user asks them: it prints
   * the accuracy table of {@code bench --suite accuracy} with every answer the reference's.
   */
  @Test
  void localHeldOutPrintsTheTableWithEveryAnswerTheReferences() throws Exception {
    String file = GoldenCases.fixtures().resolve("golden/demo-flant5/heldout.json").toString();
    PrintStream stdout = System.out;
    ByteArrayOutputStream bytes = new ByteArrayOutputStream();
    int exit;
    try {
      System.setOut(new PrintStream(bytes, true, StandardCharsets.UTF_8));
      exit =
          Main.run(
              "local",
              "--heldout",
              file,
              "--demo",
              "flant5",
              "--device",
              "cpu",
              "--timeout",
              "120 s");
    } finally {
      System.setOut(stdout);
    }
    String out = bytes.toString(StandardCharsets.UTF_8);
    System.out.print(out);
    assertEquals(0, exit, out);
    HeldOutSet set = GoldenCases.heldOut("demo-flant5");
    for (String task : AccuracyTable.ROWS) {
      long n =
          set.questions().stream()
              .filter(q -> task.equals(AccuracyTable.ALL) || task.equals(q.task()))
              .count();
      String row =
          out.lines()
              .filter(l -> l.startsWith(task + " "))
              .findFirst()
              .orElseThrow(() -> new AssertionError("no row " + task + " in\n" + out));
      assertTrue(row.endsWith(" " + n + "/" + n), task + ": every answer the reference's: " + row);
    }
  }

  @Test
  void localHeldOutRefusesImagesAnInstructionOrAMissingFile() throws Exception {
    String file = GoldenCases.fixtures().resolve("golden/demo-vicuna/heldout.json").toString();
    PrintStream stderr = System.err;
    ByteArrayOutputStream bytes = new ByteArrayOutputStream();
    try {
      System.setErr(new PrintStream(bytes, true, StandardCharsets.UTF_8));
      assertEquals(2, Main.run("local", "--heldout", file, "--instruction", "What?"));
      assertEquals(2, Main.run("local", "--heldout", file + ".missing"));
    } finally {
      System.setErr(stderr);
    }
    assertTrue(
        bytes
            .toString(StandardCharsets.UTF_8)
            .contains(
                "--heldout asks the file's own questions: leave out --images and --instruction"),
        bytes.toString(StandardCharsets.UTF_8));
    assertTrue(
        bytes
            .toString(StandardCharsets.UTF_8)
            .contains("no held-out file " + file + ".missing; pass --heldout"),
        bytes.toString(StandardCharsets.UTF_8));
  }

  /**
   * {@code answers} (by request id) are the reference's answers question for question, so the
   * accuracy of every task type is the reference's (which the golden file holds rounded to four
   * decimals).
   */
  private static void assertScoresAsTheReference(
      String path, HeldOutSet set, Map<String, String> answers) {
    List<String> inOrder = new ArrayList<>();
    for (HeldOutQuestion q : set.questions()) {
      String answer = answers.get(q.request().id());
      assertEquals(
          q.expectedText(),
          answer,
          path + " " + q.request().id() + ": " + q.request().instruction());
      inOrder.add(answer);
    }
    AccuracyTable table = AccuracyTable.score(set.questions(), inOrder);
    System.out.println(path + " held-out accuracy: " + table.accuracyByTask());
    for (String task : AccuracyTable.ROWS) {
      AccuracyTable.Row row = table.row(task);
      double reference = set.referenceAccuracy().get(task);
      if (row.questions() == 0) {
        assertTrue(Double.isNaN(reference), path + " " + task + ": no questions, no accuracy");
      } else {
        assertEquals(row.questions(), row.sameAsReference(), path + " " + task);
        assertEquals(reference, row.accuracy(), 5e-5, path + " " + task + " accuracy");
      }
    }
  }
}
