package io.instructblip.job.wiring;

import io.instructblip.engine.api.EngineException;
import io.instructblip.engine.api.ErrorCode;
import io.instructblip.engine.api.InputEcho;
import io.instructblip.flink.StageFailure;
import io.instructblip.flink.pipeline.StageItem;
import io.instructblip.job.fetch.FetchSettings;
import io.instructblip.job.fetch.ImageUriResolver;
import io.instructblip.job.fetch.UriPolicy;
import io.instructblip.job.kafka.RequestEnvelope;
import io.instructblip.schema.avro.ImageInput;
import io.instructblip.schema.avro.InferenceRequest;
import java.time.Clock;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.FutureTask;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import org.apache.flink.api.common.functions.OpenContext;
import org.apache.flink.streaming.api.functions.async.ResultFuture;
import org.apache.flink.streaming.api.functions.async.RichAsyncFunction;
import org.apache.flink.types.Either;

/**
 * The {@code read-images} step, run by Flink's async I/O operator: checks the requested model and
 * image count on the task thread, then reads the request's image URIs under the job's {@link
 * UriPolicy} on a pool of fetching threads of its own ({@link FetchSettings#threads()}), never on
 * the task thread. A request with only inline images needs no fetching and completes at once.
 *
 * <p>Each request becomes either its stage item ({@code Left}) or its failure ({@code Right}: a
 * forbidden URI, an unreadable or too large image, the wrong model, or a {@code TIMEOUT} when its
 * images were not all read within {@link FetchSettings#timeout()}; the fetch is then cancelled).
 * Nothing a request carries fails the task. Requests still fetching at a checkpoint are stored as
 * inputs by the async operator and fetched again after a restore.
 */
public final class FetchImages
    extends RichAsyncFunction<RequestEnvelope, Either<StageItem, StageFailure>> {
  private static final long serialVersionUID = 1L;

  /** The operator's name (and uid) in the job graph. */
  public static final String NAME = "read-images";

  private final HashMap<String, String> imageSettings;
  private final String servedModel;
  private transient ImageUriResolver resolver;
  private transient FetchSettings fetch;
  private transient ExecutorService pool;
  private transient Map<ResultFuture<?>, Future<?>> running;
  private transient Clock clock;

  /**
   * @param imageSettings the {@code instructblip.images.*} settings, without the prefix ({@link
   *     UriPolicy} and {@link FetchSettings} keys)
   * @param servedModel the model name this job serves (the manifest's {@code name})
   */
  public FetchImages(Map<String, String> imageSettings, String servedModel) {
    this.imageSettings = new HashMap<>(imageSettings);
    this.servedModel = Objects.requireNonNull(servedModel, "servedModel");
  }

  @Override
  public void open(OpenContext openContext) {
    resolver = new ImageUriResolver(UriPolicy.fromMap(imageSettings));
    fetch = FetchSettings.fromMap(imageSettings);
    clock = Clock.systemUTC();
    running = new ConcurrentHashMap<>();
    AtomicInteger count = new AtomicInteger();
    pool =
        Executors.newFixedThreadPool(
            fetch.threads(),
            runnable -> {
              Thread thread = new Thread(runnable, "fetch-images-" + count.getAndIncrement());
              thread.setDaemon(true);
              return thread;
            });
  }

  @Override
  public void asyncInvoke(
      RequestEnvelope envelope, ResultFuture<Either<StageItem, StageFailure>> result) {
    InferenceRequest r = envelope.request();
    ResponseContext context =
        new ResponseContext(
            r.getMetadata(), envelope.headers(), r.getCreatedAtMs(), clock.millis());
    try {
      StageItems.checkModel(r, servedModel);
      resolver.checkImageCount(r.getImages().size());
    } catch (EngineException e) {
      complete(result, failure(r, e.code(), e.getMessage(), context));
      return;
    } catch (RuntimeException e) {
      // answered as INTERNAL rather than failing the task (and again after every restart)
      complete(
          result,
          failure(
              r,
              ErrorCode.INTERNAL,
              "the request could not be mapped: " + InputEcho.abbreviate(e.toString()),
              context));
      return;
    }
    if (r.getImages().stream().allMatch(image -> image.getBytes() != null)) {
      complete(result, read(r, context));
      return;
    }
    FutureTask<Void> task =
        new FutureTask<>(
            () -> {
              try {
                complete(result, read(r, context));
              } finally {
                running.remove(result);
              }
            },
            null);
    running.put(result, task);
    try {
      pool.execute(task);
    } catch (RejectedExecutionException e) {
      running.remove(result);
      complete(result, failure(r, ErrorCode.INTERNAL, "the image fetcher is closed", context));
    }
  }

  /** Reads every image of {@code r} (inline bytes or URIs) into its stage item, or its failure. */
  private Either<StageItem, StageFailure> read(InferenceRequest r, ResponseContext context) {
    try {
      List<byte[]> images = new ArrayList<>(r.getImages().size());
      for (ImageInput image : r.getImages()) {
        if (Thread.currentThread().isInterrupted()) {
          return failure(r, ErrorCode.TIMEOUT, "image fetch cancelled", context);
        }
        images.add(
            image.getBytes() != null
                ? StageItems.bytes(image.getBytes())
                : resolver.read(image.getUri()));
      }
      return Either.Left(StageItems.of(r, images, context));
    } catch (EngineException e) {
      return failure(r, e.code(), e.getMessage(), context);
    } catch (RuntimeException e) {
      return failure(
          r,
          ErrorCode.INTERNAL,
          "reading the images failed: " + InputEcho.abbreviate(e.toString()),
          context);
    }
  }

  @Override
  public void timeout(
      RequestEnvelope envelope, ResultFuture<Either<StageItem, StageFailure>> result) {
    InferenceRequest r = envelope.request();
    complete(
        result,
        failure(
            r,
            ErrorCode.TIMEOUT,
            "the request's "
                + r.getImages().size()
                + " image(s) were not read within "
                + fetch.timeout().toMillis()
                + " ms",
            new ResponseContext(
                r.getMetadata(), envelope.headers(), r.getCreatedAtMs(), clock.millis())));
    Future<?> task = running.remove(result);
    if (task != null) {
      task.cancel(true); // frees its thread; its late completion is ignored by the operator
    }
  }

  private void complete(
      ResultFuture<Either<StageItem, StageFailure>> result, Either<StageItem, StageFailure> value) {
    result.complete(List.of(value)); // the async operator takes the first completion only
  }

  private static Either<StageItem, StageFailure> failure(
      InferenceRequest r, ErrorCode code, String message, ResponseContext context) {
    return Either.Right(new StageFailure(r.getId(), NAME, code, message, context.encode()));
  }

  @Override
  public void close() throws Exception {
    if (pool != null) {
      pool.shutdownNow();
      pool.awaitTermination(10, TimeUnit.SECONDS);
    }
  }
}
