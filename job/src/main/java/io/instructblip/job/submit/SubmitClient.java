package io.instructblip.job.submit;

import io.instructblip.job.registry.RegistrySettings;
import io.instructblip.job.registry.RestSchemaRegistry;
import io.instructblip.schema.MessageCodec;
import io.instructblip.schema.MessageFormatException;
import io.instructblip.schema.WireFormat;
import io.instructblip.schema.avro.ImageInput;
import io.instructblip.schema.avro.InferenceRequest;
import io.instructblip.schema.avro.InferenceResponse;
import java.io.IOException;
import java.io.PrintStream;
import java.io.UncheckedIOException;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Objects;
import java.util.Properties;
import java.util.Set;
import java.util.UUID;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.Future;
import java.util.function.Supplier;
import java.util.regex.Pattern;
import java.util.stream.Stream;
import org.apache.avro.specific.SpecificRecord;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.clients.producer.RecordMetadata;
import org.apache.kafka.common.PartitionInfo;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.serialization.ByteArrayDeserializer;
import org.apache.kafka.common.serialization.ByteArraySerializer;

/**
 * Sends one request per image to the request topic (or the {@link SubmitOptions#requests} given)
 * and, when asked, waits for their responses.
 *
 * <p>Local paths are sent inline (bytes), anything that looks like a URI ({@code scheme://...}) as
 * {@code uri}; each request gets a random UUID as id and key. To wait, the client notes the end
 * offsets of the response topic <em>before</em> sending, then reads from there with {@code
 * isolation.level=read_committed} (the job writes responses in transactions) until every request
 * has its response or the timeout passes. Each response is printed as one JSON line on {@code out};
 * progress goes to {@code err} when there are many requests.
 */
public final class SubmitClient {
  private static final Pattern URI_LIKE = Pattern.compile("^[A-Za-z][A-Za-z0-9+.-]*:.*");
  private static final Set<String> IMAGE_EXTENSIONS =
      Set.of("jpg", "jpeg", "png", "webp", "bmp", "gif");
  private static final int PROGRESS_THRESHOLD = 10;

  private final SubmitOptions options;
  private final PrintStream out;
  private final PrintStream err;
  private final Supplier<String> ids;

  /** A client that prints responses on {@code out} and progress on {@code err}. */
  public SubmitClient(SubmitOptions options, PrintStream out, PrintStream err) {
    this(options, out, err, () -> UUID.randomUUID().toString());
  }

  SubmitClient(SubmitOptions options, PrintStream out, PrintStream err, Supplier<String> ids) {
    this.options = Objects.requireNonNull(options, "options");
    this.out = Objects.requireNonNull(out, "out");
    this.err = Objects.requireNonNull(err, "err");
    this.ids = Objects.requireNonNull(ids, "ids");
  }

  /** The requests this client would send, one per image (or those given), in order. */
  public List<InferenceRequest> buildRequests() {
    if (!options.requests().isEmpty()) {
      return options.requests();
    }
    List<String> sources = new ArrayList<>(options.images());
    if (options.imagesDir() != null) {
      sources.addAll(listImages(options.imagesDir()));
    }
    if (sources.isEmpty()) {
      throw new IllegalArgumentException(
          "no images to send: "
              + options.imagesDir()
              + " holds no .jpg/.jpeg/.png/.webp/.bmp/.gif");
    }
    long now = System.currentTimeMillis();
    List<InferenceRequest> requests = new ArrayList<>();
    for (String source : sources) {
      requests.add(
          InferenceRequest.newBuilder()
              .setId(ids.get())
              .setImages(List.of(image(source)))
              .setInstruction(options.instruction())
              .setMode(options.mode())
              .setCandidates(options.candidates())
              .setMetadata(Map.of("source", source))
              .setCreatedAtMs(now)
              .build());
    }
    return requests;
  }

  private static List<String> listImages(Path dir) {
    if (!Files.isDirectory(dir)) {
      throw new IllegalArgumentException("--images-dir " + dir + " is not a folder");
    }
    try (Stream<Path> files = Files.list(dir)) {
      return files
          .filter(Files::isRegularFile)
          .filter(p -> IMAGE_EXTENSIONS.contains(extension(p)))
          .sorted()
          .map(Path::toString)
          .toList();
    } catch (IOException e) {
      throw new UncheckedIOException("cannot list " + dir, e);
    }
  }

  private static String extension(Path p) {
    String name = p.getFileName().toString();
    int dot = name.lastIndexOf('.');
    return dot < 0 ? "" : name.substring(dot + 1).toLowerCase(Locale.ROOT);
  }

  static ImageInput image(String source) {
    if (URI_LIKE.matcher(source).matches() && source.contains("://")) {
      return ImageInput.newBuilder().setUri(source).build();
    }
    Path path = Path.of(source);
    if (!Files.isRegularFile(path)) {
      throw new IllegalArgumentException(
          "image " + source + " is not a file; give a local file or a URI such as file:///...");
    }
    try {
      return ImageInput.newBuilder().setBytes(ByteBuffer.wrap(Files.readAllBytes(path))).build();
    } catch (IOException e) {
      throw new UncheckedIOException("cannot read image " + source, e);
    }
  }

  /** Sends the requests and, with {@code waitForResponses}, waits for their responses. */
  public SubmitResult run() throws InterruptedException {
    List<InferenceRequest> requests = buildRequests();
    List<String> sentIds = requests.stream().map(InferenceRequest::getId).toList();
    if (!options.waitForResponses()) {
      send(requests);
      return new SubmitResult(sentIds, Map.of());
    }
    try (KafkaConsumer<byte[], byte[]> consumer = responseConsumer()) {
      List<TopicPartition> partitions = responsePartitions(consumer);
      consumer.assign(partitions);
      consumer.seekToEnd(partitions);
      for (TopicPartition tp : partitions) {
        consumer.position(tp); // fix the end offsets now, before any response can exist
      }
      send(requests);
      return new SubmitResult(sentIds, awaitResponses(consumer, sentIds));
    }
  }

  private void send(List<InferenceRequest> requests) throws InterruptedException {
    MessageCodec<InferenceRequest> codec =
        withRegistry(
            MessageCodec.requests(),
            options.requestTopic(),
            InferenceRequest.getClassSchema().getFullName());
    Properties props = clientProperties();
    props.put(ProducerConfig.ACKS_CONFIG, "all");
    props.put(ProducerConfig.ENABLE_IDEMPOTENCE_CONFIG, "true");
    try (KafkaProducer<byte[], byte[]> producer =
        new KafkaProducer<>(props, new ByteArraySerializer(), new ByteArraySerializer())) {
      List<Future<RecordMetadata>> sends = new ArrayList<>();
      for (InferenceRequest request : requests) {
        sends.add(
            producer.send(
                new ProducerRecord<>(
                    options.requestTopic(),
                    request.getId().getBytes(StandardCharsets.UTF_8),
                    codec.encode(request, options.format()))));
      }
      producer.flush();
      for (Future<RecordMetadata> send : sends) {
        try {
          send.get();
        } catch (ExecutionException e) {
          throw new IllegalStateException(
              "could not send a request to " + options.requestTopic() + ": " + e.getCause(),
              e.getCause());
        }
      }
    }
    if (requests.size() >= PROGRESS_THRESHOLD || !options.waitForResponses()) {
      err.println("sent " + requests.size() + " requests to " + options.requestTopic());
    }
  }

  /**
   * {@code codec} reading (and writing) Schema Registry framing through the configured registry,
   * under {@code topic}'s subject; {@code codec} itself without one.
   */
  private <T extends SpecificRecord> MessageCodec<T> withRegistry(
      MessageCodec<T> codec, String topic, String record) {
    RegistrySettings registry = options.registry();
    if (registry == null) {
      return codec;
    }
    return codec.withRegistry(
        new RestSchemaRegistry(registry), registry.subjectStrategy().subject(topic, record));
  }

  private Map<String, InferenceResponse> awaitResponses(
      KafkaConsumer<byte[], byte[]> consumer, List<String> sentIds) {
    MessageCodec<InferenceResponse> codec =
        withRegistry(
            MessageCodec.responses(),
            options.responseTopic(),
            InferenceResponse.getClassSchema().getFullName());
    Set<String> wanted = Set.copyOf(sentIds);
    Map<String, InferenceResponse> answered = new LinkedHashMap<>();
    long deadline = System.nanoTime() + options.timeout().toNanos();
    boolean progress = sentIds.size() >= PROGRESS_THRESHOLD;
    while (answered.size() < wanted.size()) {
      long left = deadline - System.nanoTime();
      if (left <= 0) {
        break;
      }
      for (ConsumerRecord<byte[], byte[]> record :
          consumer.poll(Duration.ofNanos(Math.min(left, Duration.ofMillis(200).toNanos())))) {
        InferenceResponse response;
        try {
          response = codec.decode(record.value() == null ? new byte[0] : record.value());
        } catch (MessageFormatException e) {
          continue; // not a response (someone else's record): not ours to judge
        }
        String id = response.getId();
        if (wanted.contains(id) && !answered.containsKey(id)) {
          answered.put(id, response);
          out.println(new String(codec.encode(response, WireFormat.JSON), StandardCharsets.UTF_8));
          out.flush();
          if (progress) {
            err.print(progressBar(answered.size(), wanted.size()));
            err.flush();
          }
        }
      }
    }
    if (progress) {
      err.println();
    }
    return answered;
  }

  static String progressBar(int done, int total) {
    int width = 30;
    int filled = total == 0 ? width : (int) ((long) done * width / total);
    return "\r[" + "#".repeat(filled) + " ".repeat(width - filled) + "] " + done + "/" + total;
  }

  private KafkaConsumer<byte[], byte[]> responseConsumer() {
    Properties props = clientProperties();
    props.put(ConsumerConfig.ISOLATION_LEVEL_CONFIG, "read_committed");
    props.put(ConsumerConfig.ENABLE_AUTO_COMMIT_CONFIG, "false");
    return new KafkaConsumer<>(props, new ByteArrayDeserializer(), new ByteArrayDeserializer());
  }

  private List<TopicPartition> responsePartitions(KafkaConsumer<byte[], byte[]> consumer) {
    List<PartitionInfo> infos =
        consumer.partitionsFor(options.responseTopic(), Duration.ofSeconds(30));
    if (infos == null || infos.isEmpty()) {
      throw new IllegalStateException(
          "response topic "
              + options.responseTopic()
              + " does not exist on "
              + options.bootstrapServers()
              + "; start the job first or give --response-topic");
    }
    return infos.stream().map(p -> new TopicPartition(p.topic(), p.partition())).toList();
  }

  private Properties clientProperties() {
    Properties props = new Properties();
    props.putAll(options.kafkaProperties());
    props.put(ProducerConfig.BOOTSTRAP_SERVERS_CONFIG, options.bootstrapServers());
    return props;
  }
}
