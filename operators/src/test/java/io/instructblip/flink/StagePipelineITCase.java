package io.instructblip.flink;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.instructblip.engine.api.ErrorCode;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.UUID;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import org.apache.flink.api.common.eventtime.WatermarkStrategy;
import org.apache.flink.api.common.functions.RichMapFunction;
import org.apache.flink.api.common.state.CheckpointListener;
import org.apache.flink.api.common.typeinfo.TypeInformation;
import org.apache.flink.api.common.typeinfo.Types;
import org.apache.flink.api.connector.sink2.Sink;
import org.apache.flink.api.connector.sink2.SinkWriter;
import org.apache.flink.api.connector.sink2.WriterInitContext;
import org.apache.flink.api.connector.source.util.ratelimit.RateLimiterStrategy;
import org.apache.flink.configuration.Configuration;
import org.apache.flink.configuration.RestartStrategyOptions;
import org.apache.flink.connector.datagen.source.DataGeneratorSource;
import org.apache.flink.runtime.testutils.MiniClusterResourceConfiguration;
import org.apache.flink.streaming.api.datastream.DataStream;
import org.apache.flink.streaming.api.datastream.SingleOutputStreamOperator;
import org.apache.flink.streaming.api.environment.StreamExecutionEnvironment;
import org.apache.flink.test.junit5.MiniClusterExtension;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.extension.RegisterExtension;

/**
 * Three chained stages (two micro-batched, one continuously batched) on a MiniCluster, with one
 * injected task failure after completed checkpoints and a fixed-delay restart. The sink is a plain
 * collecting sink (not transactional), so the test asserts no loss and at most one replay here;
 * exactly once per element at the operator level is asserted by the harness tests.
 *
 * <p>Request {@code r-1} is held in the llm stage until the failure, and the failure comes only
 * after two checkpoints completed while {@code r-1} was held there: so {@code r-1} is in the
 * restored state and its answer must show a re-derived payload. Every answer carries the payload
 * its stages saw, so that a restored element that skipped its re-derivation would show.
 *
 * <p>What the functions record belongs to one run (a key in {@link #RUNS}), not to static fields
 * shared by every test.
 */
class StagePipelineITCase {
  private static final int ELEMENTS = 300;

  @RegisterExtension
  static final MiniClusterExtension CLUSTER =
      new MiniClusterExtension(
          new MiniClusterResourceConfiguration.Builder()
              .setNumberTaskManagers(1)
              .setNumberSlotsPerTaskManager(2)
              .build());

  /** The held request: it finishes only after the failure was injected. */
  private static final String HELD = "r-1";

  /** What one run records, shared by the serialized copies of its functions. */
  static final class Run {
    final ConcurrentLinkedQueue<String> sink = new ConcurrentLinkedQueue<>();
    final AtomicBoolean heldInLlm = new AtomicBoolean();
    final Set<Long> checkpointsWhileHeld = ConcurrentHashMap.newKeySet();
    final AtomicBoolean failedOnce = new AtomicBoolean();
    final AtomicInteger restoredSequences = new AtomicInteger();
  }

  static final Map<String, Run> RUNS = new ConcurrentHashMap<>();

  /** A micro-batched stage that tags its payload; it re-derives a payload lost in a restore. */
  static final class Tagging implements BatchFunction<TestRequest, TestRequest> {
    private static final long serialVersionUID = 1L;
    private final String tag;

    Tagging(String tag) {
      this.tag = tag;
    }

    @Override
    public BatchProcessor<TestRequest, TestRequest> open(StageContext context) {
      return batch -> {
        Thread.sleep(2);
        List<Result<TestRequest>> results = new ArrayList<>();
        for (TestRequest request : batch) {
          if (request.id().startsWith("bad") && tag.equals("vision")) {
            results.add(Result.error(request.id(), ErrorCode.IMAGE_UNREADABLE, "bad image"));
            continue;
          }
          String payload = request.restored() ? "rederived" : request.payload();
          results.add(
              Result.ok(
                  request.id(),
                  new TestRequest(
                      request.id(),
                      request.deadlineMillis(),
                      request.steps(),
                      payload + "|" + tag)));
        }
        return results;
      };
    }
  }

  /**
   * A continuously batched stage: each sequence takes {@code steps} five-millisecond steps and
   * answers {@code answer-ID=PAYLOAD} ({@code rederived|llm} when restored here); {@link #HELD}
   * finishes only after the failure.
   */
  static final class Generating implements StepFunction<TestRequest, String> {
    private static final long serialVersionUID = 1L;
    private final String runId;

    Generating(String runId) {
      this.runId = runId;
    }

    @Override
    public Stepper<TestRequest, String> open(StageContext context) {
      Run run = RUNS.get(runId);
      return new Stepper<>() {
        private final Map<String, int[]> remaining = new LinkedHashMap<>();
        private final Map<String, String> payloads = new LinkedHashMap<>();

        @Override
        public void admit(TestRequest element) {
          if (element.restored()) {
            run.restoredSequences.incrementAndGet();
          }
          if (element.id().equals(HELD) && !run.failedOnce.get()) {
            run.heldInLlm.set(true);
          }
          remaining.put(element.id(), new int[] {element.steps()});
          payloads.put(element.id(), element.restored() ? "rederived|llm" : element.payload());
        }

        @Override
        public List<Result<String>> step() throws InterruptedException {
          Thread.sleep(5);
          List<Result<String>> finished = new ArrayList<>();
          for (var it = remaining.entrySet().iterator(); it.hasNext(); ) {
            var entry = it.next();
            boolean held = entry.getKey().equals(HELD) && !run.failedOnce.get();
            if (--entry.getValue()[0] <= 0 && !held) {
              it.remove();
              String id = entry.getKey();
              finished.add(Result.ok(id, "answer-" + id + "=" + payloads.remove(id), 1));
            }
          }
          return finished;
        }

        @Override
        public void cancel(String requestId) {
          remaining.remove(requestId);
          payloads.remove(requestId);
        }

        @Override
        public int waiting() {
          return 0; // every sequence handed over runs at once
        }
      };
    }
  }

  /** Fails the task once, after two checkpoints completed while {@link #HELD} was in the llm. */
  static final class FailOnce extends RichMapFunction<TestRequest, TestRequest>
      implements CheckpointListener {
    private static final long serialVersionUID = 1L;
    private final String runId;

    FailOnce(String runId) {
      this.runId = runId;
    }

    @Override
    public TestRequest map(TestRequest value) throws Exception {
      Run run = RUNS.get(runId);
      if (run.checkpointsWhileHeld.size() >= 2 && run.failedOnce.compareAndSet(false, true)) {
        throw new IllegalStateException("injected failure");
      }
      return value;
    }

    @Override
    public void notifyCheckpointComplete(long checkpointId) {
      Run run = RUNS.get(runId);
      if (run.heldInLlm.get()) {
        run.checkpointsWhileHeld.add(checkpointId);
      }
    }
  }

  /** Collects into its run's sink; duplicates after a restart stay visible. */
  static final class CollectingSink implements Sink<String> {
    private static final long serialVersionUID = 1L;
    private final String runId;

    CollectingSink(String runId) {
      this.runId = runId;
    }

    @Override
    public SinkWriter<String> createWriter(WriterInitContext context) {
      Run run = RUNS.get(runId);
      return new SinkWriter<>() {
        @Override
        public void write(String element, Context context) {
          run.sink.add(element);
        }

        @Override
        public void flush(boolean endOfInput) {}

        @Override
        public void close() {}
      };
    }
  }

  static TestRequest request(long index) {
    String id = (index % 50 == 7 ? "bad-" : "r-") + index;
    return TestRequest.withSteps(id, 1 + (int) (index % 5));
  }

  @Test
  @Timeout(180)
  void everyElementIsAnsweredAfterAnInjectedFailureAndRestart() throws Exception {
    String runId = UUID.randomUUID().toString();
    Run run = new Run();
    RUNS.put(runId, run);
    Configuration conf = new Configuration();
    conf.set(RestartStrategyOptions.RESTART_STRATEGY, "fixed-delay");
    conf.set(RestartStrategyOptions.RESTART_STRATEGY_FIXED_DELAY_ATTEMPTS, 3);
    conf.set(RestartStrategyOptions.RESTART_STRATEGY_FIXED_DELAY_DELAY, Duration.ofMillis(100));
    StreamExecutionEnvironment env = StreamExecutionEnvironment.getExecutionEnvironment(conf);
    env.setParallelism(2);
    env.enableCheckpointing(100);

    Set<String> expected = new HashSet<>();
    for (long i = 0; i < ELEMENTS; i++) {
      expected.add(request(i).id());
    }
    TypeInformation<TestRequest> requestType = TypeInformation.of(TestRequest.class);
    BatchingConfig batching =
        BatchingConfig.builder()
            .maxBatchSize(4)
            .maxWait(Duration.ofMillis(5))
            .maxInFlight(16)
            .build();
    ContinuousBatchingConfig continuous =
        ContinuousBatchingConfig.builder().maxRunning(4).maxInFlight(8).build();

    // At most 30 elements per checkpoint, so checkpoints complete while elements still flow.
    DataGeneratorSource<TestRequest> generator =
        new DataGeneratorSource<>(
            StagePipelineITCase::request,
            ELEMENTS,
            RateLimiterStrategy.perCheckpoint(30),
            requestType);
    DataStream<TestRequest> source =
        env.fromSource(generator, WatermarkStrategy.noWatermarks(), "requests").rebalance();
    SingleOutputStreamOperator<TestRequest> vision =
        StageOperators.microBatch(
            source,
            "vision",
            new Tagging("vision"),
            new TestRequest.Codec(),
            batching,
            requestType);
    SingleOutputStreamOperator<TestRequest> qformer =
        StageOperators.microBatch(
            vision,
            "qformer",
            new Tagging("qformer"),
            new TestRequest.Codec(),
            batching,
            requestType);
    DataStream<TestRequest> paced = qformer.map(new FailOnce(runId)).returns(requestType);
    SingleOutputStreamOperator<String> llm =
        StageOperators.continuousBatch(
            paced, "llm", new Generating(runId), new TestRequest.Codec(), continuous, Types.STRING);

    DataStream<String> failures =
        vision
            .getSideOutput(StageOutputs.FAILURES)
            .union(
                qformer.getSideOutput(StageOutputs.FAILURES),
                llm.getSideOutput(StageOutputs.FAILURES))
            .map(f -> "err:" + f.requestId() + ":" + f.code() + ":" + f.stage())
            .returns(Types.STRING);
    llm.map(answer -> "ok:" + answer.substring("answer-".length()).replace('=', ':'))
        .returns(Types.STRING)
        .union(failures)
        .sinkTo(new CollectingSink(runId));

    env.execute("three-stage pipeline");

    RUNS.remove(runId);
    assertTrue(run.failedOnce.get(), "the failure was injected after two completed checkpoints");
    Map<String, Integer> counts = new LinkedHashMap<>();
    Map<String, String> payloads = new LinkedHashMap<>();
    for (String line : run.sink) {
      String[] parts = line.split(":");
      String id = parts[1];
      counts.merge(id, 1, Integer::sum);
      if (id.startsWith("bad")) {
        assertEquals("err:" + id + ":IMAGE_UNREADABLE:vision", line);
        continue;
      }
      assertEquals("ok", parts[0], line);
      String payload = parts[2];
      Set<String> possible =
          Set.of(
              "pixels-" + id + "|vision|qformer", // never restored
              "rederived|vision|qformer", // restored in the vision stage
              "rederived|qformer", // restored in the qformer stage
              "rederived|llm"); // restored in the llm stage
      assertTrue(possible.contains(payload), line);
      payloads.put(id, payload);
    }
    assertEquals(expected, counts.keySet(), "no element lost");
    List<String> answeredMoreThanTwice =
        counts.entrySet().stream().filter(e -> e.getValue() > 2).map(Map.Entry::getKey).toList();
    assertEquals(List.of(), answeredMoreThanTwice, "one failure replays an element at most once");
    assertTrue(
        payloads.get(HELD).startsWith("rederived"),
        HELD + " was in the restored state, so its payload was re-derived: " + payloads.get(HELD));
    long restoredInLlm = payloads.values().stream().filter("rederived|llm"::equals).count();
    assertEquals(
        restoredInLlm,
        run.restoredSequences.get(),
        "every sequence restored in the llm stage is answered once, from its re-derived input");
  }
}
