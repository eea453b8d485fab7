package io.instructblip.flink;

import org.apache.flink.api.common.typeinfo.TypeInformation;
import org.apache.flink.util.OutputTag;

/** The side outputs that every stage operator writes. */
public final class StageOutputs {

  /**
   * Errors and timeouts: one {@link StageFailure} per request that the stage could not answer with
   * a value. Read it with {@code stream.getSideOutput(StageOutputs.FAILURES)}.
   */
  public static final OutputTag<StageFailure> FAILURES =
      new OutputTag<>("stage-failures", TypeInformation.of(StageFailure.class));

  private StageOutputs() {}
}
