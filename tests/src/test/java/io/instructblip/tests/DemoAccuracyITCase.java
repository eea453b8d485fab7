package io.instructblip.tests;

import static org.junit.jupiter.api.Assertions.assertEquals;

import io.instructblip.engine.api.EngineRequest;
import io.instructblip.engine.eval.HeldOutQuestion;
import io.instructblip.flink.BatchingConfig;
import io.instructblip.flink.ContinuousBatchingConfig;
import io.instructblip.flink.InFlight;
import io.instructblip.flink.pipeline.EngineSpec;
import io.instructblip.flink.pipeline.InstructBlipStages;
import io.instructblip.flink.pipeline.StageItem;
import io.instructblip.flink.pipeline.StageSerializers;
import java.time.Duration;
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
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * The held-out questions of the trained demo models through the four Flink stages on a MiniCluster
 * (micro-batched vision and Q-Former, continuous batching in the LLM stage): every answer equals
 * the PyTorch reference's, so the stages score exactly what {@code export.py eval-demo} scored.
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
    List<HeldOutQuestion> questions = GoldenCases.heldOut(model).questions();
    StreamExecutionEnvironment env = StreamExecutionEnvironment.getExecutionEnvironment();
    env.setParallelism(2);
    DataGeneratorSource<StageItem> source =
        new DataGeneratorSource<>(new Questions(model), questions.size(), StageSerializers.ITEM);
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
    assertEquals(questions.size(), answers.size(), "one answer per question");
    for (HeldOutQuestion q : questions) {
      assertEquals(
          q.expectedText(), answers.get(q.request().id()), model + " " + q.request().instruction());
    }
  }
}
