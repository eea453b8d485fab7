package io.instructblip.job.annotate;

import io.instructblip.job.kafka.ResponseEnvelope;
import io.instructblip.schema.avro.InferenceResponse;
import java.util.HashMap;
import java.util.Map;
import java.util.TreeMap;
import org.apache.flink.api.common.accumulators.LongCounter;
import org.apache.flink.api.common.functions.OpenContext;
import org.apache.flink.api.common.functions.RichMapFunction;
import org.apache.flink.api.common.state.ListState;
import org.apache.flink.api.common.state.ListStateDescriptor;
import org.apache.flink.api.common.typeinfo.TypeHint;
import org.apache.flink.api.common.typeinfo.TypeInformation;
import org.apache.flink.runtime.state.FunctionInitializationContext;
import org.apache.flink.runtime.state.FunctionSnapshotContext;
import org.apache.flink.streaming.api.checkpoint.CheckpointedFunction;

/**
 * Counts the rows on their way to the sink, as Flink accumulators the command reads while the job
 * runs (progress) and at its end (summary): {@link #ROWS}, {@link #GENERATED_TOKENS}, {@code
 * status.<STATUS>} and {@code error.<CODE>}. The counts are operator state, so after a restore they
 * are those of the rows the restored output holds: the final summary counts each request once.
 */
public final class AnnotationCounts extends RichMapFunction<ResponseEnvelope, InferenceResponse>
    implements CheckpointedFunction {
  private static final long serialVersionUID = 1L;

  /** Accumulator: rows written (one per request). */
  public static final String ROWS = "annotate.rows";

  /** Accumulator: tokens generated in all. */
  public static final String GENERATED_TOKENS = "annotate.generated-tokens";

  /** Accumulator prefix: rows per status ({@code annotate.status.OK}). */
  public static final String STATUS_PREFIX = "annotate.status.";

  /** Accumulator prefix: error rows per code ({@code annotate.error.IMAGE_UNREADABLE}). */
  public static final String ERROR_PREFIX = "annotate.error.";

  private transient Map<String, Long> counts;
  private transient Map<String, LongCounter> accumulators;
  private transient ListState<Map<String, Long>> state;

  @Override
  public void initializeState(FunctionInitializationContext context) throws Exception {
    state =
        context
            .getOperatorStateStore()
            .getListState(
                new ListStateDescriptor<>(
                    "annotation-counts", TypeInformation.of(new TypeHint<Map<String, Long>>() {})));
    counts = new TreeMap<>();
    for (Map<String, Long> restored : state.get()) {
      restored.forEach((k, v) -> counts.merge(k, v, Long::sum));
    }
  }

  @Override
  public void open(OpenContext openContext) {
    accumulators = new HashMap<>();
    counts.forEach(this::add);
  }

  @Override
  public InferenceResponse map(ResponseEnvelope envelope) {
    InferenceResponse r = envelope.response();
    count(ROWS, 1);
    count(STATUS_PREFIX + r.getStatus(), 1);
    if (r.getError() != null) {
      count(ERROR_PREFIX + r.getError().getCode(), 1);
    }
    count(GENERATED_TOKENS, r.getGeneratedTokens());
    return r;
  }

  private void count(String name, long n) {
    counts.merge(name, n, Long::sum);
    add(name, n);
  }

  private void add(String name, long n) {
    LongCounter counter = accumulators.get(name);
    if (counter == null) {
      counter = new LongCounter();
      getRuntimeContext().addAccumulator(name, counter);
      accumulators.put(name, counter);
    }
    counter.add(n);
  }

  @Override
  public void snapshotState(FunctionSnapshotContext context) throws Exception {
    state.update(java.util.List.of(new HashMap<>(counts)));
  }
}
