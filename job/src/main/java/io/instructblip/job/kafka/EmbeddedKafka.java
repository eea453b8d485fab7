package io.instructblip.job.kafka;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Collection;
import java.util.Comparator;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Properties;
import java.util.Set;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.stream.Collectors;
import java.util.stream.Stream;
import kafka.server.BrokerServer;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.AdminClientConfig;
import org.apache.kafka.clients.admin.NewTopic;
import org.apache.kafka.clients.admin.TopicDescription;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.TopicPartitionInfo;
import org.apache.kafka.common.errors.TopicExistsException;
import org.apache.kafka.common.test.KafkaClusterTestKit;
import org.apache.kafka.common.test.TestKitNodes;
import org.apache.kafka.metadata.bootstrap.BootstrapMetadata;
import org.apache.kafka.server.common.Feature;
import org.apache.kafka.server.common.MetadataVersion;

/**
 * A single-node Kafka broker in KRaft mode (combined controller and broker) running inside this
 * JVM, for the {@code local} command and integration tests. Not for production: one replica, no
 * security, data under a temporary folder that {@link #close()} removes.
 *
 * <pre>{@code
 * try (EmbeddedKafka kafka = EmbeddedKafka.start()) {
 *   kafka.createTopics(3, "instructblip-requests", "instructblip-responses");
 *   String bootstrap = kafka.bootstrapServers();
 * }
 * }</pre>
 *
 * <p>The broker is the {@code kafka-test-common-runtime} test kit, whose version must equal the
 * {@code kafka-clients} version on the classpath. It is started with the latest <em>production</em>
 * metadata version and features, replication factor 1 for the internal topics and a transaction
 * state log min ISR of 1, so that transactional (exactly-once) producers work on one node.
 */
public final class EmbeddedKafka implements AutoCloseable {
  private static final Duration TOPIC_READY_TIMEOUT = Duration.ofSeconds(30);

  private final KafkaClusterTestKit cluster;
  private final Path baseDir;
  private BootstrapRelay relay;

  private EmbeddedKafka(KafkaClusterTestKit cluster, Path baseDir) {
    this.cluster = cluster;
    this.baseDir = baseDir;
  }

  /**
   * Starts a broker as {@link #start()} does, whose clients bootstrap through {@code
   * localhost:bootstrapPort} (0: the broker's own free port). The broker itself still listens on a
   * free port, which the metadata it returns names: clients must run on this machine.
   */
  public static EmbeddedKafka start(int bootstrapPort) {
    if (bootstrapPort < 0 || bootstrapPort > 65535) {
      throw new IllegalArgumentException(
          "Kafka port must be between 1 and 65535, or 0 for a free one; got " + bootstrapPort);
    }
    EmbeddedKafka kafka = start();
    if (bootstrapPort > 0) {
      String own = kafka.cluster.bootstrapServers().split(",")[0];
      int ownPort = Integer.parseInt(own.substring(own.lastIndexOf(':') + 1));
      try {
        kafka.relay = BootstrapRelay.start(bootstrapPort, ownPort);
      } catch (RuntimeException e) {
        kafka.close();
        throw e;
      }
    }
    return kafka;
  }

  /**
   * Starts a broker on a free port of localhost with its data under a new folder in {@code
   * java.io.tmpdir}; {@link #bootstrapServers()} says where.
   */
  public static EmbeddedKafka start() {
    Path baseDir;
    try {
      baseDir = Files.createTempDirectory("instructblip-kafka-");
    } catch (IOException e) {
      throw new UncheckedIOException(
          "cannot create a folder for the embedded Kafka broker under java.io.tmpdir ("
              + System.getProperty("java.io.tmpdir")
              + "); point -Djava.io.tmpdir at a writable folder",
          e);
    }
    KafkaClusterTestKit cluster = null;
    try {
      TestKitNodes.Builder nodes =
          new TestKitNodes.Builder(productionBootstrapMetadata())
              .setCombined(true)
              .setNumBrokerNodes(1)
              .setNumControllerNodes(1)
              .setBaseDirectory(baseDir);
      KafkaClusterTestKit.Builder builder =
          new KafkaClusterTestKit.Builder(nodes.build())
              .setConfigProp("offsets.topic.replication.factor", "1")
              .setConfigProp("offsets.topic.num.partitions", "1")
              .setConfigProp("transaction.state.log.replication.factor", "1")
              .setConfigProp("transaction.state.log.min.isr", "1")
              .setConfigProp("transaction.state.log.num.partitions", "1")
              .setConfigProp("group.initial.rebalance.delay.ms", "0")
              .setConfigProp("auto.create.topics.enable", "false")
              .setDeleteOnClose(true);
      cluster = builder.build();
      // The kit's formatter prints its progress on stdout, which the commands keep for answers;
      // a failure still surfaces as the exception format() throws.
      java.io.PrintStream stdout = System.out;
      System.setOut(new java.io.PrintStream(java.io.OutputStream.nullOutputStream()));
      try {
        cluster.format();
      } finally {
        System.setOut(stdout);
      }
      cluster.startup();
      cluster.waitForReadyBrokers();
      EmbeddedKafka kafka = new EmbeddedKafka(cluster, baseDir);
      kafka.awaitGroupCoordinator();
      return kafka;
    } catch (Exception e) {
      if (cluster != null) {
        try {
          cluster.close();
        } catch (Exception suppressed) {
          e.addSuppressed(suppressed);
        }
      }
      deleteRecursively(baseDir);
      if (e instanceof InterruptedException) {
        Thread.currentThread().interrupt();
      }
      throw new IllegalStateException("the embedded Kafka broker did not start: " + e, e);
    }
  }

  private static BootstrapMetadata productionBootstrapMetadata() {
    Map<String, Short> features =
        Feature.PRODUCTION_FEATURES.stream()
            .collect(Collectors.toMap(Feature::featureName, Feature::latestProduction));
    return BootstrapMetadata.fromVersions(
        MetadataVersion.latestProduction(), features, "instructblip-embedded-kafka");
  }

  /**
   * The {@code bootstrap.servers} value for clients of this broker, e.g. {@code localhost:41234}.
   */
  public String bootstrapServers() {
    return relay != null ? "localhost:" + relay.port() : cluster.bootstrapServers();
  }

  /** The folder that holds the broker's logs and metadata; removed by {@link #close()}. */
  public Path dataDirectory() {
    return baseDir;
  }

  /**
   * Creates the topics (an existing topic is left as it is) with {@code partitions} partitions each
   * and waits until every partition has a leader on the broker, so that producers can write to them
   * at once without losing records.
   */
  public void createTopics(int partitions, String... topics) {
    createTopics(partitions, List.of(topics));
  }

  /** Like {@link #createTopics(int, String...)}. */
  public void createTopics(int partitions, Collection<String> topics) {
    if (partitions < 1) {
      throw new IllegalArgumentException("a topic needs at least 1 partition, got " + partitions);
    }
    List<NewTopic> newTopics =
        topics.stream()
            .map(t -> new NewTopic(Objects.requireNonNull(t, "topic"), partitions, (short) 1))
            .collect(Collectors.toList());
    try (Admin admin = Admin.create(adminProperties())) {
      for (var entry : admin.createTopics(newTopics).values().entrySet()) {
        try {
          entry.getValue().get(TOPIC_READY_TIMEOUT.toMillis(), TimeUnit.MILLISECONDS);
        } catch (ExecutionException e) {
          if (!(e.getCause() instanceof TopicExistsException)) {
            throw new IllegalStateException(
                "cannot create topic " + entry.getKey() + ": " + e.getCause(), e.getCause());
          }
        }
      }
      waitUntilOnline(admin, Set.copyOf(topics));
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new IllegalStateException("interrupted while creating topics " + topics, e);
    } catch (TimeoutException e) {
      throw new IllegalStateException(
          "topics " + topics + " were not created within " + TOPIC_READY_TIMEOUT, e);
    }
  }

  /**
   * Waits until consumer groups can commit offsets. The first group request creates the offsets
   * topic and its coordinator then loads it; until then commits fail with retriable errors, which
   * the job's Kafka source would log at every early checkpoint.
   */
  private void awaitGroupCoordinator() throws InterruptedException, TimeoutException {
    long deadline = System.nanoTime() + TOPIC_READY_TIMEOUT.toNanos();
    try (Admin admin = Admin.create(adminProperties())) {
      while (true) {
        try {
          admin
              .listConsumerGroupOffsets("instructblip-embedded-kafka-warm-up")
              .partitionsToOffsetAndMetadata()
              .get(TOPIC_READY_TIMEOUT.toMillis(), TimeUnit.MILLISECONDS);
          return;
        } catch (ExecutionException e) {
          if (System.nanoTime() > deadline) {
            throw new TimeoutException("no consumer group coordinator: " + e.getCause());
          }
          Thread.sleep(50);
        }
      }
    }
  }

  private void waitUntilOnline(Admin admin, Set<String> topics)
      throws InterruptedException, TimeoutException {
    long deadline = System.nanoTime() + TOPIC_READY_TIMEOUT.toNanos();
    while (true) {
      if (allPartitionsOnline(admin, topics)) {
        return;
      }
      if (System.nanoTime() > deadline) {
        throw new TimeoutException("partitions of " + topics + " have no leader yet");
      }
      Thread.sleep(20);
    }
  }

  private boolean allPartitionsOnline(Admin admin, Set<String> topics) throws InterruptedException {
    Map<String, TopicDescription> descriptions;
    try {
      descriptions = admin.describeTopics(topics).allTopicNames().get();
    } catch (ExecutionException e) {
      return false; // metadata not propagated yet
    }
    Map<TopicPartition, Boolean> expected = new HashMap<>();
    for (TopicDescription description : descriptions.values()) {
      for (TopicPartitionInfo partition : description.partitions()) {
        if (partition.leader() == null || partition.leader().isEmpty()) {
          return false;
        }
        expected.put(new TopicPartition(description.name(), partition.partition()), true);
      }
    }
    // The controller knows the leader before the broker has loaded the partition: check the broker.
    for (BrokerServer broker : cluster.brokers().values()) {
      for (TopicPartition tp : expected.keySet()) {
        if (broker.replicaManager().onlinePartition(tp).isEmpty()) {
          return false;
        }
      }
    }
    return true;
  }

  /** Client properties (only {@code bootstrap.servers}) for an admin, producer or consumer. */
  public Properties clientProperties() {
    return adminProperties();
  }

  private Properties adminProperties() {
    Properties props = new Properties();
    props.put(AdminClientConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrapServers());
    return props;
  }

  /** Stops the broker and deletes its data folder. */
  @Override
  public void close() {
    if (relay != null) {
      relay.close();
    }
    try {
      cluster.close();
    } catch (Exception e) {
      throw new IllegalStateException("the embedded Kafka broker did not stop cleanly: " + e, e);
    } finally {
      deleteRecursively(baseDir);
    }
  }

  private static void deleteRecursively(Path dir) {
    if (!Files.exists(dir)) {
      return;
    }
    try (Stream<Path> paths = Files.walk(dir)) {
      paths
          .sorted(Comparator.reverseOrder())
          .forEach(
              p -> {
                try {
                  Files.deleteIfExists(p);
                } catch (IOException ignored) {
                  // best effort: a leftover file under tmpdir is harmless
                }
              });
    } catch (IOException ignored) {
      // best effort
    }
  }
}
