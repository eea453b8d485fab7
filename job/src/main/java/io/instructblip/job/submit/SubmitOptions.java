package io.instructblip.job.submit;

import io.instructblip.job.kafka.KafkaSettings;
import io.instructblip.job.registry.RegistrySettings;
import io.instructblip.schema.WireFormat;
import io.instructblip.schema.avro.InferenceRequest;
import io.instructblip.schema.avro.RequestMode;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;

/**
 * What {@link SubmitClient} sends and how long it waits: one request per image with the same
 * instruction, mode and candidates, or {@code requests} built elsewhere.
 *
 * @param bootstrapServers Kafka {@code bootstrap.servers}
 * @param requestTopic the topic to send requests to
 * @param responseTopic the topic to read responses from (with {@code wait})
 * @param instruction the instruction of every request
 * @param images local image files (sent inline) or URIs (sent as {@code uri}), one request each
 * @param imagesDir a folder whose image files are each sent as one request (may be null)
 * @param mode GENERATE or RANK
 * @param candidates the answers to rank (RANK only)
 * @param format the wire format of the requests
 * @param waitForResponses whether to wait for every response and print it
 * @param timeout how long to wait for the responses
 * @param kafkaProperties extra Kafka client properties (TLS, SASL, ...)
 * @param registry the Schema Registry for {@code --format registry} (may be null)
 * @param requests the requests to send as they are, instead of building them from instruction and
 *     images (empty: build them)
 */
public record SubmitOptions(
    String bootstrapServers,
    String requestTopic,
    String responseTopic,
    String instruction,
    List<String> images,
    Path imagesDir,
    RequestMode mode,
    List<String> candidates,
    WireFormat format,
    boolean waitForResponses,
    Duration timeout,
    Map<String, String> kafkaProperties,
    RegistrySettings registry,
    List<InferenceRequest> requests) {

  public SubmitOptions {
    if (bootstrapServers == null || bootstrapServers.isBlank()) {
      throw new IllegalArgumentException("--bootstrap-servers is required, e.g. localhost:9092");
    }
    Objects.requireNonNull(requestTopic, "requestTopic");
    Objects.requireNonNull(responseTopic, "responseTopic");
    images = List.copyOf(images == null ? List.of() : images);
    candidates = List.copyOf(candidates == null ? List.of() : candidates);
    requests = List.copyOf(requests == null ? List.of() : requests);
    if (!requests.isEmpty()) {
      if (instruction != null || !images.isEmpty() || imagesDir != null || !candidates.isEmpty()) {
        throw new IllegalArgumentException(
            "give either the requests to send or the instruction and images to build them from,"
                + " not both");
      }
    } else if (instruction == null || instruction.isBlank()) {
      throw new IllegalArgumentException("--instruction must not be blank");
    } else if (images.isEmpty() && imagesDir == null) {
      throw new IllegalArgumentException("give --image PATH|URI (repeatable) or --images-dir DIR");
    }
    Objects.requireNonNull(mode, "mode");
    if (mode == RequestMode.RANK && candidates.isEmpty()) {
      throw new IllegalArgumentException("--mode rank needs --candidates");
    }
    if (mode == RequestMode.GENERATE && !candidates.isEmpty()) {
      throw new IllegalArgumentException("--candidates needs --mode rank");
    }
    Objects.requireNonNull(format, "format");
    if (format == WireFormat.REGISTRY && registry == null) {
      throw new IllegalArgumentException(
          "--format registry needs --registry-url URL (a Confluent-compatible Schema Registry,"
              + " e.g. http://registry:8081)");
    }
    Objects.requireNonNull(timeout, "timeout");
    if (timeout.isNegative() || timeout.isZero()) {
      throw new IllegalArgumentException("--timeout must be positive, got " + timeout);
    }
    kafkaProperties = Map.copyOf(kafkaProperties == null ? Map.of() : kafkaProperties);
  }

  /** A builder with the defaults: the default topics, GENERATE, Avro, no wait, 5 min timeout. */
  public static Builder builder() {
    return new Builder();
  }

  /** Builder for {@link SubmitOptions}. */
  public static final class Builder {
    private String bootstrapServers;
    private String requestTopic = KafkaSettings.DEFAULT_REQUEST_TOPIC;
    private String responseTopic = KafkaSettings.DEFAULT_RESPONSE_TOPIC;
    private String instruction;
    private final List<String> images = new ArrayList<>();
    private Path imagesDir;
    private RequestMode mode = RequestMode.GENERATE;
    private final List<String> candidates = new ArrayList<>();
    private WireFormat format = WireFormat.AVRO;
    private boolean waitForResponses;
    private Duration timeout = Duration.ofMinutes(5);
    private final Map<String, String> kafkaProperties = new LinkedHashMap<>();
    private RegistrySettings registry;
    private final List<InferenceRequest> requests = new ArrayList<>();

    private Builder() {}

    public Builder bootstrapServers(String v) {
      bootstrapServers = v;
      return this;
    }

    public Builder requestTopic(String v) {
      requestTopic = Objects.requireNonNull(v);
      return this;
    }

    public Builder responseTopic(String v) {
      responseTopic = Objects.requireNonNull(v);
      return this;
    }

    public Builder instruction(String v) {
      instruction = v;
      return this;
    }

    public Builder image(String pathOrUri) {
      images.add(Objects.requireNonNull(pathOrUri));
      return this;
    }

    public Builder images(List<String> pathsOrUris) {
      images.addAll(pathsOrUris);
      return this;
    }

    public Builder imagesDir(Path v) {
      imagesDir = v;
      return this;
    }

    public Builder mode(RequestMode v) {
      mode = Objects.requireNonNull(v);
      return this;
    }

    public Builder candidates(List<String> v) {
      candidates.addAll(v);
      return this;
    }

    public Builder format(WireFormat v) {
      format = Objects.requireNonNull(v);
      return this;
    }

    public Builder waitForResponses(boolean v) {
      waitForResponses = v;
      return this;
    }

    public Builder timeout(Duration v) {
      timeout = Objects.requireNonNull(v);
      return this;
    }

    public Builder kafkaProperty(String key, String value) {
      kafkaProperties.put(Objects.requireNonNull(key), Objects.requireNonNull(value));
      return this;
    }

    /** The Schema Registry for {@code --format registry} and for reading framed responses. */
    public Builder registry(RegistrySettings v) {
      registry = v;
      return this;
    }

    /** Requests to send as they are, instead of one per image (no instruction, no images). */
    public Builder requests(List<InferenceRequest> v) {
      requests.addAll(v);
      return this;
    }

    public SubmitOptions build() {
      return new SubmitOptions(
          bootstrapServers,
          requestTopic,
          responseTopic,
          instruction,
          images,
          imagesDir,
          mode,
          candidates,
          format,
          waitForResponses,
          timeout,
          kafkaProperties,
          registry,
          requests);
    }
  }
}
