package io.instructblip.job.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.instructblip.job.Main;
import java.io.IOException;
import java.io.PrintWriter;
import java.io.RandomAccessFile;
import java.io.StringWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import picocli.CommandLine;

/** The {@code infer} command on the committed tiny fixtures: output fields, batch order, exits. */
class InferCommandTest {
  private static final ObjectMapper JSON = new ObjectMapper();
  private static final Path FIXTURES = Path.of(System.getProperty("instructblip.fixtures"));

  private record Run(int exit, List<String> lines, String err) {}

  private static Run infer(String... args) {
    StringWriter out = new StringWriter();
    StringWriter err = new StringWriter();
    CommandLine cli = new CommandLine(new Main());
    cli.setOut(new PrintWriter(out));
    cli.setErr(new PrintWriter(err));
    String[] all = new String[args.length + 1];
    all[0] = "infer";
    System.arraycopy(args, 0, all, 1, args.length);
    int exit = cli.execute(all);
    return new Run(exit, out.toString().lines().toList(), err.toString());
  }

  @Test
  void answersOneRequestFromTheFlagsLikeTheReference() throws IOException {
    Run run =
        infer(
            "--model", FIXTURES.resolve("tiny-vicuna").toString(),
            "--image", FIXTURES.resolve("images/rgb.png").toString(),
            "--instruction", "What is in the image?",
            "--max-new-tokens", "8",
            "--num-beams", "1",
            "--repetition-penalty", "1.0");
    assertEquals(0, run.exit(), run.err());
    JsonNode answer = JSON.readTree(run.lines().get(0));
    // golden/tiny-vicuna/reference.json, case greedy_rp10
    assertEquals("[46,165,231,187,172,72,191,112]", answer.get("token_ids").toString());
    assertEquals("length", answer.get("finish_reason").asText());
    assertEquals(8, answer.get("num_generated_tokens").asInt());
    assertTrue(answer.get("timings_us").get("total").asLong() > 0);
  }

  /**
   * A sampling request without a seed is seeded from its id, so its line in the file does not
   * change its answer ({@code infer} once seeded it from its position).
   */
  @Test
  void aSamplingRequestGetsTheSameTokensOnAnyLine(@TempDir Path dir) throws IOException {
    Files.copy(FIXTURES.resolve("images/rgb.png"), dir.resolve("a.png"));
    String line =
        "{\"id\": \"%s\", \"images\": [{\"uri\": \"a.png\"}], \"instruction\": \"What is it?\","
            + " \"generation\": {\"do_sample\": true, \"temperature\": 1.5,"
            + " \"max_new_tokens\": 10, \"min_new_tokens\": 10}}\n";
    Path alone = dir.resolve("alone.jsonl");
    Files.writeString(alone, line.formatted("s"));
    Path third = dir.resolve("third.jsonl");
    Files.writeString(third, line.formatted("x") + line.formatted("y") + line.formatted("s"));
    String model = FIXTURES.resolve("tiny-vicuna").toString();

    Run first = infer("--model", model, "--requests", alone.toString());
    Run later = infer("--model", model, "--requests", third.toString());
    assertEquals(0, first.exit(), first.err());
    assertEquals(0, later.exit(), later.err());
    JsonNode a = JSON.readTree(first.lines().get(0));
    JsonNode c = JSON.readTree(later.lines().get(2));
    assertEquals("s", c.get("id").asText());
    assertEquals(10, a.get("token_ids").size());
    assertEquals(a.get("token_ids"), c.get("token_ids"));
  }

  @Test
  void answersAJsonlFileInInputOrderAndFailsOnlyTheBadLine(@TempDir Path dir) throws IOException {
    Files.copy(FIXTURES.resolve("images/rgb.png"), dir.resolve("a.png"));
    Files.copy(FIXTURES.resolve("images/garbage.bin"), dir.resolve("bad.bin"));
    Path requests = dir.resolve("requests.jsonl");
    Files.writeString(
        requests,
        """
        {"id": "first", "images": [{"uri": "a.png"}], "instruction": "What is in the image?", \
        "generation": {"max_new_tokens": 4}}
        {"id": "broken", "images": [{"uri": "bad.bin"}], "instruction": "What is in the image?"}
        {"id": "third", "images": [{"uri": "%s"}], "instruction": "Is there a cat?", \
        "mode": "RANK", "candidates": ["yes", "no"]}
        """
            .formatted(dir.resolve("a.png").toUri()));
    Run run =
        infer(
            "--model",
            FIXTURES.resolve("tiny-flant5").toString(),
            "--requests",
            requests.toString());
    assertEquals(InferCommand.EXIT_REQUEST_FAILED, run.exit(), run.err());
    assertEquals(3, run.lines().size());
    assertEquals("first", JSON.readTree(run.lines().get(0)).get("id").asText());
    JsonNode broken = JSON.readTree(run.lines().get(1));
    assertEquals("IMAGE_UNREADABLE", broken.get("error").get("code").asText());
    assertEquals(2, broken.get("line").asInt());
    JsonNode third = JSON.readTree(run.lines().get(2));
    assertEquals("rank", third.get("finish_reason").asText());
    assertEquals(2, third.get("candidates").size());
  }

  /**
   * The lax hand-written reader coerced wrong types, ignored unknown fields, duplicate keys and
   * trailing content, stopped at the first bad JSON with a stack trace and at the first missing
   * image; the strict codec answers each bad line with its code and line number, and the good lines
   * in between with the reference's answer.
   */
  @Test
  void decodesEachLineWithTheStrictCodecAndAnswersEveryLine(@TempDir Path dir) throws IOException {
    String image = FIXTURES.resolve("images/rgb.png").toUri().toString();
    String good =
        "{\"id\": \"%s\", \"images\": [{\"uri\": \"%s\"}], \"instruction\": \"What is in the"
            + " image?\", \"generation\": {\"max_new_tokens\": 8, \"num_beams\": 1,"
            + " \"repetition_penalty\": 1.0}}";
    String bad = "{\"id\": \"%s\", \"images\": [{\"uri\": \"%s\"}], \"instruction\": \"What?\"%s}";
    List<String> lines =
        List.of(
            good.formatted("good-1", image),
            bad.formatted("wrong-type", image, ", \"generation\": {\"max_new_tokens\": \"abc\"}"),
            bad.formatted("bool-as-int", image, ", \"generation\": {\"num_beams\": true}"),
            bad.formatted("candidates-string", image, ", \"candidates\": \"yes\""),
            bad.formatted("unknown-field", image, ", \"num_beam\": 3"),
            bad.formatted("duplicate-key", image, ", \"instruction\": \"again\""),
            bad.formatted("trailing", image, "") + " {}",
            "{\"id\": \"not-json\", ",
            "",
            "[1, 2, 3]",
            bad.formatted("missing-image", dir.resolve("nope.png").toUri(), ""),
            bad.formatted("old-form", image, "")
                .replace("[{\"uri\": \"" + image + "\"}]", "[\"a.png\"]"),
            good.formatted("good-2", image));
    Path requests = dir.resolve("requests.jsonl");
    Files.write(requests, lines);
    Run run =
        infer(
            "--model",
            FIXTURES.resolve("tiny-vicuna").toString(),
            "--requests",
            requests.toString());
    assertEquals(InferCommand.EXIT_REQUEST_FAILED, run.exit(), run.err());
    assertFalse(run.err().contains("Exception"), run.err());
    List<String> answers = new ArrayList<>();
    for (String line : run.lines()) {
      JsonNode a = JSON.readTree(line);
      answers.add(
          a.get("line").asInt()
              + " "
              + a.get("id").asText()
              + " "
              + (a.has("error") ? a.get("error").get("code").asText() : a.get("token_ids")));
      if (a.has("error")) {
        assertTrue(
            a.get("error").get("message").asText().startsWith("line " + a.get("line") + ": "),
            line);
      }
    }
    assertEquals(
        List.of(
            "1 good-1 [46,165,231,187,172,72,191,112]",
            "2 wrong-type INVALID_REQUEST",
            "3 bool-as-int INVALID_REQUEST",
            "4 candidates-string INVALID_REQUEST",
            "5 unknown-field INVALID_REQUEST",
            "6 duplicate-key INVALID_REQUEST",
            "7 trailing INVALID_REQUEST",
            "8 not-json INVALID_REQUEST",
            "10 line-10 INVALID_REQUEST",
            "11 missing-image IMAGE_UNREADABLE",
            "12 old-form INVALID_REQUEST",
            "13 good-2 [46,165,231,187,172,72,191,112]"),
        answers);
  }

  /** A bad command line is exit 2 with a message saying what to do, never a stack trace. */
  @Test
  void badFlagsExitWithTwoAndAMessage(@TempDir Path dir) {
    String image = FIXTURES.resolve("images/rgb.png").toString();
    String vicuna = FIXTURES.resolve("tiny-vicuna").toString();
    assertUsage(
        "--threads must be between 0 (ONNX Runtime's choice) and 256, got -1",
        infer("--model", vicuna, "--image", image, "--instruction", "What?", "--threads", "-1"));
    assertUsage(
        "--threads must be between 0 (ONNX Runtime's choice) and 256, got 100000",
        infer(
            "--model", vicuna, "--image", image, "--instruction", "What?", "--threads", "100000"));
    assertUsage(
        "--device: device \"gpu7\" is not one of cpu, cuda, cuda:N (N = 0, 1, ...), auto",
        infer("--model", vicuna, "--image", image, "--instruction", "What?", "--device", "gpu7"));
    assertUsage(
        "--requests " + dir.resolve("none.jsonl") + ": no such file",
        infer("--model", vicuna, "--requests", dir.resolve("none.jsonl").toString()));
    assertUsage(
        "--image " + dir.resolve("none.png") + ": no such file",
        infer("--model", vicuna, "--image", dir.resolve("none.png").toString()));
    assertUsage(
        "--model " + dir.resolve("none") + ": no such directory",
        infer("--model", dir.resolve("none").toString(), "--image", image));
    assertUsage("give at least one --image PATH (or --requests FILE)", infer("--model", vicuna));
  }

  private static void assertUsage(String message, Run run) {
    assertEquals(2, run.exit(), run.err());
    assertTrue(run.err().startsWith(message + System.lineSeparator()), run.err());
    assertFalse(run.err().contains("Exception"), run.err());
  }

  /**
   * A 3 GB image file (sparse) is refused from its size, and an image over the flag's limit is
   * refused while reading; the old reader read whole files first (OutOfMemoryError).
   */
  @Test
  void refusesImageFilesOverTheLimitWithoutReadingThem(@TempDir Path dir) throws IOException {
    Path huge = dir.resolve("huge.png");
    try (RandomAccessFile file = new RandomAccessFile(huge.toFile(), "rw")) {
      file.setLength(3L << 30);
    }
    Run run =
        infer(
            "--model", FIXTURES.resolve("tiny-vicuna").toString(),
            "--image", huge.toString(),
            "--instruction", "What?");
    assertEquals(InferCommand.EXIT_REQUEST_FAILED, run.exit(), run.err());
    JsonNode answer = JSON.readTree(run.lines().get(0));
    assertEquals("IMAGE_TOO_LARGE", answer.get("error").get("code").asText());
    Run small =
        infer(
            "--model",
            FIXTURES.resolve("tiny-vicuna").toString(),
            "--image",
            FIXTURES.resolve("images/rgb.png").toString(),
            "--instruction",
            "What?",
            "--max-image-bytes",
            "10");
    assertEquals(
        "IMAGE_TOO_LARGE",
        JSON.readTree(small.lines().get(0)).get("error").get("code").asText(),
        small.err());
  }

  @Test
  void aModelThatCannotLoadExitsWithItsReason(@TempDir Path empty) {
    Run run =
        infer(
            "--model", empty.toString(),
            "--image", FIXTURES.resolve("images/rgb.png").toString(),
            "--instruction", "What?");
    assertEquals(InferCommand.EXIT_MODEL_FAILED, run.exit());
    assertTrue(run.err().startsWith("MODEL_INVALID: "), run.err());
  }

  @Test
  void anInvalidParameterIsReportedWithItsCode() throws IOException {
    Run run =
        infer(
            "--model",
            FIXTURES.resolve("tiny-vicuna").toString(),
            "--image",
            FIXTURES.resolve("images/rgb.png").toString(),
            "--instruction",
            "What?",
            "--num-beams",
            "0");
    assertEquals(InferCommand.EXIT_REQUEST_FAILED, run.exit());
    assertEquals(
        "INVALID_PARAMETER", JSON.readTree(run.lines().get(0)).get("error").get("code").asText());
  }
}
