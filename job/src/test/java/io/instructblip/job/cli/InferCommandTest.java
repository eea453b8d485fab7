package io.instructblip.job.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.instructblip.job.Main;
import java.io.IOException;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.file.Files;
import java.nio.file.Path;
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

  @Test
  void answersAJsonlFileInInputOrderAndFailsOnlyTheBadLine(@TempDir Path dir) throws IOException {
    Files.copy(FIXTURES.resolve("images/rgb.png"), dir.resolve("a.png"));
    Files.copy(FIXTURES.resolve("images/garbage.bin"), dir.resolve("bad.bin"));
    Path requests = dir.resolve("requests.jsonl");
    Files.writeString(
        requests,
        """
        {"id": "first", "images": ["a.png"], "instruction": "What is in the image?", "max_new_tokens": 4}
        {"id": "broken", "images": ["bad.bin"], "instruction": "What is in the image?"}
        {"id": "third", "images": ["a.png"], "instruction": "Is there a cat?", "candidates": ["yes", "no"]}
        """);
    Run run =
        infer(
            "--model",
            FIXTURES.resolve("tiny-flant5").toString(),
            "--requests",
            requests.toString());
    assertEquals(InferCommand.EXIT_REQUEST_FAILED, run.exit());
    assertEquals(3, run.lines().size());
    assertEquals("first", JSON.readTree(run.lines().get(0)).get("id").asText());
    JsonNode broken = JSON.readTree(run.lines().get(1));
    assertEquals("IMAGE_UNREADABLE", broken.get("error").get("code").asText());
    JsonNode third = JSON.readTree(run.lines().get(2));
    assertEquals("rank", third.get("finish_reason").asText());
    assertEquals(2, third.get("candidates").size());
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
