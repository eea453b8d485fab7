package io.instructblip.job.cli;

import io.instructblip.engine.api.EngineException;
import io.instructblip.engine.api.EngineFailure;
import io.instructblip.engine.api.EngineRequest;
import io.instructblip.engine.api.ErrorCode;
import io.instructblip.engine.api.StageTimings;
import io.instructblip.job.fetch.ImageUriResolver;
import io.instructblip.job.kafka.DeadLetter;
import io.instructblip.job.kafka.RawRecord;
import io.instructblip.job.parse.ParseResult;
import io.instructblip.job.parse.RequestParser;
import io.instructblip.job.wiring.StageItems;
import io.instructblip.schema.avro.ErrorInfo;
import io.instructblip.schema.avro.ImageInput;
import io.instructblip.schema.avro.InferenceRequest;
import java.io.BufferedReader;
import java.io.IOException;
import java.net.URI;
import java.net.URISyntaxException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Objects;

/**
 * The lines of an {@code infer --requests} file: each non-blank line is one request in the JSON
 * form of docs/messages.md, decoded by the same strict codec and checks as the Kafka job ({@link
 * RequestParser}); its images are read under an {@link ImageUriResolver} (local files; a relative
 * URI is resolved against the file's folder). A line that is not a valid request, or whose images
 * cannot be read, becomes its own error answer (with its id, or {@code line-N} when it has none,
 * and a message starting {@code line N:}); the other lines are unaffected.
 */
final class RequestsFile {
  /** One non-blank line: its number and either a request to run or its error answer. */
  record Line(int number, EngineRequest request, EngineFailure error) {
    Line {
      if ((request == null) == (error == null)) {
        throw new IllegalArgumentException("a line has a request or an error, not both");
      }
    }
  }

  private final ImageUriResolver resolver;
  private final String servedModel;
  private final RequestParser parser = new RequestParser();

  /**
   * @param servedModel the model name of the model directory; a request naming another one is
   *     refused, as in the job ({@code null}: not checked)
   */
  RequestsFile(ImageUriResolver resolver, String servedModel) {
    this.resolver = Objects.requireNonNull(resolver, "resolver");
    this.servedModel = servedModel;
  }

  /** Every non-blank line of {@code file}, in order. */
  List<Line> read(Path file) throws IOException {
    URI base = file.toAbsolutePath().getParent().toUri();
    List<Line> lines = new ArrayList<>();
    try (BufferedReader reader = Files.newBufferedReader(file, StandardCharsets.UTF_8)) {
      String text;
      int number = 0;
      while ((text = reader.readLine()) != null) {
        number++;
        if (!text.isBlank()) {
          lines.add(line(number, text, base));
        }
      }
    }
    return lines;
  }

  private Line line(int number, String text, URI base) {
    RawRecord record =
        new RawRecord(
            "requests-file", 0, number, 0, null, text.getBytes(StandardCharsets.UTF_8), List.of());
    ParseResult parsed = parser.parse(record);
    if (parsed instanceof ParseResult.DeadLettered dead) {
      DeadLetter letter = dead.deadLetter();
      return error(
          number,
          "line-" + number,
          ErrorCode.INVALID_REQUEST,
          "not a request (" + letter.errorCode() + "): " + letter.errorMessage());
    }
    if (parsed instanceof ParseResult.Rejected rejected) {
      ErrorInfo info = rejected.errorResponse().response().getError();
      return error(
          number,
          rejected.errorResponse().response().getId(),
          ErrorCode.valueOf(info.getCode()),
          info.getMessage());
    }
    InferenceRequest r = ((ParseResult.Accepted) parsed).request().request();
    try {
      if (servedModel != null) {
        StageItems.checkModel(r, servedModel);
      }
      resolver.checkImageCount(r.getImages().size());
      List<byte[]> images = new ArrayList<>(r.getImages().size());
      for (ImageInput image : r.getImages()) {
        images.add(
            image.getBytes() != null
                ? StageItems.bytes(image.getBytes())
                : resolver.read(resolve(base, image.getUri())));
      }
      return new Line(number, StageItems.engineRequest(r, images), null);
    } catch (EngineException e) {
      return error(number, r.getId(), e.code(), e.getMessage());
    }
  }

  /** {@code uri} resolved against the file's folder when it is relative (has no scheme). */
  private static String resolve(URI base, String uri) {
    try {
      URI parsed = new URI(uri);
      return parsed.getScheme() == null ? base.resolve(parsed).toString() : uri;
    } catch (URISyntaxException e) {
      return uri; // the resolver says what is wrong with it
    }
  }

  private static Line error(int number, String id, ErrorCode code, String message) {
    return new Line(
        number,
        null,
        new EngineFailure(id, code, "line " + number + ": " + message, StageTimings.ZERO));
  }

  /** The {@code failure} of line {@code number}, its message starting {@code line N:}. */
  static EngineFailure onLine(int number, EngineFailure failure) {
    return new EngineFailure(
        failure.id(),
        failure.code(),
        "line " + number + ": " + failure.message(),
        failure.timings());
  }
}
