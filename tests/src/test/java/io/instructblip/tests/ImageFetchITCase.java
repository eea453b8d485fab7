package io.instructblip.tests;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.sun.net.httpserver.HttpServer;
import io.instructblip.job.fetch.FetchSettings;
import io.instructblip.job.fetch.UriPolicy;
import io.instructblip.job.kafka.RequestEnvelope;
import io.instructblip.job.kafka.ResponseEnvelope;
import io.instructblip.job.wiring.RequestPipeline;
import io.instructblip.job.wiring.StageSettings;
import io.instructblip.schema.avro.GenerationOptions;
import io.instructblip.schema.avro.ImageInput;
import io.instructblip.schema.avro.InferenceRequest;
import io.instructblip.schema.avro.InferenceResponse;
import java.net.InetSocketAddress;
import java.nio.ByteBuffer;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import org.apache.flink.api.connector.sink2.Sink;
import org.apache.flink.api.connector.sink2.SinkWriter;
import org.apache.flink.api.connector.sink2.WriterInitContext;
import org.apache.flink.core.execution.JobClient;
import org.apache.flink.runtime.testutils.MiniClusterResourceConfiguration;
import org.apache.flink.streaming.api.environment.StreamExecutionEnvironment;
import org.apache.flink.test.junit5.MiniClusterExtension;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/**
 * The job's {@code read-images} step with a slow image origin (a local HTTP server that holds its
 * answers until the test releases them): an unrelated request (inline image, or a local file URI)
 * is answered while the slow request's downloads are still held, so a slow origin never blocks the
 * task thread; a request whose images take longer than {@code fetch-timeout} gets a {@code TIMEOUT}
 * response and the requests after it are answered. Ordering is asserted through the latch, never
 * through wall-clock thresholds.
 */
class ImageFetchITCase {
  private static final String MODEL = "tiny-vicuna";

  @RegisterExtension
  static final MiniClusterExtension CLUSTER =
      new MiniClusterExtension(
          new MiniClusterResourceConfiguration.Builder()
              .setNumberTaskManagers(1)
              .setNumberSlotsPerTaskManager(1)
              .build());

  static final Map<String, InferenceResponse> RESPONSES = new ConcurrentHashMap<>();

  private HttpServer server;
  private CountDownLatch release;
  private final byte[] png = GoldenCases.bytes("images/rgb.png");

  @BeforeEach
  void startOrigin() throws Exception {
    RESPONSES.clear();
    release = new CountDownLatch(1);
    CountDownLatch held = release;
    server = HttpServer.create(new InetSocketAddress("127.0.0.1", 0), 0);
    server.setExecutor(java.util.concurrent.Executors.newCachedThreadPool());
    server.createContext(
        "/slow/",
        exchange -> {
          try {
            held.await(25, TimeUnit.SECONDS); // within the 30 s read timeout
          } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
          }
          exchange.sendResponseHeaders(200, png.length);
          exchange.getResponseBody().write(png);
          exchange.close();
        });
    server.start();
  }

  @AfterEach
  void stopOrigin() {
    release.countDown();
    server.stop(0);
  }

  /** Collects the responses by id. */
  static final class CollectingSink implements Sink<ResponseEnvelope> {
    private static final long serialVersionUID = 1L;

    @Override
    public SinkWriter<ResponseEnvelope> createWriter(WriterInitContext context) {
      return new SinkWriter<>() {
        @Override
        public void write(ResponseEnvelope element, Context context) {
          RESPONSES.put(element.response().getId().toString(), element.response());
        }

        @Override
        public void flush(boolean endOfInput) {}

        @Override
        public void close() {}
      };
    }
  }

  @Test
  void aSlowOriginDelaysOnlyItsOwnRequest() throws Exception {
    List<ImageInput> slow = new ArrayList<>();
    for (int i = 0; i < 8; i++) {
      slow.add(uri(origin() + "/slow/" + i + ".png"));
    }
    String file = GoldenCases.fixtures().resolve("images/rgb.png").toUri().toString();
    JobClient job =
        start(
            Map.of(),
            request("slow", slow),
            request("inline", List.of(inline())),
            request("file", List.of(uri(file))));
    try {
      InferenceResponse inline = await("inline");
      InferenceResponse local = await("file");
      assertEquals(1, release.getCount(), "answered while the slow origin still holds");
      assertFalse(RESPONSES.containsKey("slow"));
      assertEquals("OK", inline.getStatus().name(), String.valueOf(inline));
      assertEquals("OK", local.getStatus().name(), String.valueOf(local));
      release.countDown();
      InferenceResponse slowAnswer = await("slow");
      assertEquals("OK", slowAnswer.getStatus().name(), String.valueOf(slowAnswer));
    } finally {
      job.cancel();
    }
  }

  @Test
  void aRequestPastTheFetchTimeoutGetsATimeoutResponse() throws Exception {
    JobClient job =
        start(
            Map.of(FetchSettings.TIMEOUT, "500 ms"),
            request("held", List.of(uri(origin() + "/slow/held.png"))),
            request("after", List.of(inline())));
    try {
      InferenceResponse held = await("held");
      assertEquals("TIMEOUT", held.getStatus().name(), String.valueOf(held));
      assertEquals("TIMEOUT", held.getError().getCode().toString());
      assertEquals(
          "the request's 1 image(s) were not read within 500 ms",
          held.getError().getMessage().toString());
      assertEquals(1, release.getCount(), "timed out while the origin still holds");
      assertEquals("OK", await("after").getStatus().name());
    } finally {
      job.cancel();
    }
  }

  private JobClient start(Map<String, String> fetch, RequestEnvelope... requests) throws Exception {
    StageSettings stages = KafkaJobFixture.cpuStages(MODEL);
    Map<String, String> images = new java.util.HashMap<>(fetch);
    images.put(UriPolicy.SCHEMES, "file,http");
    images.put(UriPolicy.FILE_ROOTS, GoldenCases.fixtures().resolve("images").toString());
    images.put(UriPolicy.HOSTS, "127.0.0.1");
    StreamExecutionEnvironment env = StreamExecutionEnvironment.getExecutionEnvironment();
    env.setParallelism(1);
    env.enableCheckpointing(200);
    new RequestPipeline(stages, images)
        .apply(env.fromData(requests))
        .sinkTo(new CollectingSink())
        .name("collect");
    return env.executeAsync("image fetch");
  }

  private static InferenceResponse await(String id) throws InterruptedException {
    for (int i = 0; i < 1200 && !RESPONSES.containsKey(id); i++) {
      Thread.sleep(50);
    }
    InferenceResponse response = RESPONSES.get(id);
    assertNotNull(response, "no response for " + id + " within 60 s; have " + RESPONSES.keySet());
    return response;
  }

  private String origin() {
    return "http://127.0.0.1:" + server.getAddress().getPort();
  }

  private ImageInput inline() {
    return ImageInput.newBuilder().setBytes(ByteBuffer.wrap(png)).build();
  }

  private static ImageInput uri(String uri) {
    return ImageInput.newBuilder().setUri(uri).build();
  }

  private static RequestEnvelope request(String id, List<ImageInput> images) {
    InferenceRequest request =
        InferenceRequest.newBuilder()
            .setId(id)
            .setInstruction("What is it?")
            .setImages(images)
            .setGeneration(GenerationOptions.newBuilder().setMaxNewTokens(4).build())
            .build();
    assertTrue(request.getImages().size() > 0);
    return new RequestEnvelope(request, List.of());
  }
}
