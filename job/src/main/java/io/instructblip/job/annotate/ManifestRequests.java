package io.instructblip.job.annotate;

import io.instructblip.engine.api.ErrorCode;
import io.instructblip.job.kafka.RawRecord;
import io.instructblip.job.kafka.RequestEnvelope;
import io.instructblip.job.kafka.ResponseEnvelope;
import io.instructblip.job.parse.ParseResult;
import io.instructblip.job.parse.RequestParser;
import io.instructblip.schema.avro.ImageInput;
import io.instructblip.schema.avro.InferenceRequest;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.apache.flink.api.common.functions.OpenContext;
import org.apache.flink.streaming.api.functions.ProcessFunction;
import org.apache.flink.util.Collector;
import org.apache.flink.util.OutputTag;

/**
 * One request per manifest line. JSONL lines are requests in the JSON form of docs/messages.md,
 * read by the Kafka job's own parser (same checks, same error codes); CSV lines are {@code
 * id,image[,instruction]} (a first line starting with {@code id,} is the header) with the command
 * line's instruction and generation options. Image URIs without a scheme are relative to the input
 * root. A line that is no valid request becomes an error row on {@link #ERROR_ROWS}: under its id
 * when it has one, else under {@code manifest:<the line's start>}.
 */
public final class ManifestRequests extends ProcessFunction<String, RequestEnvelope> {
  private static final long serialVersionUID = 1L;

  /** Error rows of manifest lines that are no valid request. */
  public static final OutputTag<ResponseEnvelope> ERROR_ROWS =
      new OutputTag<>("manifest-errors") {};

  private final URI root;
  private final boolean csv;
  private final RequestTemplate template;
  private transient RequestParser parser;

  /**
   * @param root the input root that relative image URIs resolve against
   * @param csv whether lines are CSV (else JSONL requests)
   * @param template the instruction and options of CSV rows
   */
  public ManifestRequests(URI root, boolean csv, RequestTemplate template) {
    this.root = RelativePaths.asFolder(root);
    this.csv = csv;
    this.template = template;
  }

  @Override
  public void open(OpenContext openContext) {
    parser = new RequestParser();
  }

  @Override
  public void processElement(String line, Context ctx, Collector<RequestEnvelope> out) {
    if (line.isBlank()) {
      return;
    }
    if (csv) {
      csvRow(line, ctx, out);
    } else {
      jsonRow(line, ctx, out);
    }
  }

  private void jsonRow(String line, Context ctx, Collector<RequestEnvelope> out) {
    RawRecord record =
        new RawRecord("manifest", 0, -1, 0, null, line.getBytes(StandardCharsets.UTF_8), List.of());
    ParseResult result = parser.parse(record);
    if (result instanceof ParseResult.Accepted accepted) {
      InferenceRequest r = accepted.request().request();
      List<ImageInput> images = new ArrayList<>();
      List<String> named = new ArrayList<>();
      try {
        for (ImageInput image : r.getImages()) {
          if (image.getUri() != null) {
            named.add(image.getUri());
            image =
                ImageInput.newBuilder(image)
                    .setUri(RelativePaths.resolve(root, image.getUri()))
                    .build();
          }
          images.add(image);
        }
      } catch (IllegalArgumentException e) {
        ctx.output(
            ERROR_ROWS,
            error(r.getId(), r.getMetadata(), ErrorCode.INVALID_REQUEST, e.getMessage()));
        return;
      }
      Map<String, String> metadata = new LinkedHashMap<>(r.getMetadata());
      metadata.putIfAbsent(RequestTemplate.IMAGE_KEY, String.join("\n", named));
      metadata.putIfAbsent(RequestTemplate.INSTRUCTION_KEY, r.getInstruction());
      r.setImages(images);
      r.setMetadata(metadata);
      out.collect(new RequestEnvelope(r, List.of()));
    } else if (result instanceof ParseResult.Rejected rejected) {
      ctx.output(ERROR_ROWS, rejected.errorResponse());
    } else {
      ParseResult.DeadLettered dead = (ParseResult.DeadLettered) result;
      ctx.output(
          ERROR_ROWS,
          error(
              lineId(line),
              Map.of(),
              ErrorCode.INVALID_REQUEST,
              dead.deadLetter().errorCode() + ": " + dead.deadLetter().errorMessage()));
    }
  }

  private void csvRow(String line, Context ctx, Collector<RequestEnvelope> out) {
    List<String> fields = CsvLine.split(line);
    if (fields.get(0).strip().equalsIgnoreCase("id")) {
      return; // the header
    }
    String id = fields.get(0).strip();
    if (id.isEmpty() || fields.size() < 2 || fields.get(1).isBlank()) {
      ctx.output(
          ERROR_ROWS,
          error(
              id.isEmpty() ? lineId(line) : id,
              Map.of(),
              ErrorCode.INVALID_REQUEST,
              "a CSV manifest row is id,image[,instruction] with a non-empty id and image"));
      return;
    }
    String image = fields.get(1).strip();
    String instruction = fields.size() > 2 ? fields.get(2) : null;
    InferenceRequest request;
    try {
      request = template.request(id, RelativePaths.resolve(root, image), image, instruction);
    } catch (IllegalArgumentException e) {
      ctx.output(ERROR_ROWS, error(id, Map.of(), ErrorCode.INVALID_REQUEST, e.getMessage()));
      return;
    }
    if (request.getInstruction().isBlank()) {
      ctx.output(
          ERROR_ROWS,
          error(
              id,
              request.getMetadata(),
              ErrorCode.INSTRUCTION_EMPTY,
              "row has no instruction and no --instruction was given"));
      return;
    }
    out.collect(new RequestEnvelope(request, List.of()));
  }

  private static String lineId(String line) {
    String start = line.strip();
    return "manifest:" + (start.length() > 60 ? start.substring(0, 60) : start);
  }

  private static ResponseEnvelope error(
      String id, Map<String, String> metadata, ErrorCode code, String message) {
    return new ResponseEnvelope(
        RequestParser.errorResponse(id, metadata, code.name(), message, System.currentTimeMillis()),
        List.of());
  }
}
