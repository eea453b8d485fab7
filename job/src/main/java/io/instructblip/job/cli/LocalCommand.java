package io.instructblip.job.cli;

import io.instructblip.job.kafka.KafkaSettings;
import io.instructblip.job.local.LocalCluster;
import io.instructblip.job.submit.SubmitClient;
import io.instructblip.job.submit.SubmitOptions;
import io.instructblip.job.submit.SubmitResult;
import io.instructblip.job.wiring.StageSettings;
import io.instructblip.schema.WireFormat;
import io.instructblip.schema.avro.RequestMode;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.Callable;
import java.util.stream.Stream;
import org.apache.flink.core.execution.JobClient;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

/**
 * {@code local}: everything in one JVM, for a first look: an embedded Kafka broker (KRaft), a local
 * Flink running the job on a model (the tiny demo model by default), the sample images submitted
 * through Kafka, and their answers printed. Exits 0 once every image is answered, or keeps running
 * for other clients with {@code --keep-running}.
 */
@Command(
    name = "local",
    mixinStandardHelpOptions = true,
    description = {
      "Start an embedded Kafka broker and a local Flink, run the job, submit the sample images",
      "and print their answers (one JSON line each)."
    })
public final class LocalCommand implements Callable<Integer> {
  @Mixin StageOptions stages;

  @Option(
      names = "--images",
      paramLabel = "DIR",
      description = "Images to submit (default: samples).")
  Path images;

  @Mixin DemoOption demo;

  @Option(
      names = "--instruction",
      defaultValue = "What is in the image?",
      description = "Instruction for every image (default: \"${DEFAULT-VALUE}\").")
  String instruction;

  @Option(
      names = "--kafka-port",
      defaultValue = "0",
      description =
          "Port on localhost where Kafka clients bootstrap (default: a free one, printed). The"
              + " broker answers on its own port, which its metadata names: clients must run on"
              + " this machine.")
  int kafkaPort;

  @Option(
      names = "--keep-running",
      description = "After the samples, keep broker and job running for other Kafka clients.")
  boolean keepRunning;

  @Option(
      names = "--timeout",
      defaultValue = "120 s",
      description = "How long to wait for the answers (default: ${DEFAULT-VALUE}).")
  String timeout;

  @Override
  public Integer call() throws Exception {
    PrintStream out = new PrintStream(System.out, true, StandardCharsets.UTF_8);
    PrintStream err = System.err;
    if (kafkaPort < 0 || kafkaPort > 65535) {
      err.println(
          "--kafka-port must be between 1 and 65535, or 0 for a free port; got " + kafkaPort);
      return 2;
    }
    Path model = stages.hasModel() ? null : demo.extract();
    StageSettings stageSettings =
        stages.toSettings(new org.apache.flink.configuration.Configuration(), model);
    List<String> imagePaths = imagePaths();
    try (LocalCluster cluster =
        LocalCluster.start(stageSettings, Duration.ofMillis(500), kafkaPort)) {
      KafkaSettings settings = cluster.settings();
      JobClient job = cluster.job();
      err.println(
          "Kafka at "
              + settings.bootstrapServers()
              + "; requests -> "
              + settings.requestTopic()
              + ", responses <- "
              + settings.responseTopic()
              + " (read_committed), dead letters <- "
              + settings.deadLetterTopic());
      SubmitOptions.Builder submit =
          SubmitOptions.builder()
              .bootstrapServers(settings.bootstrapServers())
              .requestTopic(settings.requestTopic())
              .responseTopic(settings.responseTopic())
              .instruction(instruction)
              .images(imagePaths)
              .mode(RequestMode.GENERATE)
              .format(WireFormat.AVRO)
              .waitForResponses(true)
              .timeout(org.apache.flink.util.TimeUtils.parseDuration(timeout));
      SubmitResult result = new SubmitClient(submit.build(), out, err).run();
      if (!result.allAnswered()) {
        err.println(
            "only "
                + result.responses().size()
                + " of "
                + result.sentIds().size()
                + " images were answered within "
                + timeout);
        return 1;
      }
      long failed =
          result.responses().values().stream()
              .filter(r -> r.getStatus() != io.instructblip.schema.avro.ResponseStatus.OK)
              .count();
      if (failed > 0) {
        err.println(failed + " of " + result.sentIds().size() + " images got an error response");
      }
      if (keepRunning) {
        out.println("bootstrap.servers=" + settings.bootstrapServers());
        out.println("request.topic=" + settings.requestTopic());
        out.println("response.topic=" + settings.responseTopic());
        out.println("dead.letter.topic=" + settings.deadLetterTopic());
        out.println("The job keeps running; stop it with Ctrl-C.");
        job.getJobExecutionResult().get();
        return 0;
      }
      return failed > 0 ? 1 : 0;
    }
  }

  private List<String> imagePaths() throws java.io.IOException {
    if (images == null) {
      return DemoModel.sampleImages().stream().map(Path::toString).toList();
    }
    try (Stream<Path> files = Files.list(images)) {
      List<String> paths = files.filter(Files::isRegularFile).sorted().map(Path::toString).toList();
      if (paths.isEmpty()) {
        throw new IllegalArgumentException("no image files in " + images);
      }
      return paths;
    }
  }
}
