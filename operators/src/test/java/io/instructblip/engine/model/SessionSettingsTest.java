package io.instructblip.engine.model;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import org.junit.jupiter.api.Test;

class SessionSettingsTest {

  @Test
  void threadCountsAreBounded() {
    assertEquals(256, SessionSettings.builder().intraOpThreads(256).build().intraOpThreads());
    // 100,000 threads once hung the process at 6.7 GB.
    IllegalArgumentException e =
        assertThrows(
            IllegalArgumentException.class,
            () -> SessionSettings.builder().intraOpThreads(100_000).build());
    assertEquals(
        "thread counts must be between 0 (ONNX Runtime's choice) and 256, found intra 100000,"
            + " inter 1",
        e.getMessage());
    assertThrows(
        IllegalArgumentException.class, () -> SessionSettings.builder().intraOpThreads(-1).build());
  }
}
