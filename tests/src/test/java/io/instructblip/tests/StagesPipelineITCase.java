package io.instructblip.tests;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.instructblip.engine.api.EngineRequest;
import io.instructblip.engine.api.GenerationOverrides;
import io.instructblip.engine.api.TaskMode;
import io.instructblip.flink.BatchingConfig;
import io.instructblip.flink.ContinuousBatchingConfig;
import io.instructblip.flink.InFlight;
import io.instructblip.flink.pipeline.EngineSpec;
import io.instructblip.flink.pipeline.InstructBlipStages;
import io.instructblip.flink.pipeline.StageAnswer;
import io.instructblip.flink.pipeline.StageItem;
import io.instructblip.flink.pipeline.StageSerializers;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.atomic.AtomicBoolean;
import org.apache.flink.api.common.eventtime.WatermarkStrategy;
import org.apache.flink.api.common.functions.RichMapFunction;
import org.apache.flink.api.common.state.CheckpointListener;
import org.apache.flink.api.common.typeinfo.Types;
import org.apache.flink.api.connector.sink2.Sink;
import org.apache.flink.api.connector.sink2.SinkWriter;
import org.apache.flink.api.connector.sink2.WriterInitContext;
import org.apache.flink.api.connector.source.util.ratelimit.RateLimiterStrategy;
import org.apache.flink.configuration.Configuration;
import org.apache.flink.configuration.RestartStrategyOptions;
import org.apache.flink.connector.datagen.source.DataGeneratorSource;
import org.apache.flink.connector.datagen.source.GeneratorFunction;
import org.apache.flink.runtime.testutils.MiniClusterResourceConfiguration;
import org.apache.flink.streaming.api.datastream.DataStream;
import org.apache.flink.streaming.api.environment.StreamExecutionEnvironment;
import org.apache.flink.test.junit5.MiniClusterExtension;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * The four stages on a Flink MiniCluster with the tiny fixture models: N requests in (reference
 * cases, a corrupt image, an invalid parameter), N answers out, each answer the reference's; and
 * the same with an injected task failure after a checkpoint and a restart from it. The sink here is
 * a plain collector (duplicates after a restart would show, so the failure run checks no loss and
 * identical answers; exactly once end to end is the Kafka job's).
 */
class StagesPipelineITCase {
  private static final int ROUNDS = 3;

  @RegisterExtension
  static final MiniClusterExtension CLUSTER =
      new MiniClusterExtension(
          new MiniClusterResourceConfiguration.Builder()
              .setNumberTaskManagers(1)
              .setNumberSlotsPerTaskManager(2)
              .build());

  static final ConcurrentLinkedQueue<String> SINK = new ConcurrentLinkedQueue<>();
  static final AtomicBoolean CHECKPOINTED = new AtomicBoolean();
  static final AtomicBoolean FAILED = new AtomicBoolean();
  static volatile boolean injectFailure;

  @BeforeEach
  void reset() {
    SINK.clear();
    CHECKPOINTED.set(false);
    FAILED.set(false);
  }

  /** Request {@code i}: the reference cases of both models, round after round, plus bad ones. */
  static final class Requests implements GeneratorFunction<Long, StageItem> {
    private static final long serialVersionUID = 1L;
    private final String model;
    private transient List<EngineRequest> cases;

    Requests(String model) {
      this.model = model;
    }

    static int count(String model) {
      return GoldenCases.cases(model, "").size() * ROUNDS + 2;
    }

    @Override
    public StageItem map(Long index) {
      if (cases == null) {
        cases = new ArrayList<>();
        GoldenCases.cases(model, "").forEach(c -> cases.add(c.request()));
      }
      int i = index.intValue();
      EngineRequest request;
      if (i == cases.size() * ROUNDS) {
        request =
            EngineRequest.generate(
                "bad-image", List.of(GoldenCases.bytes("images/truncated.jpg")), "What is it?");
      } else if (i == cases.size() * ROUNDS + 1) {
        request =
            new EngineRequest(
                "bad-param",
                List.of(GoldenCases.bytes("images/rgb.png")),
                "What is it?",
                TaskMode.GENERATE,
                List.of(),
                GenerationOverrides.builder().numBeams(0).build());
      } else {
        EngineRequest c = cases.get(i % cases.size());
        request =
            new EngineRequest(
                (i / cases.size()) + ":" + c.id(),
                c.images(),
                c.instruction(),
                c.mode(),
                c.candidates(),
                c.overrides());
      }
      return StageItem.of(request, InFlight.NO_DEADLINE, request.id().getBytes());
    }
  }

  /** Fails the task once, after a checkpoint completed, when the test asks for it. */
  static final class FailOnce extends RichMapFunction<StageAnswer, String>
      implements CheckpointListener {
    private static final long serialVersionUID = 1L;
    private transient int seen;

    @Override
    public String map(StageAnswer answer) {
      if (injectFailure && ++seen >= 4 && CHECKPOINTED.get() && FAILED.compareAndSet(false, true)) {
        throw new IllegalStateException("injected failure");
      }
      return "ok|"
          + answer.id()
          + "|"
          + answer.result().tokenIds()
          + "|"
          + new String(answer.context());
    }

    @Override
    public void notifyCheckpointComplete(long checkpointId) {
      CHECKPOINTED.set(true);
    }
  }

  /** Collects into {@link #SINK}. */
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

  @ParameterizedTest(name = "injected failure: {0}")
  @ValueSource(booleans = {false, true})
  void everyRequestIsAnsweredWithTheReferenceAnswer(boolean withFailure) throws Exception {
    injectFailure = withFailure;
    String model = "tiny-vicuna";
    Configuration conf = new Configuration();
    conf.set(RestartStrategyOptions.RESTART_STRATEGY, "fixed-delay");
    conf.set(RestartStrategyOptions.RESTART_STRATEGY_FIXED_DELAY_ATTEMPTS, 2);
    conf.set(RestartStrategyOptions.RESTART_STRATEGY_FIXED_DELAY_DELAY, Duration.ofMillis(100));
    StreamExecutionEnvironment env = StreamExecutionEnvironment.getExecutionEnvironment(conf);
    env.setParallelism(2);
    env.enableCheckpointing(100);

    int count = Requests.count(model);
    DataGeneratorSource<StageItem> source =
        new DataGeneratorSource<>(
            new Requests(model),
            count,
            RateLimiterStrategy.perCheckpoint(8),
            StageSerializers.ITEM);
    DataStream<StageItem> requests =
        env.fromSource(source, WatermarkStrategy.noWatermarks(), "requests");
    InstructBlipStages.Streams out =
        InstructBlipStages.builder(new EngineSpec(GoldenCases.model(model).toString(), "cpu", 1))
            .vision(BatchingConfig.builder().maxBatchSize(4).maxWait(Duration.ofMillis(5)).build())
            .qformer(BatchingConfig.builder().maxBatchSize(4).maxWait(Duration.ofMillis(5)).build())
            .llm(ContinuousBatchingConfig.builder().maxRunning(4).maxInFlight(8).build())
            .build()
            .apply(requests);
    out.answers()
        .map(new FailOnce())
        .returns(Types.STRING)
        .union(
            out.failures()
                .map(
                    f ->
                        "err|"
                            + f.requestId()
                            + "|"
                            + f.code()
                            + "|"
                            + f.stage()
                            + "|"
                            + new String(f.context()))
                .returns(Types.STRING))
        .sinkTo(new CollectingSink());
    env.execute("instructblip stages");

    Map<String, List<Integer>> expected = new HashMap<>();
    for (GoldenCases.Case c : GoldenCases.cases(model, "")) {
      for (int round = 0; round < ROUNDS; round++) {
        expected.put(round + ":" + c.request().id(), c.expectedTokens());
      }
    }
    Map<String, Integer> seen = new HashMap<>();
    for (String line : SINK) {
      String[] parts = line.split("\\|");
      String id = parts[1];
      seen.merge(id, 1, Integer::sum);
      switch (id) {
        case "bad-image" -> assertEquals("err|bad-image|IMAGE_UNREADABLE|prepare|bad-image", line);
        case "bad-param" -> assertEquals("err|bad-param|INVALID_PARAMETER|prepare|bad-param", line);
        default -> {
          assertEquals("ok", parts[0], line);
          assertEquals(expected.get(id).toString(), parts[2], line);
          assertEquals(id, parts[3], "context passed through");
        }
      }
    }
    assertEquals(count, seen.size(), "every request answered: " + seen.keySet());
    if (withFailure) {
      assertTrue(FAILED.get(), "the failure was injected after a completed checkpoint");
    } else {
      seen.forEach((id, n) -> assertEquals(1, n, "answered once: " + id));
    }
  }
}
