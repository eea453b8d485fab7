package io.instructblip.job.bench;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.instructblip.engine.eval.AccuracyTable;
import io.instructblip.job.Main;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import picocli.CommandLine;

/**
 * {@code bench --suite accuracy} on the committed demo model and its golden held-out file: the
 * table it prints is the PyTorch reference's accuracy, task type by task type, with every answer
 * the reference's own.
 */
class AccuracyBenchTest {
  private static final Path FIXTURES = Path.of(System.getProperty("instructblip.fixtures"));

  private record Run(int exit, String out, String err) {}

  private static Run bench(String... args) {
    StringWriter out = new StringWriter();
    StringWriter err = new StringWriter();
    CommandLine cli = new CommandLine(new Main()).setCaseInsensitiveEnumValuesAllowed(true);
    cli.setOut(new PrintWriter(out));
    cli.setErr(new PrintWriter(err));
    String[] all = new String[args.length + 1];
    all[0] = "bench";
    System.arraycopy(args, 0, all, 1, args.length);
    return new Run(cli.execute(all), out.toString(), err.toString());
  }

  @Test
  void printsTheReferenceAccuracyPerTaskTypeWithEveryAnswerTheReferences() {
    Run run =
        bench(
            "--suite",
            "accuracy",
            "--model",
            FIXTURES.resolve("demo-flant5").toString(),
            "--heldout",
            FIXTURES.resolve("golden/demo-flant5/heldout.json").toString());
    assertEquals(0, run.exit(), run.err());
    System.out.print(run.out());
    for (String task : AccuracyTable.ROWS) {
      String row =
          run.out()
              .lines()
              .filter(l -> l.startsWith(task + " "))
              .findFirst()
              .orElseThrow(() -> new AssertionError("no row " + task + " in\n" + run.out()));
      String[] cells = row.trim().split("\\s+");
      // task n acc seen held-out reference same/n
      assertEquals(
          Double.parseDouble(cells[5]),
          Double.parseDouble(cells[2]),
          1.01e-3,
          task + ": Java accuracy vs the reference's, in " + row);
      assertEquals(cells[1] + "/" + cells[1], cells[6], task + ": answers equal the reference's");
    }
    assertTrue(run.out().lines().anyMatch(l -> l.startsWith("all  ") && l.contains(" 360/360")));
  }

  @Test
  void refusesTheAccuracySuiteWithoutAHeldOutFile() {
    Run run = bench("--suite", "accuracy", "--model", FIXTURES.resolve("demo-vicuna").toString());
    assertEquals(2, run.exit());
    assertTrue(run.err().contains("--suite accuracy needs --heldout FILE, e.g."), () -> run.err());
  }
}
