package io.instructblip.sql;

import io.instructblip.engine.InstructBlipEngine;
import io.instructblip.engine.api.EngineException;
import io.instructblip.engine.api.EngineFailure;
import io.instructblip.engine.api.EngineRequest;
import io.instructblip.engine.api.ErrorCode;
import io.instructblip.engine.api.GenerationOverrides;
import io.instructblip.engine.api.StageTimings;
import io.instructblip.engine.api.TaskMode;
import io.instructblip.flink.SharedEngineRegistry;
import java.io.IOException;
import java.net.URI;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Collection;
import java.util.List;
import java.util.Objects;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.atomic.AtomicLong;
import org.apache.flink.configuration.Configuration;
import org.apache.flink.table.data.RowData;
import org.apache.flink.table.functions.AsyncPredictFunction;
import org.apache.flink.table.functions.FunctionContext;

/**
 * {@code ML_PREDICT} with an {@code instructblip} model: each row becomes one engine request (image
 * bytes or a file URI, instruction, optional candidates), queued on the TaskManager's shared {@link
 * RowBatcher} so that rows of every subtask run in batches; the answer is one output row. A row
 * that cannot be answered (no image, an unreadable or forbidden URI, an image that does not decode,
 * a parameter out of range) gets an output row with {@code status = 'ERROR'} and its code; the
 * query goes on.
 */
public final class InstructBlipPredictFunction extends AsyncPredictFunction {
  private static final long serialVersionUID = 1L;

  /** Larger files behind a URI are refused before they are read. */
  static final long MAX_IMAGE_BYTES = 20L * 1024 * 1024;

  private final EngineKey key;
  private final InputLayout input;
  private final OutputLayout output;
  private final Configuration modelOptions;
  private final Configuration callOptions;
  private final List<String> allowedFileRoots;

  private transient SharedEngineRegistry.Lease<RowBatcher> lease;
  private transient GenerationOverrides overrides;
  private transient List<Path> roots;
  private transient AtomicLong rows;

  InstructBlipPredictFunction(
      EngineKey key,
      InputLayout input,
      OutputLayout output,
      Configuration modelOptions,
      Configuration callOptions,
      List<String> allowedFileRoots) {
    this.key = Objects.requireNonNull(key, "key");
    this.input = Objects.requireNonNull(input, "input");
    this.output = Objects.requireNonNull(output, "output");
    this.modelOptions = modelOptions;
    this.callOptions = callOptions;
    this.allowedFileRoots = List.copyOf(allowedFileRoots);
  }

  @Override
  public void open(FunctionContext context) throws Exception {
    super.open(context);
    overrides = ModelOptions.overrides(modelOptions, callOptions);
    roots = new ArrayList<>();
    for (String root : allowedFileRoots) {
      roots.add(Path.of(root).toRealPath());
    }
    rows = new AtomicLong();
    lease =
        SharedEngineRegistry.global()
            .acquire(
                key,
                () ->
                    new RowBatcher(
                        InstructBlipEngine.open(key.engineConfig()), key.maxRows(), key.maxWait()));
  }

  @Override
  public CompletableFuture<Collection<RowData>> asyncPredict(RowData row) {
    String id = "sql-" + rows.incrementAndGet();
    EngineRequest request;
    try {
      request = request(id, row);
    } catch (EngineException e) {
      return CompletableFuture.completedFuture(
          List.of(output.row(EngineFailure.of(id, e, StageTimings.ZERO))));
    }
    return lease.get().submit(request).thenApply(result -> List.of(output.row(result)));
  }

  private EngineRequest request(String id, RowData row) {
    String instruction = input.instruction(row);
    if (instruction == null) {
      throw new EngineException(ErrorCode.INSTRUCTION_EMPTY, "the instruction is null");
    }
    byte[] image = input.imageIsUri() ? read(input.imageUri(row)) : input.imageBytes(row);
    if (image == null) {
      throw new EngineException(ErrorCode.INVALID_IMAGE_COUNT, "the image is null");
    }
    List<String> candidates = input.candidates(row);
    return new EngineRequest(
        id, List.of(image), instruction, TaskMode.forCandidates(candidates), candidates, overrides);
  }

  /** The bytes of a {@code file:} URI inside an allowed root. */
  private byte[] read(String uri) {
    if (uri == null) {
      return null;
    }
    Path path;
    try {
      URI parsed = URI.create(uri.strip());
      if (!"file".equalsIgnoreCase(parsed.getScheme())) {
        throw new EngineException(
            ErrorCode.IMAGE_URI_FORBIDDEN,
            "image URI " + uri + " is not a file: URI; the SQL provider reads files only");
      }
      path = Path.of(parsed).toRealPath();
    } catch (IllegalArgumentException | IOException e) {
      throw new EngineException(
          ErrorCode.IMAGE_UNREADABLE, "image URI " + uri + " cannot be read: " + e, e);
    }
    boolean allowed = false;
    for (Path root : roots) {
      allowed |= path.startsWith(root);
    }
    if (!allowed) {
      throw new EngineException(
          ErrorCode.IMAGE_URI_FORBIDDEN,
          "image URI "
              + uri
              + " lies outside the model's image.allowed-file-roots "
              + allowedFileRoots);
    }
    try {
      if (Files.size(path) > MAX_IMAGE_BYTES) {
        throw new EngineException(
            ErrorCode.IMAGE_TOO_LARGE,
            "image " + uri + " is larger than " + MAX_IMAGE_BYTES + " bytes");
      }
      return Files.readAllBytes(path);
    } catch (IOException e) {
      throw new EngineException(
          ErrorCode.IMAGE_UNREADABLE, "image URI " + uri + " cannot be read: " + e, e);
    }
  }

  @Override
  public void close() throws Exception {
    if (lease != null) {
      lease.close();
      lease = null;
    }
    super.close();
  }
}
