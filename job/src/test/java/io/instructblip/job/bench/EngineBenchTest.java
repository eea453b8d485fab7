package io.instructblip.job.bench;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.instructblip.job.Main;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.file.Path;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;
import picocli.CommandLine;

/**
 * {@code bench --suite engine} on the committed tiny models prints, for every KV cache backend, one
 * line per context length with the step time, the host bytes per step (equal at every context for
 * the native backends) and the time in ONNX Runtime, and the ratio of the last to the first.
 */
class EngineBenchTest {
  private static final Path FIXTURES = Path.of(System.getProperty("instructblip.fixtures"));
  private static final Pattern CONTEXT_LINE =
      Pattern.compile(
          "\\[(\\S+)\\] context (\\d+): step (\\d+\\.\\d\\d) ms, host bytes/step (\\d+), in ONNX"
              + " Runtime (\\d+\\.\\d\\d) ms");

  @Test
  void printsOneLinePerContextLengthAndBackend() {
    for (String model : List.of("tiny-vicuna", "tiny-flant5")) {
      StringWriter out = new StringWriter();
      StringWriter err = new StringWriter();
      CommandLine cli = new CommandLine(new Main()).setCaseInsensitiveEnumValuesAllowed(true);
      cli.setOut(new PrintWriter(out));
      cli.setErr(new PrintWriter(err));
      int exit =
          cli.execute(
              "bench",
              "--suite",
              "engine",
              "--model",
              FIXTURES.resolve(model).toString(),
              "--vision-batches",
              "1",
              "--decode-sequences",
              "1,2",
              "--contexts",
              "16,48",
              "--warmup",
              "1",
              "--runs",
              "3");
      assertEquals(0, exit, err.toString());
      List<String> lines = out.toString().lines().toList();
      for (String backend : List.of("native", "native-repack", "heap")) {
        long[] hostBytes = new long[2];
        int[] contexts = {16, 48};
        for (int c = 0; c < contexts.length; c++) {
          String prefix = "[" + backend + "] context " + contexts[c] + ":";
          String line =
              lines.stream()
                  .filter(l -> l.startsWith(prefix))
                  .findFirst()
                  .orElseThrow(() -> new AssertionError("no line " + prefix + " in\n" + out));
          Matcher m = CONTEXT_LINE.matcher(line);
          assertTrue(m.matches(), line);
          hostBytes[c] = Long.parseLong(m.group(4));
          assertTrue(hostBytes[c] > 0, line);
          assertTrue(
              Double.parseDouble(m.group(5)) <= Double.parseDouble(m.group(3)) + 0.01,
              "time in ONNX Runtime within the step: " + line);
        }
        if (!backend.equals("heap")) {
          assertEquals(hostBytes[0], hostBytes[1], model + " " + backend + ": host bytes/step");
        } else {
          assertTrue(hostBytes[1] > hostBytes[0], model + " heap: host bytes grow");
        }
        String ratio = "[" + backend + "] step time ratio, context 48 vs 16: ";
        assertTrue(lines.stream().anyMatch(l -> l.startsWith(ratio)), ratio + " in\n" + out);
      }
    }
  }
}
