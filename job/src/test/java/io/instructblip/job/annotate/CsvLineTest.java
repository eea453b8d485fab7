package io.instructblip.job.annotate;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.util.List;
import org.junit.jupiter.api.Test;

class CsvLineTest {
  @Test
  void splitsPlainAndQuotedFields() {
    assertEquals(List.of("1", "a.jpg"), CsvLine.split("1,a.jpg"));
    assertEquals(
        List.of("1", "a b.jpg", "Is it red, or blue?"),
        CsvLine.split("1,a b.jpg,\"Is it red, or blue?\""));
    assertEquals(List.of("2", "x.png", "say \"hi\""), CsvLine.split("2,x.png,\"say \"\"hi\"\"\""));
    assertEquals(List.of("3", "x.png", ""), CsvLine.split("3,x.png,"));
  }
}
