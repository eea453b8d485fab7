package io.instructblip.tests;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.TimeUnit;
import java.util.function.BooleanSupplier;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * A Flink 2.2 session cluster as separate JVMs, started with the scripts of {@code
 * deploy/standalone} on Flink's jars from Maven Central ({@code
 * deploy/standalone/target/flink-lib}) plus {@code job/target/cluster/lib}: a JobManager ({@code
 * StandaloneSessionClusterEntrypoint}) and TaskManagers ({@code TaskManagerRunner}) that can be
 * killed and added. Talks to it through its REST API and the {@code flink.sh} command line client.
 */
final class FlinkProcessCluster implements AutoCloseable {
  private static final ObjectMapper JSON = new ObjectMapper();
  private static final Pattern JOB_ID = Pattern.compile("JobID ([0-9a-f]{32})");
  private static final Pattern USED_KB = Pattern.compile("used (\\d+)K");

  private final Path repo;
  private final Path work;
  private final Path conf;
  private final Path logs;
  private final int restPort;
  private final HttpClient http = HttpClient.newHttpClient();
  private final Process jobManager;
  private final Map<String, Process> taskManagers = new LinkedHashMap<>();
  private final Map<String, Integer> prometheusPorts = new LinkedHashMap<>();
  private int nextTaskManager = 1;

  private FlinkProcessCluster(Path repo, Path work, int restPort, Process jobManager) {
    this.repo = repo;
    this.work = work;
    this.conf = work.resolve("conf");
    this.logs = work.resolve("log");
    this.restPort = restPort;
    this.jobManager = jobManager;
  }

  /** The repository root (the tests module's parent). */
  static Path repository() {
    return Path.of("").toAbsolutePath().getParent();
  }

  /** The user jar the build makes for clusters. */
  static Path jobJar() {
    return requireBuilt(repository().resolve("job/target/cluster/instructblip-job.jar"));
  }

  private static Path requireBuilt(Path path) {
    if (!Files.exists(path)) {
      throw new IllegalStateException(
          path
              + " is missing: it is built in the package phase (mvn -B -ntp verify, or"
              + " mvn -pl job,deploy/standalone,tests -am verify -Dtest=ClusterITCase)");
    }
    return path;
  }

  /** Writes a config.yaml under {@code work}, starts the JobManager and waits for its REST API. */
  static FlinkProcessCluster start(Path work, Map<String, String> extraConfig) throws Exception {
    Path repo = repository();
    requireBuilt(repo.resolve("deploy/standalone/target/flink-lib"));
    requireBuilt(repo.resolve("job/target/cluster/lib"));
    Path conf = Files.createDirectories(work.resolve("conf"));
    Files.createDirectories(work.resolve("tmp"));
    for (String f : List.of("log4j.properties", "log4j-cli.properties")) {
      Files.copy(
          repo.resolve("deploy/standalone/conf").resolve(f),
          conf.resolve(f),
          StandardCopyOption.REPLACE_EXISTING);
    }
    int rpcPort = KafkaBrokerProcess.freePort();
    int restPort = KafkaBrokerProcess.freePort();
    Map<String, String> c = new LinkedHashMap<>();
    c.put("jobmanager.rpc.address", "localhost");
    c.put("jobmanager.rpc.port", String.valueOf(rpcPort));
    c.put("jobmanager.bind-host", "localhost");
    c.put("jobmanager.memory.flink.size", "384m");
    c.put("jobmanager.memory.jvm-metaspace.size", "192m");
    c.put("taskmanager.host", "localhost");
    c.put("taskmanager.bind-host", "localhost");
    c.put("taskmanager.numberOfTaskSlots", "2");
    c.put("taskmanager.memory.process.size", "1280m");
    c.put("taskmanager.memory.managed.size", "0m");
    c.put("taskmanager.memory.jvm-metaspace.size", "192m");
    c.put("taskmanager.memory.jvm-overhead.min", "256m");
    c.put("rest.address", "localhost");
    c.put("rest.bind-address", "localhost");
    c.put("rest.port", String.valueOf(restPort));
    c.put("parallelism.default", "2");
    c.put("heartbeat.interval", "1000");
    c.put("heartbeat.timeout", "6000");
    c.put("cluster.registration.initial-timeout", "200 ms");
    c.put("cluster.registration.error-delay", "1 s");
    c.put(
        "metrics.reporter.prom.factory.class",
        "org.apache.flink.metrics.prometheus.PrometheusReporterFactory");
    c.put("execution.checkpointing.dir", work.resolve("checkpoints").toUri().toString());
    c.put("execution.checkpointing.savepoint-dir", work.resolve("savepoints").toUri().toString());
    c.put("web.upload.dir", Files.createDirectories(work.resolve("upload")).toString());
    c.put("io.tmp.dirs", work.resolve("tmp").toString());
    c.putAll(extraConfig);
    StringBuilder yaml = new StringBuilder();
    c.forEach((k, v) -> yaml.append(k).append(": ").append(v).append('\n'));
    Files.writeString(conf.resolve("config.yaml"), yaml);
    Process jm = script(repo, work, "jobmanager.sh", "jobmanager").start();
    FlinkProcessCluster cluster = new FlinkProcessCluster(repo, work, restPort, jm);
    cluster.await(
        "the JobManager's REST API",
        Duration.ofSeconds(90),
        () -> {
          if (!jm.isAlive()) {
            throw new IllegalStateException("the JobManager exited; see " + cluster.logs);
          }
          return cluster.tryGet("/overview") != null;
        });
    return cluster;
  }

  private static ProcessBuilder script(Path repo, Path work, String script, String logName) {
    ProcessBuilder pb =
        new ProcessBuilder("bash", repo.resolve("deploy/standalone/" + script).toString());
    Map<String, String> env = pb.environment();
    env.put("FLINK_CONF_DIR", work.resolve("conf").toString());
    env.put("FLINK_LOG_DIR", work.resolve("log").toString());
    env.put("FLINK_LOG_NAME", logName);
    env.put(
        "FLINK_ENV_JAVA_OPTS",
        "-Djava.io.tmpdir=" + work.resolve("tmp") + " -Djna.tmpdir=" + work.resolve("tmp"));
    env.put("DJL_CACHE_DIR", work.resolve("djl").toString());
    return pb.redirectErrorStream(true)
        .redirectOutput(ProcessBuilder.Redirect.appendTo(work.resolve(logName + ".out").toFile()));
  }

  /**
   * Starts a TaskManager with a known resource id and Prometheus port; waits for it to register.
   */
  String startTaskManager() throws Exception {
    String id = "tm-" + nextTaskManager++;
    int prometheus = KafkaBrokerProcess.freePort();
    Process p =
        script(repo, work, "taskmanager.sh", id)
            .command(
                "bash",
                repo.resolve("deploy/standalone/taskmanager.sh").toString(),
                "-D",
                "taskmanager.resource-id=" + id,
                "-D",
                "metrics.reporter.prom.port=" + prometheus)
            .start();
    taskManagers.put(id, p);
    prometheusPorts.put(id, prometheus);
    await(
        "TaskManager " + id + " to register",
        Duration.ofSeconds(90),
        () -> {
          if (!p.isAlive()) {
            throw new IllegalStateException(id + " exited; see " + logs);
          }
          return taskManagerIds().contains(id);
        });
    return id;
  }

  /** {@code kill -9} of a TaskManager's JVM. */
  void kill(String taskManager) throws InterruptedException {
    Process p = taskManagers.remove(taskManager);
    p.destroyForcibly();
    p.waitFor(30, TimeUnit.SECONDS);
  }

  List<String> taskManagerIds() throws IOException, InterruptedException {
    List<String> ids = new ArrayList<>();
    JsonNode tms = tryGet("/taskmanagers");
    if (tms != null) {
      tms.get("taskmanagers").forEach(t -> ids.add(t.get("id").asText()));
    }
    return ids;
  }

  /** The live TaskManagers that hold slots of a job. */
  List<String> busyTaskManagers() throws IOException, InterruptedException {
    List<String> ids = new ArrayList<>();
    get("/taskmanagers")
        .get("taskmanagers")
        .forEach(
            t -> {
              if (t.get("freeSlots").asInt() < t.get("slotsNumber").asInt()
                  && taskManagers.containsKey(t.get("id").asText())) {
                ids.add(t.get("id").asText());
              }
            });
    return ids;
  }

  long pid(String taskManager) {
    return taskManagers.get(taskManager).pid();
  }

  /** The resident set size of a TaskManager's JVM, from /proc (bytes). */
  private long rss(String taskManager) throws IOException {
    for (String line : Files.readAllLines(Path.of("/proc/" + pid(taskManager) + "/status"))) {
      if (line.startsWith("VmRSS:")) {
        return Long.parseLong(line.replaceAll("[^0-9]", "")) * 1024;
      }
    }
    throw new IOException("no VmRSS for " + taskManager);
  }

  /** A full GC in a TaskManager ({@code jcmd PID GC.run}), so unreachable classloaders unload. */
  void gc(String taskManager) throws Exception {
    jcmd(taskManager, "GC.run");
  }

  /** A TaskManager JVM's heap and metaspace in use (bytes), from {@code jcmd PID GC.heap_info}. */
  JvmMemory jvmMemory(String taskManager) throws Exception {
    long heap = -1;
    long metaspace = -1;
    for (String line : jcmd(taskManager, "GC.heap_info").lines().toList()) {
      Matcher used = USED_KB.matcher(line);
      if (!used.find()) {
        continue;
      }
      long bytes = Long.parseLong(used.group(1)) * 1024;
      if (line.strip().startsWith("Metaspace")) {
        metaspace = bytes;
      } else if (heap < 0 && line.contains("heap")) {
        heap = bytes;
      }
    }
    if (heap < 0 || metaspace < 0) {
      throw new IOException("no heap/metaspace in jcmd GC.heap_info of " + taskManager);
    }
    return new JvmMemory(heap, metaspace, rss(taskManager));
  }

  /** Heap and metaspace in use and the resident set size of a JVM, in bytes. */
  record JvmMemory(long heapUsed, long metaspaceUsed, long rss) {
    @Override
    public String toString() {
      return String.format(
          "heap used %d MB, metaspace %d MB, RSS %d MB",
          heapUsed >> 20, metaspaceUsed >> 20, rss >> 20);
    }
  }

  private String jcmd(String taskManager, String command) throws Exception {
    Process p =
        new ProcessBuilder(
                Path.of(System.getProperty("java.home"), "bin", "jcmd").toString(),
                String.valueOf(pid(taskManager)),
                command)
            .redirectErrorStream(true)
            .start();
    String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
    if (!p.waitFor(60, TimeUnit.SECONDS) || p.exitValue() != 0) {
      throw new IOException("jcmd " + command + " of " + taskManager + " failed: " + out);
    }
    return out;
  }

  /** What the TaskManager's Prometheus reporter serves on /metrics. */
  String scrapePrometheus(String taskManager) throws Exception {
    HttpResponse<String> r =
        http.send(
            HttpRequest.newBuilder(
                    URI.create("http://localhost:" + prometheusPorts.get(taskManager) + "/metrics"))
                .build(),
            HttpResponse.BodyHandlers.ofString());
    return r.body();
  }

  /** Every TaskManager log line (of live and killed ones) containing {@code text}. */
  List<String> taskManagerLogLines(String text) throws IOException {
    List<String> lines = new ArrayList<>();
    try (var files = Files.list(logs)) {
      for (Path f : files.filter(f -> f.getFileName().toString().startsWith("tm-")).toList()) {
        Files.readAllLines(f).stream().filter(l -> l.contains(text)).forEach(lines::add);
      }
    }
    return lines;
  }

  /** {@code flink.sh run -d -D k=v ... instructblip-job.jar args}; returns the job id it prints. */
  String submitWithCli(Map<String, String> dynamicProperties, String... programArgs)
      throws Exception {
    List<String> command = new ArrayList<>();
    command.add("bash");
    command.add(repo.resolve("deploy/standalone/flink.sh").toString());
    command.add("run");
    command.add("-d");
    dynamicProperties.forEach((k, v) -> command.add("-D" + k + "=" + v));
    command.add(jobJar().toString());
    command.addAll(List.of(programArgs));
    ProcessBuilder pb = script(repo, work, "flink.sh", "client").command(command);
    pb.redirectOutput(ProcessBuilder.Redirect.PIPE);
    Process p = pb.start();
    String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
    if (!p.waitFor(120, TimeUnit.SECONDS) || p.exitValue() != 0) {
      throw new IllegalStateException("flink run failed:\n" + out);
    }
    Matcher m = JOB_ID.matcher(out);
    if (!m.find()) {
      throw new IllegalStateException("flink run printed no job id:\n" + out);
    }
    return m.group(1);
  }

  /** {@code POST /jars/upload} of the job jar; returns the jar id. */
  String uploadJar() throws Exception {
    String boundary = "----instructblip" + UUID.randomUUID();
    byte[] jar = Files.readAllBytes(jobJar());
    byte[] head =
        ("--"
                + boundary
                + "\r\nContent-Disposition: form-data; name=\"jarfile\";"
                + " filename=\"instructblip-job.jar\"\r\nContent-Type: application/x-java-archive"
                + "\r\n\r\n")
            .getBytes(StandardCharsets.UTF_8);
    byte[] tail = ("\r\n--" + boundary + "--\r\n").getBytes(StandardCharsets.UTF_8);
    HttpResponse<String> r =
        http.send(
            HttpRequest.newBuilder(uri("/jars/upload"))
                .header("Content-Type", "multipart/form-data; boundary=" + boundary)
                .POST(HttpRequest.BodyPublishers.ofByteArrays(List.of(head, jar, tail)))
                .build(),
            HttpResponse.BodyHandlers.ofString());
    JsonNode body = check(r);
    String file = body.get("filename").asText();
    return Path.of(file).getFileName().toString();
  }

  /**
   * {@code POST /jars/{id}/run}: {@code main} runs in the JobManager. Settings go in as the run's
   * {@code flinkConfiguration}; returns the job id.
   */
  String submitWithRest(
      String jarId, Map<String, String> flinkConfiguration, String savepoint, String... args)
      throws Exception {
    Map<String, Object> body = new LinkedHashMap<>();
    body.put("programArgsList", List.of(args));
    body.put("flinkConfiguration", flinkConfiguration);
    if (savepoint != null) {
      body.put("savepointPath", savepoint);
    }
    return post("/jars/" + jarId + "/run", body).get("jobid").asText();
  }

  String jobState(String jobId) throws Exception {
    return get("/jobs/" + jobId).get("state").asText();
  }

  /** Waits until the job and all its tasks run. */
  void awaitRunning(String jobId, Duration timeout) throws Exception {
    await(
        "job " + jobId + " to run all its tasks",
        timeout,
        () -> {
          JsonNode job = tryGet("/jobs/" + jobId);
          if (job == null) {
            return false;
          }
          String state = job.get("state").asText();
          if (state.equals("FAILED") || state.equals("CANCELED") || state.equals("FINISHED")) {
            throw new IllegalStateException("job " + jobId + " is " + state);
          }
          if (!state.equals("RUNNING")) {
            return false;
          }
          for (JsonNode v : job.get("vertices")) {
            if (!v.get("status").asText().equals("RUNNING")) {
              return false;
            }
          }
          return true;
        });
  }

  /** The trigger time of the job's latest completed checkpoint, or -1. */
  long latestCheckpointTriggerTime(String jobId) throws Exception {
    JsonNode cp = tryGet("/jobs/" + jobId + "/checkpoints");
    if (cp == null) {
      return -1;
    }
    JsonNode completed = cp.path("latest").path("completed");
    return completed.isMissingNode() || completed.isNull()
        ? -1
        : completed.get("trigger_timestamp").asLong();
  }

  void cancel(String jobId) throws Exception {
    HttpResponse<String> r =
        http.send(
            HttpRequest.newBuilder(uri("/jobs/" + jobId + "?mode=cancel"))
                .method("PATCH", HttpRequest.BodyPublishers.noBody())
                .build(),
            HttpResponse.BodyHandlers.ofString());
    if (r.statusCode() / 100 != 2) {
      throw new IllegalStateException("cancel " + jobId + ": " + r.body());
    }
    awaitState(jobId, "CANCELED", Duration.ofSeconds(60));
  }

  /** Stop-with-savepoint (no drain); returns the savepoint's location. */
  String stopWithSavepoint(String jobId) throws Exception {
    String trigger =
        post(
                "/jobs/" + jobId + "/stop",
                Map.of(
                    "drain",
                    false,
                    "targetDirectory",
                    work.resolve("savepoints").toUri().toString()))
            .get("request-id")
            .asText();
    String[] location = new String[1];
    await(
        "the savepoint of " + jobId,
        Duration.ofSeconds(90),
        () -> {
          JsonNode s = get("/jobs/" + jobId + "/savepoints/" + trigger);
          if (!s.get("status").get("id").asText().equals("COMPLETED")) {
            return false;
          }
          JsonNode op = s.get("operation");
          if (op.has("failure-cause")) {
            throw new IllegalStateException("savepoint failed: " + op.get("failure-cause"));
          }
          location[0] = op.get("location").asText();
          return true;
        });
    awaitState(jobId, "FINISHED", Duration.ofSeconds(60));
    return location[0];
  }

  void awaitState(String jobId, String state, Duration timeout) throws Exception {
    await("job " + jobId + " to be " + state, timeout, () -> jobState(jobId).equals(state));
  }

  /** A condition that may throw (to fail at once) or return false (to poll again). */
  interface Condition {
    boolean test() throws Exception;
  }

  void await(String what, Duration timeout, Condition condition) throws Exception {
    long deadline = System.nanoTime() + timeout.toNanos();
    while (!condition.test()) {
      if (System.nanoTime() > deadline) {
        throw new IllegalStateException("timed out after " + timeout + " waiting for " + what);
      }
      Thread.sleep(200);
    }
  }

  static void awaitTrue(String what, Duration timeout, BooleanSupplier condition)
      throws InterruptedException {
    long deadline = System.nanoTime() + timeout.toNanos();
    while (!condition.getAsBoolean()) {
      if (System.nanoTime() > deadline) {
        throw new IllegalStateException("timed out after " + timeout + " waiting for " + what);
      }
      Thread.sleep(100);
    }
  }

  private URI uri(String path) {
    return URI.create("http://localhost:" + restPort + path);
  }

  JsonNode get(String path) throws IOException, InterruptedException {
    return check(
        http.send(HttpRequest.newBuilder(uri(path)).build(), HttpResponse.BodyHandlers.ofString()));
  }

  private JsonNode tryGet(String path) throws InterruptedException {
    try {
      HttpResponse<String> r =
          http.send(
              HttpRequest.newBuilder(uri(path)).timeout(Duration.ofSeconds(10)).build(),
              HttpResponse.BodyHandlers.ofString());
      return r.statusCode() == 200 ? JSON.readTree(r.body()) : null;
    } catch (IOException e) {
      return null;
    }
  }

  private JsonNode post(String path, Object body) throws IOException, InterruptedException {
    return check(
        http.send(
            HttpRequest.newBuilder(uri(path))
                .header("Content-Type", "application/json")
                .POST(HttpRequest.BodyPublishers.ofString(JSON.writeValueAsString(body)))
                .build(),
            HttpResponse.BodyHandlers.ofString()));
  }

  private static JsonNode check(HttpResponse<String> r) throws IOException {
    if (r.statusCode() / 100 != 2) {
      throw new IOException(r.request().uri() + " answered " + r.statusCode() + ": " + r.body());
    }
    return JSON.readTree(r.body());
  }

  @Override
  public void close() throws InterruptedException {
    for (Process p : taskManagers.values()) {
      p.destroy();
    }
    jobManager.destroy();
    for (Process p : taskManagers.values()) {
      if (!p.waitFor(15, TimeUnit.SECONDS)) {
        p.destroyForcibly();
      }
    }
    if (!jobManager.waitFor(15, TimeUnit.SECONDS)) {
      jobManager.destroyForcibly();
    }
  }
}
