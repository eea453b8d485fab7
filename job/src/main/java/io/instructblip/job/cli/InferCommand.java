package io.instructblip.job.cli;

import io.instructblip.engine.EngineConfig;
import io.instructblip.engine.InstructBlipEngine;
import io.instructblip.engine.api.EngineException;
import io.instructblip.engine.api.EngineFailure;
import io.instructblip.engine.api.EngineOutcome;
import io.instructblip.engine.api.EngineRequest;
import io.instructblip.engine.api.StageTimings;
import io.instructblip.engine.api.TaskMode;
import io.instructblip.engine.model.DeviceSpec;
import io.instructblip.engine.model.SessionSettings;
import io.instructblip.job.fetch.ImageUriResolver;
import io.instructblip.job.fetch.UriPolicy;
import java.io.IOException;
import java.io.PrintWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.ParameterException;
import picocli.CommandLine.Spec;

/**
 * {@code infer}: one-shot inference without Kafka or Flink. One request from the flags, or every
 * line of a JSONL file (decoded by the Kafka job's strict codec, see {@link RequestsFile}) as one
 * batch; prints one JSON answer per request, in input order. Image files are read with the size
 * limit applied while reading.
 */
@Command(
    name = "infer",
    mixinStandardHelpOptions = true,
    modelTransformer = GenerationFlags.Flags.class,
    description = {
      "Answer an instruction about image(s) with a model directory, without Kafka or Flink.",
      "Prints one JSON object per request, in input order. Exit code 0 when every request",
      "succeeded, 1 when one failed (its answer carries the error code and message), 2 for a bad",
      "command line, 3 when the model cannot be opened."
    })
public final class InferCommand implements Callable<Integer> {
  static final int EXIT_REQUEST_FAILED = 1;
  static final int EXIT_MODEL_FAILED = 3;
  static final int MAX_THREADS = 256;

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
          "JSONL file, one request per line in the JSON form of docs/messages.md, e.g."
              + " {\"id\": \"a\", \"images\": [{\"uri\": \"file:///data/cat.jpg\"}],"
              + " \"instruction\": \"What is it?\", \"generation\": {\"max_new_tokens\": 20}}"
              + " (or {\"base64\": ...} images; a relative uri is resolved against the file's"
              + " folder). Every line is answered, a bad one with its error and line number.")
  Path requestsFile;

  @Option(
      names = "--max-image-bytes",
      defaultValue = "20971520",
      description = "Larger image files are refused before they are read (default: 20 MiB).")
  long maxImageBytes;

  @Option(
      names = "--device",
      defaultValue = "cpu",
      description = "cpu, cuda, cuda:N or auto (default: ${DEFAULT-VALUE}).")
  String device;

  @Option(
      names = "--threads",
      description = "ONNX Runtime intra-op threads, 0 to 256 (0 = its default: one per core).")
  Integer threads;

  @Mixin GenerationFlags generation;

  @Override
  public Integer call() throws IOException {
    PrintWriter out = spec.commandLine().getOut();
    PrintWriter err = spec.commandLine().getErr();
    SessionSettings session = validatedSettings();
    ImageUriResolver resolver =
        new ImageUriResolver(
            UriPolicy.builder()
                .allowScheme("file")
                .allowFileRoot(Path.of("/"))
                .maxBytesPerImage(maxImageBytes)
                .build());
    Path modelDir = model != null ? model : demo.extract();
    EngineConfig.Builder config = EngineConfig.builder(modelDir).session(session);
    List<RequestsFile.Line> lines;
    List<EngineOutcome> results = new ArrayList<>();
    String modelName;
    try (InstructBlipEngine engine = InstructBlipEngine.open(config.build())) {
      modelName = engine.manifest().name();
      lines =
          requestsFile != null
              ? new RequestsFile(resolver, modelName).read(requestsFile)
              : List.of(flagLine(resolver));
      List<EngineRequest> runnable = new ArrayList<>();
      lines.stream().filter(l -> l.request() != null).forEach(l -> runnable.add(l.request()));
      if (!runnable.isEmpty()) {
        try {
          results.addAll(engine.infer(runnable));
        } catch (EngineException e) {
          runnable.forEach(r -> results.add(EngineFailure.of(r.id(), e, StageTimings.ZERO)));
        }
      }
    } catch (EngineException e) {
      err.println(e.code() + ": " + e.getMessage());
      return EXIT_MODEL_FAILED;
    }
    boolean failed = false;
    int next = 0;
    for (RequestsFile.Line line : lines) {
      EngineOutcome r = line.request() != null ? results.get(next++) : line.error();
      if (requestsFile != null && line.request() != null && r instanceof EngineFailure f) {
        r = RequestsFile.onLine(line.number(), f);
      }
      out.println(ResultJson.toJson(r, modelName, requestsFile != null ? line.number() : null));
      if (r instanceof EngineFailure f) {
        failed = true;
        err.println(f.id() + ": " + f.code() + ": " + f.message());
      }
    }
    out.flush();
    return failed ? EXIT_REQUEST_FAILED : 0;
  }

  /** Checks the flags (exit 2 with the reason, never a stack trace) and the session settings. */
  private SessionSettings validatedSettings() {
    if (requestsFile != null && (!images.isEmpty() || instruction != null)) {
      throw usage("give either --requests FILE or --image/--instruction, not both");
    }
    if (requestsFile == null && images.isEmpty()) {
      throw usage("give at least one --image PATH (or --requests FILE)");
    }
    if (requestsFile != null && !Files.isRegularFile(requestsFile)) {
      throw usage("--requests " + requestsFile + ": no such file");
    }
    for (Path image : images) {
      if (!Files.isRegularFile(image)) {
        throw usage("--image " + image + ": no such file");
      }
    }
    if (model != null && !Files.isDirectory(model)) {
      throw usage("--model " + model + ": no such directory");
    }
    if (threads != null && (threads < 0 || threads > MAX_THREADS)) {
      throw usage(
          "--threads must be between 0 (ONNX Runtime's choice) and "
              + MAX_THREADS
              + ", got "
              + threads);
    }
    if (maxImageBytes < 1) {
      throw usage("--max-image-bytes must be at least 1, got " + maxImageBytes);
    }
    SessionSettings.Builder b;
    try {
      b = SessionSettings.builder().device(DeviceSpec.parse(device));
    } catch (EngineException e) {
      throw usage("--device: " + e.getMessage());
    }
    if (threads != null) {
      b.intraOpThreads(threads);
    }
    return b.build();
  }

  private ParameterException usage(String message) {
    return new ParameterException(spec.commandLine(), message);
  }

  /** The request of the flags, its images read with the size limit applied while reading. */
  private RequestsFile.Line flagLine(ImageUriResolver resolver) {
    try {
      resolver.checkImageCount(images.size());
      List<byte[]> bytes = new ArrayList<>();
      for (Path image : images) {
        bytes.add(resolver.read(image.toAbsolutePath().normalize().toUri().toString()));
      }
      return new RequestsFile.Line(
          1,
          new EngineRequest(
              "1",
              bytes,
              instruction,
              TaskMode.forCandidates(generation.candidates()),
              generation.candidates(),
              generation.overrides()),
          null);
    } catch (EngineException e) {
      return new RequestsFile.Line(1, null, EngineFailure.of("1", e, StageTimings.ZERO));
    }
  }
}
