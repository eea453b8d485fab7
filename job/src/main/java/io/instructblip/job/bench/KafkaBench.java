package io.instructblip.job.bench;

import io.instructblip.job.kafka.KafkaSettings;
import io.instructblip.job.local.LocalCluster;
import io.instructblip.job.submit.SubmitClient;
import io.instructblip.job.submit.SubmitOptions;
import io.instructblip.job.wiring.StageSettings;
import io.instructblip.schema.WireFormat;
import io.instructblip.schema.avro.RequestMode;
import java.io.OutputStream;
import java.io.PrintStream;
import java.io.PrintWriter;
import java.time.Duration;
import java.util.Arrays;
import java.util.Collections;
import java.util.Locale;

/**
 * The whole product through Kafka on this machine: an embedded broker and the job on a local Flink
 * (exactly once, answers committed per checkpoint), driven by the {@code submit} client. Measures
 * requests/s for a burst of requests, and the latency of one request when the job is idle (which
 * includes waiting for the checkpoint that commits the answer).
 */
public final class KafkaBench {
  private final StageSettings stages;
  private final String image;
  private final int requests;
  private final int repeats;
  private final Duration checkpointInterval;
  private final PrintWriter out;

  public KafkaBench(
      StageSettings stages,
      String image,
      int requests,
      int repeats,
      Duration checkpointInterval,
      PrintWriter out) {
    this.stages = stages;
    this.image = image;
    this.requests = requests;
    this.repeats = repeats;
    this.checkpointInterval = checkpointInterval;
    this.out = out;
  }

  /** Runs the measurements and prints them. */
  public void run() throws Exception {
    try (LocalCluster cluster = LocalCluster.start(stages, checkpointInterval, 0)) {
      submit(cluster.settings(), 4); // warm-up: model sessions, JIT, transactions
      double[] burst = new double[repeats];
      for (int r = 0; r < repeats; r++) {
        burst[r] = submit(cluster.settings(), requests);
      }
      double[] single = new double[Math.max(5, repeats)];
      for (int r = 0; r < single.length; r++) {
        single[r] = submit(cluster.settings(), 1);
      }
      Arrays.sort(burst);
      Arrays.sort(single);
      out.printf(
          Locale.ROOT,
          "through Kafka (exactly once, checkpoint every %d ms), %d cores:%n",
          checkpointInterval.toMillis(),
          Runtime.getRuntime().availableProcessors());
      out.printf(
          Locale.ROOT,
          "burst of %d requests: median %.2f s -> %.1f requests/s (runs: %s)%n",
          requests,
          median(burst),
          requests / median(burst),
          Arrays.toString(burst));
      out.printf(
          Locale.ROOT,
          "one request, idle job: median %.0f ms (min %.0f, max %.0f, %d runs)%n",
          1000 * median(single),
          1000 * single[0],
          1000 * single[single.length - 1],
          single.length);
      out.flush();
    }
  }

  /** Sends {@code count} requests and waits for every answer; returns the seconds it took. */
  private double submit(KafkaSettings settings, int count) throws Exception {
    SubmitOptions options =
        SubmitOptions.builder()
            .bootstrapServers(settings.bootstrapServers())
            .requestTopic(settings.requestTopic())
            .responseTopic(settings.responseTopic())
            .instruction("What is in the image?")
            .images(Collections.nCopies(count, image))
            .mode(RequestMode.GENERATE)
            .format(WireFormat.AVRO)
            .waitForResponses(true)
            .timeout(Duration.ofMinutes(10))
            .build();
    PrintStream discard = new PrintStream(OutputStream.nullOutputStream());
    long start = System.nanoTime();
    if (!new SubmitClient(options, discard, discard).run().allAnswered()) {
      throw new IllegalStateException("not every request was answered");
    }
    return (System.nanoTime() - start) / 1e9;
  }

  private static double median(double[] sorted) {
    int n = sorted.length;
    return n % 2 == 1 ? sorted[n / 2] : (sorted[n / 2 - 1] + sorted[n / 2]) / 2;
  }
}
