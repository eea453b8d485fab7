package io.instructblip.job.cli;

import io.instructblip.engine.eval.AccuracyTable;
import io.instructblip.engine.eval.HeldOutSet;
import io.instructblip.job.bench.AccuracyReport;
import io.instructblip.job.kafka.KafkaSettings;
import io.instructblip.job.local.LocalCluster;
import io.instructblip.job.submit.SubmitClient;
import io.instructblip.job.submit.SubmitOptions;
import io.instructblip.job.submit.SubmitResult;
import io.instructblip.job.wiring.StageItems;
import io.instructblip.job.wiring.StageSettings;
import io.instructblip.schema.WireFormat;
import io.instructblip.schema.avro.RequestMode;
import java.io.OutputStream;
import java.io.PrintStream;
import java.io.PrintWriter;
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
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

/**
 * {@code local}: everything in one JVM, for a first look: an embedded Kafka broker (KRaft), a local
 * Flink running the job on a model (the tiny demo model by default), the sample images submitted
 * through Kafka, and their answers printed. Exits 0 once every image is answered, or keeps running
 * for other clients with {@code --keep-running}. With {@code --heldout FILE} it asks a demo model's
 * held-out questions instead and prints the accuracy table of {@code bench --suite accuracy}.
 */
@Command(
    name = "local",
    mixinStandardHelpOptions = true,
    description = {
      "Start an embedded Kafka broker and a local Flink, run the job, submit the sample images",
      "and print their answers (one JSON line each); or, with --heldout, ask a demo model's",
      "held-out questions through Kafka and print the accuracy per task type."
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
      names = "--heldout",
      paramLabel = "FILE",
      description =
          "Instead of images: send every question of a demo model's held-out file (export.py"
              + " eval-demo's golden/<model>/heldout.json, e.g."
              + " deploy/model-export/fixtures/golden/demo-vicuna/heldout.json) and print the"
              + " accuracy per task type beside the PyTorch reference's.")
  Path heldOut;

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

  @Spec CommandSpec spec;

  @Override
  public Integer call() throws Exception {
    PrintStream out = new PrintStream(System.out, true, StandardCharsets.UTF_8);
    PrintStream err = System.err;
    if (kafkaPort < 0 || kafkaPort > 65535) {
      err.println(
          "--kafka-port must be between 1 and 65535, or 0 for a free port; got " + kafkaPort);
      return 2;
    }
    if (heldOut != null
        && (spec.commandLine().getParseResult().hasMatchedOption("--images")
            || spec.commandLine().getParseResult().hasMatchedOption("--instruction"))) {
      err.println("--heldout asks the file's own questions: leave out --images and --instruction");
      return 2;
    }
    HeldOutSet questions;
    try {
      questions = heldOut == null ? null : AccuracyReport.read(heldOut);
    } catch (IllegalArgumentException e) {
      err.println(e.getMessage());
      return 2;
    }
    String demoName = demo.family.modelName();
    if (questions != null && !stages.hasModel() && !questions.model().equals(demoName)) {
      err.println(
          "note: "
              + heldOut
              + " holds the answers of "
              + questions.model()
              + ", and this runs the bundled "
              + demoName
              + " (--demo chooses the bundled model)");
    }
    Path model = stages.hasModel() ? null : demo.extract();
    StageSettings stageSettings =
        stages.toSettings(new org.apache.flink.configuration.Configuration(), model);
    List<String> imagePaths = questions == null ? imagePaths() : List.of();
    String asked = questions == null ? "images" : "questions";
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
              .format(WireFormat.AVRO)
              .waitForResponses(true)
              .timeout(org.apache.flink.util.TimeUtils.parseDuration(timeout));
      if (questions == null) {
        submit.instruction(instruction).images(imagePaths).mode(RequestMode.GENERATE);
      } else {
        submit.requests(
            questions.requests().stream().map(r -> StageItems.request(r).build()).toList());
      }
      // the held-out answers are scored, not printed one by one
      PrintStream answers =
          questions == null ? out : new PrintStream(OutputStream.nullOutputStream());
      SubmitResult result = new SubmitClient(submit.build(), answers, err).run();
      if (!result.allAnswered()) {
        err.println(
            "only "
                + result.responses().size()
                + " of "
                + result.sentIds().size()
                + " "
                + asked
                + " were answered within "
                + timeout);
        return 1;
      }
      long failed =
          result.responses().values().stream()
              .filter(r -> r.getStatus() != io.instructblip.schema.avro.ResponseStatus.OK)
              .count();
      if (failed > 0) {
        err.println(
            failed + " of " + result.sentIds().size() + " " + asked + " got an error response");
      } else if (questions != null) {
        List<String> texts =
            result.sentIds().stream().map(id -> result.responses().get(id).getText()).toList();
        AccuracyReport.print(
            new PrintWriter(out),
            (stages.hasModel() ? stageSettings.engine().modelDir() : "the bundled " + demoName)
                + " (through Kafka)",
            questions,
            AccuracyTable.score(questions.questions(), texts));
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
