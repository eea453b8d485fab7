package io.instructblip.schema;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.instructblip.schema.avro.InferenceRequest;
import io.instructblip.schema.avro.InferenceResponse;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * The examples in docs/messages.md are real: every JSON example decodes and survives a round trip
 * through both forms, and the Avro hex dump is exactly what the codec writes.
 */
class DocsExamplesTest {
  private static final Path DOC = Path.of("..", "docs", "messages.md");
  private static final String MARKER = "<!-- example: ";

  private final MessageCodec<InferenceRequest> requests = MessageCodec.requests();
  private final MessageCodec<InferenceResponse> responses = MessageCodec.responses();

  @Test
  void requestExamplesParseAndRoundTrip() throws Exception {
    List<String> examples = examples("request");
    assertEquals(3, examples.size());
    for (String example : examples) {
      InferenceRequest request = requests.decode(utf8(example));
      assertEquals(request, requests.decode(requests.encode(request)), example);
      assertEquals(request, requests.decode(requests.encode(request, WireFormat.JSON)), example);
    }
  }

  @Test
  void responseExamplesParseAndRoundTrip() throws Exception {
    List<String> examples = examples("response");
    assertEquals(4, examples.size());
    for (String example : examples) {
      InferenceResponse response = responses.decode(utf8(example));
      // Candidates with -Infinity scores compare equal with ==, so equals() is exact here.
      assertEquals(response, responses.decode(responses.encode(response)), example);
      assertEquals(
          response, responses.decode(responses.encode(response, WireFormat.JSON)), example);
    }
  }

  @Test
  void avroHexDumpIsTheEncodingOfTheFirstRequestExample() throws Exception {
    InferenceRequest first = requests.decode(utf8(examples("request").get(0)));
    String hex = examples("request-avro-hex").get(0).replaceAll("\\s+", "");
    assertEquals(HexFormat.of().formatHex(requests.encode(first)), hex);
  }

  private static List<String> examples(String kind) throws IOException {
    List<String> lines = Files.readAllLines(DOC, StandardCharsets.UTF_8);
    List<String> examples = new ArrayList<>();
    for (int i = 0; i < lines.size(); i++) {
      if (!lines.get(i).trim().equals(MARKER + kind + " -->")) {
        continue;
      }
      assertTrue(lines.get(i + 1).startsWith("```"), "a code block must follow line " + (i + 1));
      StringBuilder block = new StringBuilder();
      for (int j = i + 2; !lines.get(j).startsWith("```"); j++) {
        block.append(lines.get(j)).append('\n');
      }
      examples.add(block.toString());
    }
    return examples;
  }

  private static byte[] utf8(String text) {
    return text.getBytes(StandardCharsets.UTF_8);
  }
}
