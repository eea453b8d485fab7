package io.instructblip.job.cli;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.instructblip.engine.EngineConfig;
import io.instructblip.engine.EngineException;
import io.instructblip.engine.EngineRequest;
import io.instructblip.engine.EngineResult;
import io.instructblip.engine.ErrorCode;
import io.instructblip.engine.GenerationOverrides;
import io.instructblip.engine.InstructBlipEngine;
import io.instructblip.engine.TaskMode;
import io.instructblip.engine.model.DeviceSpec;
import io.instructblip.engine.model.SessionSettings;
import java.io.BufferedReader;
import java.io.IOException;
import java.io.PrintWriter;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

/**
 * {@code infer}: one-shot inference without Kafka or Flink. One request from the flags, or every
 * line of a JSONL file as one batch; prints one JSON answer per request, in input order.
 */
@Command(
    name = "infer",
    mixinStandardHelpOptions = true,
    description = {
      "Answer an instruction about image(s) with a model directory, without Kafka or Flink.",
      "Prints one JSON object per request. Exit code 0 when every request succeeded, 1 when one",
      "failed (its line carries the error code and message), 3 when the model cannot be opened."
    })
public final class InferCommand implements Callable<Integer> {
  static final int EXIT_REQUEST_FAILED = 1;
  static final int EXIT_MODEL_FAILED = 3;
  private static final ObjectMapper JSON = new ObjectMapper();

  @Spec CommandSpec spec;

  @Option(
      names = "--model",
      description = "Model directory (docs/model-format.md). Default: the bundled tiny demo model.")
  Path model;

  @Mixin DemoOption demo;

  @Option(names = "--image", description = "Image file; repeat for the frames of a video.")
  List<Path> images = new ArrayList<>();

  @Option(names = "--instruction", description = "The instruction or question.")
  String instruction;

  @Option(
      names = "--requests",
      description =
          "JSONL file, one request per line: {\"id\", \"images\": [paths], \"instruction\", and"
              + " optionally the generation fields below in snake_case and \"candidates\"}."
              + " Relative image paths are resolved against the file's folder.")
  Path requestsFile;

  @Option(
      names = "--device",
      defaultValue = "cpu",
      description = "cpu, cuda, cuda:N or auto (default: ${DEFAULT-VALUE}).")
  String device;

  @Option(names = "--threads", description = "ONNX Runtime intra-op threads (0 = its default).")
  Integer threads;

  @Option(names = "--max-new-tokens")
  Integer maxNewTokens;

  @Option(names = "--min-new-tokens")
  Integer minNewTokens;

  @Option(names = "--num-beams")
  Integer numBeams;

  @Option(names = "--length-penalty")
  Double lengthPenalty;

  @Option(names = "--repetition-penalty")
  Double repetitionPenalty;

  @Option(names = "--do-sample", description = "Sample instead of greedy/beam search.")
  Boolean doSample;

  @Option(names = "--temperature")
  Double temperature;

  @Option(names = "--top-k")
  Integer topK;

  @Option(names = "--top-p")
  Double topP;

  @Option(names = "--seed")
  Long seed;

  @Option(
      names = "--candidates",
      arity = "1..*",
      description = "Rank these candidate answers instead of generating (multiple choice).")
  List<String> candidates = new ArrayList<>();

  @Override
  public Integer call() throws IOException {
    PrintWriter out = spec.commandLine().getOut();
    PrintWriter err = spec.commandLine().getErr();
    List<EngineRequest> requests;
    try {
      requests = requestsFile != null ? readRequests(requestsFile) : List.of(flagRequest());
    } catch (EngineException e) {
      err.println(e.code() + ": " + e.getMessage());
      return EXIT_REQUEST_FAILED;
    }
    Path modelDir = model != null ? model : demo.extract();
    EngineConfig.Builder config = EngineConfig.builder(modelDir).session(sessionSettings());
    List<EngineResult> results;
    String modelName;
    try (InstructBlipEngine engine = InstructBlipEngine.open(config.build())) {
      modelName = engine.manifest().name();
      results = engine.infer(requests);
    } catch (EngineException e) {
      err.println(e.code() + ": " + e.getMessage());
      return EXIT_MODEL_FAILED;
    }
    boolean failed = false;
    for (EngineResult r : results) {
      out.println(ResultJson.toJson(r, modelName));
      if (!r.ok()) {
        failed = true;
        err.println(r.id() + ": " + r.errorCode() + ": " + r.errorMessage());
      }
    }
    out.flush();
    return failed ? EXIT_REQUEST_FAILED : 0;
  }

  private SessionSettings sessionSettings() {
    SessionSettings.Builder b = SessionSettings.builder().device(DeviceSpec.parse(device));
    if (threads != null) {
      b.intraOpThreads(threads);
    }
    return b.build();
  }

  private EngineRequest flagRequest() throws IOException {
    if (images.isEmpty()) {
      throw new EngineException(
          ErrorCode.INVALID_IMAGE_COUNT, "give at least one --image (or --requests FILE)");
    }
    List<byte[]> bytes = new ArrayList<>();
    for (Path image : images) {
      bytes.add(readImage(image));
    }
    GenerationOverrides overrides =
        GenerationOverrides.builder()
            .maxNewTokens(maxNewTokens)
            .minNewTokens(minNewTokens)
            .numBeams(numBeams)
            .lengthPenalty(lengthPenalty)
            .repetitionPenalty(repetitionPenalty)
            .doSample(doSample)
            .temperature(temperature)
            .topK(topK)
            .topP(topP)
            .seed(seed)
            .build();
    return new EngineRequest(
        "1",
        bytes,
        instruction,
        candidates.isEmpty() ? TaskMode.GENERATE : TaskMode.RANK,
        candidates,
        overrides);
  }

  private static List<EngineRequest> readRequests(Path file) throws IOException {
    List<EngineRequest> requests = new ArrayList<>();
    Path base = file.toAbsolutePath().getParent();
    try (BufferedReader reader = Files.newBufferedReader(file, StandardCharsets.UTF_8)) {
      String line;
      int number = 0;
      while ((line = reader.readLine()) != null) {
        number++;
        if (line.isBlank()) {
          continue;
        }
        requests.add(RequestLine.parse(JSON.readTree(line), base, number));
      }
    }
    return requests;
  }

  static byte[] readImage(Path path) throws IOException {
    if (!Files.isRegularFile(path)) {
      throw new EngineException(ErrorCode.IMAGE_UNREADABLE, "no such image file: " + path);
    }
    return Files.readAllBytes(path);
  }

  /** One line of a {@code --requests} file. */
  static final class RequestLine {
    private RequestLine() {}

    static EngineRequest parse(JsonNode node, Path base, int number) throws IOException {
      if (!node.isObject()) {
        throw new EngineException(
            ErrorCode.INVALID_PARAMETER, "line " + number + " is not a JSON object");
      }
      List<byte[]> images = new ArrayList<>();
      for (JsonNode image : node.path("images")) {
        images.add(readImage(base.resolve(image.asText())));
      }
      List<String> candidates = new ArrayList<>();
      node.path("candidates").forEach(c -> candidates.add(c.asText()));
      GenerationOverrides overrides =
          GenerationOverrides.builder()
              .maxNewTokens(intOrNull(node, "max_new_tokens"))
              .minNewTokens(intOrNull(node, "min_new_tokens"))
              .numBeams(intOrNull(node, "num_beams"))
              .lengthPenalty(doubleOrNull(node, "length_penalty"))
              .repetitionPenalty(doubleOrNull(node, "repetition_penalty"))
              .doSample(node.has("do_sample") ? node.get("do_sample").asBoolean() : null)
              .temperature(doubleOrNull(node, "temperature"))
              .topK(intOrNull(node, "top_k"))
              .topP(doubleOrNull(node, "top_p"))
              .seed(node.has("seed") ? node.get("seed").asLong() : null)
              .build();
      String id = node.has("id") ? node.get("id").asText() : Integer.toString(number);
      return new EngineRequest(
          id,
          images,
          node.path("instruction").isMissingNode() ? null : node.get("instruction").asText(),
          candidates.isEmpty() ? TaskMode.GENERATE : TaskMode.RANK,
          candidates,
          overrides);
    }

    private static Integer intOrNull(JsonNode node, String field) {
      return node.hasNonNull(field) ? node.get(field).asInt() : null;
    }

    private static Double doubleOrNull(JsonNode node, String field) {
      return node.hasNonNull(field) ? node.get(field).asDouble() : null;
    }
  }
}
