package io.instructblip.tests;

import java.io.IOException;
import java.net.ServerSocket;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Properties;
import java.util.UUID;
import java.util.concurrent.TimeUnit;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.NewTopic;

/**
 * A real single-node Kafka broker (KRaft, broker and controller in one) in a JVM of its own, from
 * the kafka_2.13 jars on the test classpath: {@code StorageTool format}, then {@code kafka.Kafka}.
 */
final class KafkaBrokerProcess implements AutoCloseable {
  private final Process process;
  private final int port;

  private KafkaBrokerProcess(Process process, int port) {
    this.process = process;
    this.port = port;
  }

  /** Formats a log directory under {@code dir} and starts the broker; returns once it answers. */
  static KafkaBrokerProcess start(Path dir) throws Exception {
    int port = freePort();
    int controllerPort = freePort();
    Files.createDirectories(dir);
    Path config = dir.resolve("server.properties");
    Files.writeString(
        config,
        String.join(
            "\n",
            "process.roles=broker,controller",
            "node.id=1",
            "controller.quorum.voters=1@localhost:" + controllerPort,
            "listeners=PLAINTEXT://localhost:" + port + ",CONTROLLER://localhost:" + controllerPort,
            "advertised.listeners=PLAINTEXT://localhost:" + port,
            "controller.listener.names=CONTROLLER",
            "listener.security.protocol.map=PLAINTEXT:PLAINTEXT,CONTROLLER:PLAINTEXT",
            "log.dirs=" + dir.resolve("data"),
            "offsets.topic.replication.factor=1",
            "offsets.topic.num.partitions=2",
            "transaction.state.log.replication.factor=1",
            "transaction.state.log.min.isr=1",
            "transaction.state.log.num.partitions=2",
            "group.initial.rebalance.delay.ms=0",
            ""));
    Process format =
        java("kafka.tools.StorageTool", "format", "-t", clusterId(), "-c", config.toString())
            .redirectOutput(dir.resolve("format.log").toFile())
            .redirectErrorStream(true)
            .start();
    if (!format.waitFor(60, TimeUnit.SECONDS) || format.exitValue() != 0) {
      throw new IllegalStateException("kafka StorageTool format failed: see " + dir);
    }
    Process broker =
        java("kafka.Kafka", config.toString())
            .redirectOutput(dir.resolve("broker.log").toFile())
            .redirectErrorStream(true)
            .start();
    KafkaBrokerProcess kafka = new KafkaBrokerProcess(broker, port);
    kafka.awaitReady(Duration.ofSeconds(60));
    return kafka;
  }

  private static ProcessBuilder java(String mainClass, String... args) {
    List<String> command = new ArrayList<>();
    command.add(Path.of(System.getProperty("java.home"), "bin", "java").toString());
    command.add("-Xmx384m");
    command.add("-cp");
    command.add(testClasspath());
    command.add(mainClass);
    command.addAll(List.of(args));
    return new ProcessBuilder(command);
  }

  /** The test classpath (surefire runs tests from a manifest-only jar). */
  static String testClasspath() {
    String cp = System.getProperty("surefire.test.class.path");
    return cp != null ? cp : System.getProperty("java.class.path");
  }

  private static String clusterId() {
    // Kafka's random-uuid: a base64url UUID without padding.
    UUID u = UUID.randomUUID();
    java.nio.ByteBuffer b = java.nio.ByteBuffer.allocate(16);
    b.putLong(u.getMostSignificantBits()).putLong(u.getLeastSignificantBits());
    return java.util.Base64.getUrlEncoder().withoutPadding().encodeToString(b.array());
  }

  static int freePort() throws IOException {
    try (ServerSocket s = new ServerSocket(0)) {
      return s.getLocalPort();
    }
  }

  private void awaitReady(Duration timeout) throws Exception {
    long deadline = System.nanoTime() + timeout.toNanos();
    Exception last = null;
    while (System.nanoTime() < deadline) {
      if (!process.isAlive()) {
        throw new IllegalStateException("the Kafka broker exited with " + process.exitValue());
      }
      try (Admin admin = Admin.create(clientProperties())) {
        admin.describeCluster().nodes().get(5, TimeUnit.SECONDS);
        return;
      } catch (Exception e) {
        last = e;
        Thread.sleep(300);
      }
    }
    throw new IllegalStateException("the Kafka broker did not answer in " + timeout, last);
  }

  String bootstrapServers() {
    return "localhost:" + port;
  }

  Properties clientProperties() {
    Properties p = new Properties();
    p.put("bootstrap.servers", bootstrapServers());
    return p;
  }

  /** Creates the topics and waits until each partition has a leader. */
  void createTopics(int partitions, String... topics) throws Exception {
    try (Admin admin = Admin.create(clientProperties())) {
      List<NewTopic> newTopics = new ArrayList<>();
      for (String t : topics) {
        newTopics.add(new NewTopic(t, partitions, (short) 1));
      }
      admin.createTopics(newTopics).all().get(30, TimeUnit.SECONDS);
      long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
      for (String t : topics) {
        while (admin.describeTopics(List.of(t)).allTopicNames().get().get(t).partitions().stream()
            .anyMatch(p -> p.leader() == null || p.leader().isEmpty())) {
          if (System.nanoTime() > deadline) {
            throw new IllegalStateException("topic " + t + " has no leader");
          }
          Thread.sleep(100);
        }
      }
    }
  }

  @Override
  public void close() throws InterruptedException {
    process.destroy();
    if (!process.waitFor(20, TimeUnit.SECONDS)) {
      process.destroyForcibly().waitFor(10, TimeUnit.SECONDS);
    }
  }
}
