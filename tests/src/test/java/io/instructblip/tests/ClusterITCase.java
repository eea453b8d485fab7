package io.instructblip.tests;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.instructblip.schema.MessageCodec;
import io.instructblip.schema.avro.GenerationOptions;
import io.instructblip.schema.avro.InferenceRequest;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.concurrent.Future;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.serialization.ByteArraySerializer;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.MethodOrderer;
import org.junit.jupiter.api.Order;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.api.TestMethodOrder;

/**
 * The job on a real Flink 2.2 session cluster of separate JVMs (a JobManager and two TaskManagers
 * started by deploy/standalone's scripts on Flink's Maven Central jars plus job/target/cluster/lib)
 * with a real Kafka broker in a JVM of its own. The user jar
 * job/target/cluster/instructblip-job.jar is submitted the two ways users do: {@code flink run -d}
 * with settings as {@code -D} keys only, and the REST API (upload, run with a flinkConfiguration).
 * Every scenario checks that each request is answered exactly once (read_committed) with the
 * reference's tokens or the expected error code: a steady stream (plus the stage metrics on a
 * TaskManager's Prometheus endpoint); cancel and resubmit on the same TaskManagers (native
 * libraries loaded once, metaspace bounded); stop-with-savepoint and resume; and a soak of kill -9
 * of the TaskManager running the job, five times, each followed by a new TaskManager.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
@TestMethodOrder(MethodOrderer.OrderAnnotation.class)
class ClusterITCase {
  private static final String MODEL = "tiny-vicuna";
  private static final Duration ANSWERS_TIMEOUT = Duration.ofMinutes(3);
  private static final Duration SETTLE = Duration.ofSeconds(3);
  private static final int SOAK_ROUNDS = 5;
  private static final int SOAK_REQUESTS_PER_ROUND = 400;

  private Path work;
  private KafkaBrokerProcess kafka;
  private FlinkProcessCluster cluster;
  private String jarId;
  private final List<String> report = new ArrayList<>();

  @BeforeAll
  void startCluster() throws Exception {
    work = Path.of("target", "cluster-it").toAbsolutePath();
    deleteRecursively(work);
    Files.createDirectories(work);
    kafka = KafkaBrokerProcess.start(work.resolve("kafka"));
    cluster = FlinkProcessCluster.start(work, Map.of());
    cluster.startTaskManager();
    cluster.startTaskManager();
    jarId = cluster.uploadJar();
  }

  @AfterAll
  void stopCluster() throws Exception {
    try {
      if (cluster != null) {
        cluster.close();
      }
    } finally {
      if (kafka != null) {
        kafka.close();
      }
      report.forEach(System.out::println);
      Files.write(work.resolve("report.txt"), report);
    }
  }

  /** The job's settings, as the keys a cluster takes ({@code -D}, config.yaml, REST). */
  private Map<String, String> settings(String name) throws Exception {
    kafka.createTopics(2, name + "-requests", name + "-responses", name + "-dead-letters");
    Map<String, String> s = new LinkedHashMap<>();
    s.put("instructblip.kafka.bootstrap-servers", kafka.bootstrapServers());
    s.put("instructblip.kafka.request-topic", name + "-requests");
    s.put("instructblip.kafka.response-topic", name + "-responses");
    s.put("instructblip.kafka.dead-letter-topic", name + "-dead-letters");
    s.put("instructblip.kafka.group-id", name);
    s.put("instructblip.kafka.transactional-id-prefix", name);
    s.put("instructblip.kafka.starting-offsets", "earliest");
    s.put("instructblip.kafka.transaction-timeout", "1 min");
    s.put("instructblip.model.dir", GoldenCases.model(MODEL).toString());
    s.put("instructblip.model.name", MODEL);
    s.put("instructblip.model.device", "cpu");
    s.put("instructblip.model.intra-op-threads", "1");
    s.put("instructblip.vision.max-wait", "5 ms");
    s.put("instructblip.qformer.max-wait", "5 ms");
    s.put("execution.checkpointing.interval", "1 s");
    s.put("restart-strategy.type", "fixed-delay");
    s.put("restart-strategy.fixed-delay.attempts", "1000");
    s.put("restart-strategy.fixed-delay.delay", "1 s");
    return s;
  }

  /**
   * The reference cases as requests (ids {@code prefix + case}), expected outcomes into {@code
   * expected}.
   */
  private static List<ProducerRecord<byte[], byte[]>> goldenRequests(
      String topic, String prefix, Map<String, String> expected) {
    List<ProducerRecord<byte[], byte[]>> records = new ArrayList<>();
    for (GoldenCases.Case c : GoldenCases.cases(MODEL, prefix)) {
      InferenceRequest r = GoldenCases.request(c).build();
      records.add(record(topic, r));
      expected.put(r.getId(), "OK:" + c.expectedTokens());
    }
    return records;
  }

  private static ProducerRecord<byte[], byte[]> record(String topic, InferenceRequest r) {
    return new ProducerRecord<>(
        topic, r.getId().getBytes(StandardCharsets.UTF_8), MessageCodec.requests().encode(r));
  }

  private void produce(List<ProducerRecord<byte[], byte[]>> records) throws Exception {
    Properties p = kafka.clientProperties();
    p.put("acks", "all");
    p.put("max.in.flight.requests.per.connection", "1");
    try (KafkaProducer<byte[], byte[]> producer =
        new KafkaProducer<>(p, new ByteArraySerializer(), new ByteArraySerializer())) {
      List<Future<?>> sends = new ArrayList<>();
      records.forEach(r -> sends.add(producer.send(r)));
      producer.flush();
      for (Future<?> f : sends) {
        f.get();
      }
    }
  }

  private void assertExactlyOnce(String scenario, ResponseLog.Check check) {
    report.add(
        String.format(
            "%s: %d requests, %d lost, %d duplicated, %d wrong",
            scenario, check.requests(), check.lost(), check.duplicated(), check.wrong().size()));
    assertEquals(0, check.lost(), scenario + ": requests without a response");
    assertEquals(0, check.duplicated(), scenario + ": duplicated responses");
    assertEquals(List.of(), check.wrong(), scenario + ": wrong answers");
  }

  @Test
  @Order(1)
  void steadyStreamSubmittedWithFlinkRunAndDashDKeysOnly() throws Exception {
    Map<String, String> settings = settings("steady");
    Map<String, String> expected = new LinkedHashMap<>();
    List<ProducerRecord<byte[], byte[]>> records = new ArrayList<>();
    for (int i = 0; i < 3; i++) {
      records.addAll(goldenRequests("steady-requests", "steady-" + i + "-", expected));
    }
    InferenceRequest invalid =
        GoldenCases.request(GoldenCases.cases(MODEL, "steady-invalid-").get(0))
            .setGeneration(GenerationOptions.newBuilder().setNumBeams(0).build())
            .build();
    records.add(record("steady-requests", invalid));
    expected.put(invalid.getId(), "ERROR:INVALID_PARAMETER");

    long start = System.nanoTime();
    String job = cluster.submitWithCli(settings, "run");
    report.add(
        String.format("flink run -d returned after %.1f s", (System.nanoTime() - start) / 1e9));
    cluster.awaitRunning(job, Duration.ofSeconds(120));
    try (ResponseLog responses = new ResponseLog(kafka.clientProperties(), "steady-responses")) {
      produce(records);
      assertExactlyOnce(
          "steady stream (flink run -d)", responses.check(expected, ANSWERS_TIMEOUT, SETTLE));
    }
    String tm = cluster.busyTaskManagers().get(0);
    String metrics = cluster.scrapePrometheus(tm);
    for (String name :
        List.of("batchSize", "queueDepth", "inFlight", "latencyMs", "generatedTokensPerSecond")) {
      assertTrue(
          metrics.contains("flink_taskmanager_job_task_operator_" + name),
          "stage metric " + name + " on " + tm + "'s /metrics");
    }
    assertTrue(metrics.contains("operator_name=\"llm\""), "llm stage metrics on /metrics");
    cluster.cancel(job);
  }

  @Test
  @Order(2)
  void cancelAndResubmitOnTheSameTaskManagersLoadsNativeLibrariesOnce() throws Exception {
    List<String> tms = cluster.taskManagerIds();
    List<Long> metaspace = new ArrayList<>();
    for (int cycle = 0; cycle < 3; cycle++) {
      String name = "cycle" + cycle;
      Map<String, String> expected = new LinkedHashMap<>();
      List<ProducerRecord<byte[], byte[]>> records =
          goldenRequests(name + "-requests", name + "-", expected);
      String job = cluster.submitWithRest(jarId, settings(name), null, "run");
      cluster.awaitRunning(job, Duration.ofSeconds(120));
      try (ResponseLog responses = new ResponseLog(kafka.clientProperties(), name + "-responses")) {
        produce(records);
        assertExactlyOnce(
            "resubmission " + cycle + " (REST)",
            responses.check(expected, ANSWERS_TIMEOUT, SETTLE));
      }
      cluster.cancel(job);
      long used = 0;
      for (String tm : tms) {
        cluster.gc(tm);
        used += cluster.jvmMemory(tm).metaspaceUsed();
      }
      metaspace.add(used);
    }
    report.add("metaspace of the TaskManagers after each cancelled job (MB): " + mb(metaspace));
    assertEquals(
        List.of(),
        cluster.taskManagerLogLines("UnsatisfiedLinkError"),
        "native libraries load once per TaskManager");
    assertTrue(
        metaspace.get(metaspace.size() - 1) <= metaspace.get(0) + 24L * 1024 * 1024,
        "metaspace bounded over resubmissions (classloaders released): " + mb(metaspace));
  }

  @Test
  @Order(3)
  void stopWithSavepointAndResumeLosesAndRepeatsNothing() throws Exception {
    Map<String, String> settings = settings("savepoint");
    Map<String, String> expected = new LinkedHashMap<>();
    List<ProducerRecord<byte[], byte[]>> before = new ArrayList<>();
    for (int i = 0; i < 20; i++) {
      before.addAll(goldenRequests("savepoint-requests", "savepoint-a" + i + "-", expected));
    }
    List<ProducerRecord<byte[], byte[]>> after =
        goldenRequests("savepoint-requests", "savepoint-b-", expected);
    try (ResponseLog responses = new ResponseLog(kafka.clientProperties(), "savepoint-responses")) {
      String job = cluster.submitWithCli(settings, "run");
      cluster.awaitRunning(job, Duration.ofSeconds(120));
      produce(before);
      responses.awaitAtLeast(5, ANSWERS_TIMEOUT);
      int answeredAtStop = responses.size();
      String savepoint = cluster.stopWithSavepoint(job);
      produce(after);
      String resumed = cluster.submitWithRest(jarId, settings, savepoint, "run");
      cluster.awaitRunning(resumed, Duration.ofSeconds(120));
      ResponseLog.Check check = responses.check(expected, ANSWERS_TIMEOUT, SETTLE);
      report.add(
          "stop-with-savepoint: "
              + answeredAtStop
              + " of "
              + before.size()
              + " answered when the stop was triggered, the rest after resuming from "
              + savepoint);
      assertExactlyOnce("stop-with-savepoint and resume", check);
      cluster.cancel(resumed);
    }
  }

  @Test
  @Order(4)
  void killingTheTaskManagerRunningTheJobLosesAndRepeatsNothing() throws Exception {
    Map<String, String> settings = settings("soak");
    Map<String, String> expected = new LinkedHashMap<>();
    List<List<ProducerRecord<byte[], byte[]>>> rounds = new ArrayList<>();
    List<GoldenCases.Case> cases = GoldenCases.cases(MODEL, "");
    for (int round = 0; round < SOAK_ROUNDS; round++) {
      List<ProducerRecord<byte[], byte[]>> records = new ArrayList<>();
      for (int i = 0; i < SOAK_REQUESTS_PER_ROUND; i++) {
        GoldenCases.Case c = cases.get(i % cases.size());
        InferenceRequest r =
            GoldenCases.request(c).setId("soak-" + round + "-" + i + "-" + c.name()).build();
        records.add(record("soak-requests", r));
        expected.put(r.getId(), "OK:" + c.expectedTokens());
      }
      rounds.add(records);
    }
    String job = cluster.submitWithRest(jarId, settings, null, "run");
    cluster.awaitRunning(job, Duration.ofSeconds(120));
    List<String> recoveries = new ArrayList<>();
    try (ResponseLog responses = new ResponseLog(kafka.clientProperties(), "soak-responses")) {
      for (int round = 0; round < SOAK_ROUNDS; round++) {
        int answered = responses.size();
        produce(rounds.get(round));
        responses.awaitAtLeast(answered + 40, ANSWERS_TIMEOUT);
        String victim = cluster.busyTaskManagers().get(0);
        FlinkProcessCluster.JvmMemory memory = cluster.jvmMemory(victim);
        long killedAt = System.currentTimeMillis();
        int inFlight = answered + SOAK_REQUESTS_PER_ROUND - responses.size();
        cluster.kill(victim);
        cluster.startTaskManager();
        cluster.await(
            "a checkpoint after the kill",
            Duration.ofMinutes(2),
            () -> cluster.latestCheckpointTriggerTime(job) > killedAt);
        double recovery = (System.currentTimeMillis() - killedAt) / 1000.0;
        recoveries.add(String.format("%.1f", recovery));
        report.add(
            String.format(
                "soak round %d: kill -9 of %s (%s) with up to %d requests unanswered;"
                    + " first checkpoint after %.1f s",
                round, victim, memory, inFlight, recovery));
      }
      ResponseLog.Check check = responses.check(expected, Duration.ofMinutes(4), SETTLE);
      for (String tm : cluster.taskManagerIds()) {
        report.add("after the soak: " + tm + " " + cluster.jvmMemory(tm));
      }
      report.add("soak recovery times (kill to first completed checkpoint, s): " + recoveries);
      assertExactlyOnce("soak: " + SOAK_ROUNDS + " x kill -9 of the job's TaskManager", check);
      assertTrue(check.requests() >= 2000, "soak of at least 2,000 requests");
    }
    cluster.cancel(job);
  }

  private static List<Long> mb(List<Long> bytes) {
    return bytes.stream().map(b -> b >> 20).toList();
  }

  private static void deleteRecursively(Path dir) throws IOException {
    if (!Files.exists(dir)) {
      return;
    }
    try (var paths = Files.walk(dir)) {
      for (Path p : paths.sorted(java.util.Comparator.reverseOrder()).toList()) {
        Files.delete(p);
      }
    }
  }
}
