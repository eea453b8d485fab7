package io.instructblip.flink;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.instructblip.engine.ErrorCode;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
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
import org.junit.jupiter.api.extension.RegisterExtension;

/**
 * Three chained stages (two micro-batched, one continuously batched) on a MiniCluster, with one
 * injected task failure after a completed checkpoint and a fixed-delay restart. The sink is a plain
 * collecting sink (not transactional), so the test asserts no loss and at-least-once here; exactly
 * once per element at the operator level is asserted by the harness tests.
 */
class StagePipelineMiniClusterTest {
  private static final int ELEMENTS = 300;

  @RegisterExtension
  static final MiniClusterExtension CLUSTER =
      new MiniClusterExtension(
          new MiniClusterResourceConfiguration.Builder()
              .setNumberTaskManagers(1)
              .setNumberSlotsPerTaskManager(2)
              .build());

  static final ConcurrentLinkedQueue<String> SINK = new ConcurrentLinkedQueue<>();
  static final AtomicBoolean CHECKPOINT_DONE = new AtomicBoolean();
  static final AtomicBoolean FAILED_ONCE = new AtomicBoolean();
  static final AtomicInteger RESTORED_SEQUENCES = new AtomicInteger();

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

  /** A continuously batched stage: each sequence takes {@code steps} five-millisecond steps. */
  static final class Generating implements StepFunction<TestRequest, String> {
    private static final long serialVersionUID = 1L;

    @Override
    public Stepper<TestRequest, String> open(StageContext context) {
      return new Stepper<>() {
        private final Map<String, int[]> remaining = new LinkedHashMap<>();

        @Override
        public void admit(TestRequest element) {
          if (element.restored()) {
            RESTORED_SEQUENCES.incrementAndGet();
          }
          remaining.put(element.id(), new int[] {element.steps()});
        }

        @Override
        public List<Result<String>> step() throws InterruptedException {
          Thread.sleep(5);
          List<Result<String>> finished = new ArrayList<>();
          for (var it = remaining.entrySet().iterator(); it.hasNext(); ) {
            var entry = it.next();
            if (--entry.getValue()[0] == 0) {
              it.remove();
              finished.add(Result.ok(entry.getKey(), "answer-" + entry.getKey(), 1));
            }
          }
          return finished;
        }

        @Override
        public void cancel(String requestId) {
          remaining.remove(requestId);
        }

        @Override
        public int running() {
          return remaining.size();
        }
      };
    }
  }

  /** Fails the task once, after a checkpoint completed. */
  static final class FailOnce extends RichMapFunction<TestRequest, TestRequest>
      implements CheckpointListener {
    private static final long serialVersionUID = 1L;
    private transient int seen;

    @Override
    public TestRequest map(TestRequest value) throws Exception {
      if (++seen >= 10 && CHECKPOINT_DONE.get() && FAILED_ONCE.compareAndSet(false, true)) {
        throw new IllegalStateException("injected failure");
      }
      return value;
    }

    @Override
    public void notifyCheckpointComplete(long checkpointId) {
      CHECKPOINT_DONE.set(true);
    }
  }

  /** Collects into {@link #SINK}; duplicates after a restart stay visible. */
  static final class CollectingSink implements Sink<String> {
    private static final long serialVersionUID = 1L;

    @Override
    public SinkWriter<String> createWriter(WriterInitContext context) {
      return new SinkWriter<>() {
        @Override
        public void write(String element, Context context) {
          SINK.add(element);
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
  void everyElementIsAnsweredAfterAnInjectedFailureAndRestart() throws Exception {
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
            StagePipelineMiniClusterTest::request,
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
    DataStream<TestRequest> paced = qformer.map(new FailOnce()).returns(requestType);
    SingleOutputStreamOperator<String> llm =
        StageOperators.continuousBatch(
            paced, "llm", new Generating(), new TestRequest.Codec(), continuous, Types.STRING);

    DataStream<String> failures =
        vision
            .getSideOutput(StageOutputs.FAILURES)
            .union(
                qformer.getSideOutput(StageOutputs.FAILURES),
                llm.getSideOutput(StageOutputs.FAILURES))
            .map(f -> "err:" + f.requestId() + ":" + f.code() + ":" + f.stage())
            .returns(Types.STRING);
    llm.map(answer -> "ok:" + answer.substring("answer-".length()))
        .returns(Types.STRING)
        .union(failures)
        .sinkTo(new CollectingSink());

    env.execute("three-stage pipeline");

    assertTrue(FAILED_ONCE.get(), "the failure was injected after a completed checkpoint");
    Map<String, Integer> counts = new LinkedHashMap<>();
    for (String line : SINK) {
      String id = line.split(":")[1];
      counts.merge(id, 1, Integer::sum);
      if (id.startsWith("bad")) {
        assertEquals("err:" + id + ":IMAGE_UNREADABLE:vision", line);
      } else {
        assertEquals("ok:" + id, line);
      }
    }
    assertEquals(expected, counts.keySet(), "no element lost");
    assertTrue(counts.values().stream().allMatch(c -> c >= 1));
  }
}
