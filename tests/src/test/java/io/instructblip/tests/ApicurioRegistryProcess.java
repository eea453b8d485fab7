package io.instructblip.tests;

import java.io.IOException;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.TimeUnit;

/**
 * A real Schema Registry in a child JVM: Apicurio Registry's runnable app (unpacked by the tests
 * module's build into {@code target/apicurio-registry}) with its default in-memory storage, on a
 * free loopback port. It serves Apicurio's own API ({@link #coreApiUrl()}) and the
 * Confluent-compatible one ({@link #confluentApiUrl()}).
 */
final class ApicurioRegistryProcess implements AutoCloseable {
  private final Process process;
  private final int port;

  private ApicurioRegistryProcess(Process process, int port) {
    this.process = process;
    this.port = port;
  }

  /** Starts the registry and waits until its Confluent-compatible API answers. */
  static ApicurioRegistryProcess start(Path logDir) throws IOException, InterruptedException {
    Path runner = Path.of(System.getProperty("apicurio.registry.runner", "missing"));
    if (!Files.isRegularFile(runner)) {
      throw new IllegalStateException(
          "Apicurio Registry's runner jar is not at "
              + runner
              + "; the tests module's build unpacks it (mvn -pl tests test)");
    }
    int port;
    try (ServerSocket socket = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
      port = socket.getLocalPort();
    }
    Files.createDirectories(logDir);
    Process process =
        new ProcessBuilder(
                List.of(
                    Path.of(System.getProperty("java.home"), "bin", "java").toString(),
                    "-Xmx256m",
                    "-Djava.io.tmpdir=" + logDir,
                    "-Dquarkus.http.host=127.0.0.1",
                    "-Dquarkus.http.port=" + port,
                    "-Dquarkus.management.enabled=false",
                    "-jar",
                    runner.toString()))
            .redirectOutput(logDir.resolve("registry.log").toFile())
            .redirectErrorStream(true)
            .start();
    ApicurioRegistryProcess registry = new ApicurioRegistryProcess(process, port);
    try {
      registry.awaitReady(Duration.ofSeconds(90));
    } catch (IOException | InterruptedException | RuntimeException e) {
      registry.close();
      throw e;
    }
    return registry;
  }

  private void awaitReady(Duration timeout) throws IOException, InterruptedException {
    HttpClient http = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(1)).build();
    long deadline = System.nanoTime() + timeout.toNanos();
    while (System.nanoTime() < deadline) {
      if (!process.isAlive()) {
        throw new IllegalStateException(
            "Apicurio Registry exited with " + process.exitValue() + "; see its registry.log");
      }
      try {
        HttpResponse<Void> response =
            http.send(
                HttpRequest.newBuilder(URI.create(confluentApiUrl() + "/subjects")).build(),
                HttpResponse.BodyHandlers.discarding());
        if (response.statusCode() == 200) {
          return;
        }
      } catch (IOException e) {
        // not listening yet
      }
      Thread.sleep(200);
    }
    throw new IllegalStateException("Apicurio Registry did not answer within " + timeout);
  }

  /** Base URL of the Confluent-compatible API, what the job is configured with. */
  String confluentApiUrl() {
    return "http://127.0.0.1:" + port + "/apis/ccompat/v7";
  }

  /** Base URL of Apicurio's own v2 API, what Apicurio's 2.x serializers talk to. */
  String coreApiUrl() {
    return "http://127.0.0.1:" + port + "/apis/registry/v2";
  }

  @Override
  public void close() throws InterruptedException {
    process.destroy();
    if (!process.waitFor(20, TimeUnit.SECONDS)) {
      process.destroyForcibly();
      process.waitFor(10, TimeUnit.SECONDS);
    }
  }
}
