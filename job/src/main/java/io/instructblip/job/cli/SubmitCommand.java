package io.instructblip.job.cli;

import io.instructblip.job.kafka.KafkaSettings;
import io.instructblip.job.registry.RegistrySettings;
import io.instructblip.job.submit.SubmitClient;
import io.instructblip.job.submit.SubmitOptions;
import io.instructblip.job.submit.SubmitResult;
import io.instructblip.schema.WireFormat;
import io.instructblip.schema.avro.RequestMode;
import java.io.PrintStream;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/**
 * {@code submit}: sends requests to the job's request topic and, with {@code --wait}, prints each
 * response as a JSON line. Exit code 0 when sent (and, with {@code --wait}, all answered), 1 on a
 * timeout or error, 2 on bad arguments.
 */
@Command(
    name = "submit",
    mixinStandardHelpOptions = true,
    description = {
      "Send one request per image to the job's request topic; with --wait, print each response"
          + " as one JSON line (stdout) until all are answered."
    })
public final class SubmitCommand implements Callable<Integer> {

  @Option(
      names = "--bootstrap-servers",
      required = true,
      paramLabel = "HOST:PORT",
      description = "Kafka bootstrap servers.")
  String bootstrapServers;

  @Option(
      names = "--topic",
      paramLabel = "TOPIC",
      description = "Request topic (default: ${DEFAULT-VALUE}).")
  String topic = KafkaSettings.DEFAULT_REQUEST_TOPIC;

  @Option(
      names = "--response-topic",
      paramLabel = "TOPIC",
      description = "Response topic read with --wait (default: ${DEFAULT-VALUE}).")
  String responseTopic = KafkaSettings.DEFAULT_RESPONSE_TOPIC;

  @Option(
      names = "--instruction",
      required = true,
      paramLabel = "TEXT",
      description = "The instruction or question.")
  String instruction;

  @Option(
      names = "--image",
      paramLabel = "PATH|URI",
      description =
          "An image: a local file (sent inline) or a URI the job can read (file://, https://,"
              + " s3://). Repeatable; one request each.")
  List<String> images = new ArrayList<>();

  @Option(
      names = "--images-dir",
      paramLabel = "DIR",
      description = "Send every .jpg/.jpeg/.png/.webp/.bmp/.gif file of this folder.")
  Path imagesDir;

  @Option(
      names = "--mode",
      paramLabel = "MODE",
      description = "generate or rank (default: ${DEFAULT-VALUE}).")
  String mode = "generate";

  @Option(
      names = "--candidates",
      split = ",",
      paramLabel = "TEXT",
      arity = "1..*",
      description = "Answers to rank (with --mode rank); comma-separated or repeated.")
  List<String> candidates = new ArrayList<>();

  @Option(
      names = "--format",
      paramLabel = "FORMAT",
      description =
          "Request wire format: avro, json or registry (Schema Registry framing, needs"
              + " --registry-url) (default: ${DEFAULT-VALUE}).")
  String format = "avro";

  @Option(
      names = "--registry-url",
      paramLabel = "URL",
      description =
          "A Confluent-compatible Schema Registry: registers the request schema for --format"
              + " registry and reads registry-framed responses with --wait.")
  String registryUrl;

  @Option(names = "--wait", description = "Wait for every response and print it.")
  boolean waitForResponses;

  @Option(
      names = "--timeout",
      paramLabel = "SECONDS",
      description = "With --wait: give up after this many seconds (default: ${DEFAULT-VALUE}).")
  long timeoutSeconds = 300;

  @Option(
      names = "--kafka-property",
      paramLabel = "KEY=VALUE",
      description = "Extra Kafka client property (TLS, SASL, ...); repeatable.")
  Map<String, String> kafkaProperties = new LinkedHashMap<>();

  private PrintStream out = System.out;
  private PrintStream err = System.err;

  /**
   * Where responses (out) and messages and progress (err) go; System.out and System.err by default.
   */
  public void setStreams(PrintStream out, PrintStream err) {
    this.out = java.util.Objects.requireNonNull(out, "out");
    this.err = java.util.Objects.requireNonNull(err, "err");
  }

  @Override
  public Integer call() throws Exception {
    SubmitOptions options;
    try {
      SubmitOptions.Builder builder =
          SubmitOptions.builder()
              .bootstrapServers(bootstrapServers)
              .requestTopic(topic)
              .responseTopic(responseTopic)
              .instruction(instruction)
              .images(images)
              .imagesDir(imagesDir)
              .mode(parseMode(mode))
              .candidates(candidates)
              .format(parseFormat(format))
              .waitForResponses(waitForResponses)
              .timeout(Duration.ofSeconds(timeoutSeconds))
              .registry(registryUrl == null ? null : RegistrySettings.of(registryUrl));
      kafkaProperties.forEach(builder::kafkaProperty);
      options = builder.build();
    } catch (IllegalArgumentException e) {
      err.println("submit: " + e.getMessage());
      return 2;
    }
    SubmitResult result;
    try {
      result = new SubmitClient(options, out, err).run();
    } catch (IllegalArgumentException | IllegalStateException e) {
      err.println("submit: " + e.getMessage());
      return 1;
    }
    if (waitForResponses && !result.allAnswered()) {
      err.println(
          "submit: "
              + result.responses().size()
              + " of "
              + result.sentIds().size()
              + " requests answered within "
              + timeoutSeconds
              + " s; is the job running and reading "
              + topic
              + "?");
      return 1;
    }
    return 0;
  }

  private static RequestMode parseMode(String value) {
    return switch (value.toLowerCase(java.util.Locale.ROOT)) {
      case "generate" -> RequestMode.GENERATE;
      case "rank" -> RequestMode.RANK;
      default ->
          throw new IllegalArgumentException(
              "--mode must be generate or rank, got \"" + value + "\"");
    };
  }

  private static WireFormat parseFormat(String value) {
    return switch (value.toLowerCase(java.util.Locale.ROOT)) {
      case "avro" -> WireFormat.AVRO;
      case "json" -> WireFormat.JSON;
      case "registry" -> WireFormat.REGISTRY;
      default ->
          throw new IllegalArgumentException(
              "--format must be avro, json or registry, got \"" + value + "\"");
    };
  }
}
