package io.instructblip.flink;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import java.time.Duration;
import org.apache.flink.api.common.typeinfo.TypeInformation;
import org.apache.flink.api.java.typeutils.PojoTypeInfo;
import org.junit.jupiter.api.Test;

class StageConfigTest {

  @Test
  void continuousConfigRefusesFewerInFlightThanRunning() {
    IllegalArgumentException e =
        assertThrows(
            IllegalArgumentException.class,
            () -> ContinuousBatchingConfig.builder().maxRunning(4).maxInFlight(2).build());
    assertEquals(
        "maxInFlight (2) must be at least maxRunning (4), otherwise running slots stay empty:"
            + " raise maxInFlight or lower maxRunning",
        e.getMessage());
  }

  @Test
  void batchingConfigRefusesInconsistentValues() {
    IllegalArgumentException e =
        assertThrows(
            IllegalArgumentException.class,
            () -> BatchingConfig.builder().maxBatchSize(16).maxInFlight(8).build());
    assertEquals(
        "maxInFlight (8) must be at least maxBatchSize (16), otherwise a full batch can never"
            + " form: raise maxInFlight or lower maxBatchSize",
        e.getMessage());
    assertEquals(
        "maxBatchSize must be at least 1, was 0",
        assertThrows(
                IllegalArgumentException.class,
                () -> BatchingConfig.builder().maxBatchSize(0).build())
            .getMessage());
  }

  @Test
  void defaultsComeFromOnePlace() {
    assertEquals(
        new BatchingConfig(8, Duration.ofMillis(10), 64, Duration.ZERO, false),
        BatchingConfig.defaults());
    assertEquals(
        new ContinuousBatchingConfig(8, 32, Duration.ZERO), ContinuousBatchingConfig.defaults());
  }

  @Test
  void checkpointedAndSideOutputRecordsUseThePojoSerializerNotKryo() {
    assertEquals(PojoTypeInfo.class, TypeInformation.of(InFlight.class).getClass());
    assertEquals(PojoTypeInfo.class, TypeInformation.of(StageFailure.class).getClass());
  }
}
