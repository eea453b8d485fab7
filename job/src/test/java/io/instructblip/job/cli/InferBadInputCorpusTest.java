package io.instructblip.job.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.instructblip.job.Main;
import java.io.IOException;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Base64;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import picocli.CommandLine;

/**
 * The {@code infer} half of the bad-input corpus: a generated file of bad lines (not JSON, wrong
 * shapes and types, bad images of every class the decoders handle, as file URIs and inline base64,
 * forbidden or missing images, bad generation parameters) with good lines among them, run through
 * {@code infer --requests} in-process. Every bad line gets its error answer with the expected code
 * and its line number; every good line the reference's tokens; the run never prints a stack trace.
 */
class InferBadInputCorpusTest {
  private static final ObjectMapper JSON = new ObjectMapper();
  private static final Path FIXTURES = Path.of(System.getProperty("instructblip.fixtures"));

  /** golden/tiny-vicuna/reference.json, case greedy_rp10. */
  private static final String REFERENCE = "[46,165,231,187,172,72,191,112]";

  private static final String GOOD_GENERATION =
      "\"generation\": {\"max_new_tokens\": 8, \"num_beams\": 1, \"repetition_penalty\": 1.0}";

  private final List<String> lines = new ArrayList<>();
  private final Map<Integer, String> expected = new LinkedHashMap<>();
  private String goodImage;

  @Test
  void everyBadLineGetsItsErrorAndEveryGoodLineItsAnswer(@TempDir Path dir) throws IOException {
    goodImage = FIXTURES.resolve("images/rgb.png").toUri().toString();
    byte[] png = Files.readAllBytes(FIXTURES.resolve("images/rgb.png"));

    // lines that are no request at all, or no valid one
    add("{\"id\": \"cut", "INVALID_REQUEST");
    add("[1, 2, 3]", "INVALID_REQUEST");
    add("\"just a string\"", "INVALID_REQUEST");
    add("42", "INVALID_REQUEST");
    add("null", "INVALID_REQUEST");
    add("{}", "INVALID_REQUEST");
    add(request("dup", "\"id\": \"dup2\""), "INVALID_REQUEST");
    add(request("trailing", "") + " {}", "INVALID_REQUEST");
    add(request("", ""), "INVALID_REQUEST");
    add(request("   ", ""), "INVALID_REQUEST");
    add(request("unknown-field", "\"num_beam\": 3"), "INVALID_REQUEST");
    add(request("metadata-type", "\"metadata\": [1]"), "INVALID_REQUEST");
    add(request("mode-symbol", "\"mode\": \"SUMMARIZE\""), "INVALID_REQUEST");
    add(request("candidates-string", "\"candidates\": \"yes\""), "INVALID_REQUEST");
    add(request("rank-without", "\"mode\": \"RANK\""), "INVALID_REQUEST");
    add(request("generate-with", "\"candidates\": [\"a\"]"), "INVALID_REQUEST");
    add(request("wrong-model", "\"model\": \"other-model\""), "INVALID_REQUEST");
    add(
        "{\"id\": \"no-images\", \"images\": [], \"instruction\": \"What?\"}",
        "INVALID_IMAGE_COUNT");
    add(
        "{\"id\": \"blank-instruction\", \"images\": [{\"uri\": \""
            + goodImage
            + "\"}], \"instruction\": \" \"}",
        "INSTRUCTION_EMPTY");
    add(
        "{\"id\": \"both\", \"images\": [{\"uri\": \""
            + goodImage
            + "\", \"base64\": \"AAAA\"}], \"instruction\": \"What?\"}",
        "INVALID_REQUEST");
    add("{\"id\": \"neither\", \"images\": [{}], \"instruction\": \"What?\"}", "INVALID_REQUEST");
    add(
        "{\"id\": \"bad-base64\", \"images\": [{\"base64\": \"***\"}], \"instruction\": \"What?\"}",
        "INVALID_REQUEST");
    add(
        "{\"id\": \"old-form\", \"images\": [\"rgb.png\"], \"instruction\": \"What?\"}",
        "INVALID_REQUEST");
    good();

    // wrong types for every generation field
    for (String field :
        List.of(
            "max_new_tokens",
            "min_new_tokens",
            "num_beams",
            "length_penalty",
            "repetition_penalty",
            "do_sample",
            "temperature",
            "top_k",
            "top_p",
            "seed",
            "num_return_sequences")) {
      add(
          request("type-" + field, "\"generation\": {\"" + field + "\": \"abc\"}"),
          "INVALID_REQUEST");
    }
    add(request("int-as-bool", "\"generation\": {\"num_beams\": true}"), "INVALID_REQUEST");
    add(request("int-overflow", "\"generation\": {\"top_k\": 1e12}"), "INVALID_REQUEST");
    good();

    // generation values the engine refuses
    for (String[] bad :
        new String[][] {
          {"max_new_tokens", "0"},
          {"min_new_tokens", "-1"},
          {"num_beams", "0"},
          {"num_beams", "-5"},
          {"repetition_penalty", "0"},
          {"repetition_penalty", "-1.5"},
          {"temperature", "0"},
          {"temperature", "-1"},
          {"top_k", "-1"},
          {"top_p", "0"},
          {"top_p", "1.5"},
          {"num_return_sequences", "0"},
        }) {
      add(
          request(
              "param-" + bad[0] + "=" + bad[1],
              "\"generation\": {\"" + bad[0] + "\": " + bad[1] + "}"),
          "INVALID_PARAMETER");
    }
    add(
        request("sample-with-beams", "\"generation\": {\"do_sample\": true, \"num_beams\": 3}"),
        "INVALID_PARAMETER");
    add(
        request("min-over-max", "\"generation\": {\"max_new_tokens\": 2, \"min_new_tokens\": 5}"),
        "INVALID_PARAMETER");
    good();

    // bad images of each class, as a file URI and inline
    Map<String, byte[]> images = new LinkedHashMap<>();
    images.put("empty", new byte[0]);
    images.put("text", "this is not an image\n".getBytes(StandardCharsets.UTF_8));
    images.put("garbage", Files.readAllBytes(FIXTURES.resolve("images/garbage.bin")));
    images.put("truncated-jpeg", Files.readAllBytes(FIXTURES.resolve("images/truncated.jpg")));
    images.put("png-signature-only", Arrays.copyOf(png, 8));
    images.put("png-cut-in-header", Arrays.copyOf(png, 20));
    images.put("png-cut-in-data", Arrays.copyOf(png, 60));
    images.put("jpeg-magic-only", new byte[] {(byte) 0xFF, (byte) 0xD8, (byte) 0xFF, (byte) 0xE0});
    images.put("tiff", new byte[] {'I', 'I', 42, 0, 8, 0, 0, 0, 0, 0});
    images.put("riff-not-webp", "RIFF\0\0\0\0WAVEfmt ".getBytes(StandardCharsets.US_ASCII));
    Map<String, String> codes = new LinkedHashMap<>();
    images.keySet().forEach(k -> codes.put(k, "IMAGE_UNREADABLE"));
    images.put("huge-header", Files.readAllBytes(FIXTURES.resolve("images/huge-header.png")));
    codes.put("huge-header", "IMAGE_TOO_LARGE");
    for (Map.Entry<String, byte[]> image : images.entrySet()) {
      Path file = dir.resolve(image.getKey() + ".img");
      Files.write(file, image.getValue());
      String code = codes.get(image.getKey());
      add(imageRequest("file-" + image.getKey(), "{\"uri\": \"" + file.toUri() + "\"}"), code);
      add(
          imageRequest(
              "inline-" + image.getKey(),
              "{\"base64\": \"" + Base64.getEncoder().encodeToString(image.getValue()) + "\"}"),
          code);
    }
    good();

    // images that cannot be read at all
    add(
        imageRequest("missing-file", "{\"uri\": \"" + dir.resolve("nope.png").toUri() + "\"}"),
        "IMAGE_UNREADABLE");
    add(imageRequest("a-folder", "{\"uri\": \"" + dir.toUri() + "\"}"), "IMAGE_UNREADABLE");
    add(imageRequest("http", "{\"uri\": \"http://127.0.0.1:9/x.png\"}"), "IMAGE_URI_FORBIDDEN");
    add(
        imageRequest("no-scheme-host", "{\"uri\": \"file://server/x.png\"}"),
        "IMAGE_URI_FORBIDDEN");
    add(imageRequest("not-a-uri", "{\"uri\": \"file:///a b|c\"}"), "IMAGE_URI_FORBIDDEN");
    Path big = dir.resolve("big.png");
    try (java.io.RandomAccessFile file = new java.io.RandomAccessFile(big.toFile(), "rw")) {
      file.setLength(64L << 20);
    }
    add(
        imageRequest("over-the-byte-limit", "{\"uri\": \"" + big.toUri() + "\"}"),
        "IMAGE_TOO_LARGE");
    String nine =
        String.join(", ", java.util.Collections.nCopies(9, "{\"uri\": \"" + goodImage + "\"}"));
    add(imageRequest("nine-images", nine), "INVALID_IMAGE_COUNT");
    good();

    Path requests = dir.resolve("corpus.jsonl");
    Files.write(requests, lines);
    StringWriter out = new StringWriter();
    StringWriter err = new StringWriter();
    CommandLine cli = new CommandLine(new Main());
    cli.setOut(new PrintWriter(out));
    cli.setErr(new PrintWriter(err));
    int exit =
        cli.execute(
            "infer",
            "--model",
            FIXTURES.resolve("tiny-vicuna").toString(),
            "--requests",
            requests.toString());

    assertEquals(InferCommand.EXIT_REQUEST_FAILED, exit, err.toString());
    assertFalse(err.toString().contains("Exception"), err.toString());
    Map<Integer, String> actual = new LinkedHashMap<>();
    for (String line : out.toString().lines().toList()) {
      JsonNode answer = JSON.readTree(line);
      int number = answer.get("line").asInt();
      actual.put(
          number,
          answer.has("error")
              ? answer.get("error").get("code").asText()
              : answer.get("token_ids").toString());
      if (answer.has("error")) {
        assertEquals(
            "line " + number + ": ",
            answer
                .get("error")
                .get("message")
                .asText()
                .substring(0, ("line " + number).length() + 2),
            line);
      }
    }
    assertEquals(expected, actual);
    System.out.println(
        "infer bad-input corpus: "
            + expected.values().stream().filter(v -> !v.equals(REFERENCE)).count()
            + " bad lines, "
            + expected.values().stream().filter(v -> v.equals(REFERENCE)).count()
            + " good lines");
  }

  private void add(String line, String code) {
    lines.add(line);
    expected.put(lines.size(), code);
  }

  private void good() {
    add(
        "{\"id\": \"good-"
            + lines.size()
            + "\", \"images\": [{\"uri\": \""
            + goodImage
            + "\"}], \"instruction\": \"What is in the image?\", "
            + GOOD_GENERATION
            + "}",
        REFERENCE);
  }

  /** A request with a good image plus {@code extra} fields. */
  private String request(String id, String extra) {
    return "{\"id\": \""
        + id
        + "\", \"images\": [{\"uri\": \""
        + goodImage
        + "\"}], \"instruction\": \"What?\""
        + (extra.isEmpty() ? "" : ", " + extra)
        + "}";
  }

  private static String imageRequest(String id, String images) {
    return "{\"id\": \""
        + id
        + "\", \"images\": ["
        + images
        + "], \"instruction\": \"What?\", \"generation\": {\"max_new_tokens\": 2}}";
  }
}
