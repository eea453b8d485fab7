package io.instructblip.job.local;

import io.instructblip.job.kafka.EmbeddedKafka;
import io.instructblip.job.kafka.KafkaSettings;
import io.instructblip.job.kafka.StartingOffsets;
import io.instructblip.job.wiring.InstructBlipJob;
import io.instructblip.job.wiring.StageSettings;
import java.time.Duration;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.ExecutionException;
import org.apache.flink.core.execution.JobClient;
import org.apache.flink.streaming.api.environment.StreamExecutionEnvironment;

/**
 * Everything in this JVM: an embedded Kafka broker (KRaft) with the job's three topics and the job
 * running on a local Flink. Used by {@code local} and by {@code bench --suite kafka}. Closing it
 * cancels the job and stops the broker.
 */
public final class LocalCluster implements AutoCloseable {
  private final EmbeddedKafka kafka;
  private final KafkaSettings settings;
  private final JobClient job;

  private LocalCluster(EmbeddedKafka kafka, KafkaSettings settings, JobClient job) {
    this.kafka = kafka;
    this.settings = settings;
    this.job = job;
  }

  /**
   * Starts the broker, creates the topics and submits the job (parallelism 1).
   *
   * @param checkpointInterval answers are committed, so visible to read_committed consumers, once
   *     per checkpoint
   * @param kafkaPort the port clients bootstrap through, or 0 for a free one
   */
  public static LocalCluster start(StageSettings stages, Duration checkpointInterval, int kafkaPort)
      throws Exception {
    EmbeddedKafka kafka = EmbeddedKafka.start(kafkaPort);
    try {
      KafkaSettings settings =
          KafkaSettings.builder()
              .bootstrapServers(kafka.bootstrapServers())
              .groupId("instructblip-local")
              .startingOffsets(StartingOffsets.EARLIEST)
              .transactionalIdPrefix("instructblip-local-" + UUID.randomUUID())
              .build();
      kafka.createTopics(
          1, settings.requestTopic(), settings.responseTopic(), settings.deadLetterTopic());
      StreamExecutionEnvironment env = StreamExecutionEnvironment.getExecutionEnvironment();
      env.setParallelism(1);
      env.enableCheckpointing(checkpointInterval.toMillis());
      new InstructBlipJob(settings, stages, Map.of()).addTo(env);
      return new LocalCluster(kafka, settings, env.executeAsync("instructblip-local"));
    } catch (Exception | Error e) {
      kafka.close();
      throw e;
    }
  }

  /** The Kafka settings the job runs with (bootstrap servers, topics). */
  public KafkaSettings settings() {
    return settings;
  }

  /** The embedded broker (its client properties, topics). */
  public EmbeddedKafka kafka() {
    return kafka;
  }

  /** The running job. */
  public JobClient job() {
    return job;
  }

  @Override
  public void close() throws ExecutionException {
    try {
      job.cancel().get();
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    } finally {
      kafka.close();
    }
  }
}
