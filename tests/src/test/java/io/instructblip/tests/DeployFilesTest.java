package io.instructblip.tests;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.dataformat.yaml.YAMLMapper;
import io.instructblip.job.config.InstructBlipOptions;
import io.instructblip.job.kafka.KafkaSettings;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;

/**
 * The deploy files, checked without Docker or Kubernetes (neither runs here): the FlinkDeployment
 * uses only the operator's CRD fields named below and only settings the job knows, the Dockerfile
 * copies what the build makes to where the FlinkDeployment and compose file expect it, and the
 * compose file creates the topics the job reads and writes.
 */
class DeployFilesTest {
  private static final Path REPO = FlinkProcessCluster.repository();
  private static final YAMLMapper YAML = new YAMLMapper();
  private static final String USER_JAR = "/opt/flink/usrlib/instructblip-job.jar";

  /** The FlinkDeployment (flink.apache.org/v1beta1) spec fields this project relies on. */
  private static final Map<String, Set<String>> CRD_FIELDS =
      Map.of(
          "spec",
          Set.of(
              "image",
              "imagePullPolicy",
              "flinkVersion",
              "serviceAccount",
              "flinkConfiguration",
              "podTemplate",
              "jobManager",
              "taskManager",
              "job"),
          "spec.jobManager",
          Set.of("replicas", "resource", "podTemplate"),
          "spec.taskManager",
          Set.of("replicas", "resource", "podTemplate"),
          "spec.jobManager.resource",
          Set.of("memory", "cpu"),
          "spec.taskManager.resource",
          Set.of("memory", "cpu"),
          "spec.job",
          Set.of("jarURI", "entryClass", "args", "parallelism", "upgradeMode", "state"));

  @Test
  void flinkDeploymentUsesTheCrdFieldsAndSettingsTheJobKnows() throws IOException {
    JsonNode d = YAML.readTree(REPO.resolve("deploy/k8s/flinkdeployment.yaml").toFile());
    assertEquals("flink.apache.org/v1beta1", d.get("apiVersion").asText());
    assertEquals("FlinkDeployment", d.get("kind").asText());
    CRD_FIELDS.forEach(
        (path, allowed) -> {
          JsonNode node = d;
          for (String part : path.split("\\.")) {
            node = node.path(part);
          }
          for (Iterator<String> it = node.fieldNames(); it.hasNext(); ) {
            String field = it.next();
            assertTrue(allowed.contains(field), path + "." + field + " is no field relied on");
          }
        });
    JsonNode spec = d.get("spec");
    assertTrue(
        Set.of("savepoint", "last-state", "stateless")
            .contains(spec.at("/job/upgradeMode").asText()));
    assertEquals("local://" + USER_JAR, spec.at("/job/jarURI").asText());
    assertEquals("io.instructblip.job.Main", spec.at("/job/entryClass").asText());
    assertEquals("run", spec.at("/job/args/0").asText());
    assertEquals(
        1,
        spec.at("/taskManager/podTemplate/spec/containers/0/resources/limits")
            .get("nvidia.com/gpu")
            .asInt(),
        "one GPU per TaskManager");
    JsonNode conf = spec.get("flinkConfiguration");
    for (Iterator<Map.Entry<String, JsonNode>> it = conf.fields(); it.hasNext(); ) {
      Map.Entry<String, JsonNode> e = it.next();
      assertTrue(e.getValue().isTextual(), e.getKey() + ": flinkConfiguration values are strings");
      if (e.getKey().startsWith("instructblip.")) {
        assertTrue(
            InstructBlipOptions.isKnown(e.getKey()), e.getKey() + " is no setting of the job");
      }
    }
    assertEquals(
        "org.apache.flink.metrics.prometheus.PrometheusReporterFactory",
        conf.get("metrics.reporter.prom.factory.class").asText());
    assertTrue(conf.get("execution.checkpointing.dir").asText().startsWith("s3://"));
    assertTrue(
        conf.get("instructblip.kafka.property.sasl.jaas.config").asText().contains("${secrets:"),
        "Kafka credentials come from the mounted Secret through a config provider");
  }

  @Test
  void dockerfileCopiesTheBuildOutputsWhereTheDeploymentsLookForThem() throws IOException {
    List<String> lines = Files.readAllLines(REPO.resolve("deploy/docker/Dockerfile"));
    assertTrue(lines.stream().anyMatch(l -> l.matches("FROM flink:2\\.2[.0-9]*-java17")));
    Pattern copy = Pattern.compile("^COPY\\s+(\\S+)\\s+(\\S+)$");
    List<String> destinations = new ArrayList<>();
    for (String line : lines) {
      Matcher m = copy.matcher(line.strip());
      if (m.matches()) {
        assertTrue(
            Files.exists(REPO.resolve(m.group(1))),
            m.group(1) + " (a COPY source) is not what the build makes");
        destinations.add(m.group(1) + " -> " + m.group(2));
      }
    }
    assertEquals(
        List.of(
            "job/target/cluster/lib/ -> /opt/flink/lib/",
            "job/target/cluster/instructblip-job.jar -> " + USER_JAR),
        destinations);
    assertTrue(
        lines.stream().anyMatch(l -> l.contains("libcudnn9-cuda-12")), "cuDNN 9 for CUDA 12");
  }

  @Test
  void composeCreatesTheJobsTopicsAndSubmitsDetachedWithKnownKeys() throws IOException {
    JsonNode c = YAML.readTree(REPO.resolve("deploy/compose/docker-compose.yaml").toFile());
    JsonNode services = c.get("services");
    for (String s : List.of("kafka", "create-topics", "jobmanager", "taskmanager", "submit")) {
      assertTrue(services.has(s), "service " + s);
    }
    String createTopics = services.at("/create-topics/command/0").asText();
    for (String topic :
        List.of(
            KafkaSettings.DEFAULT_REQUEST_TOPIC,
            KafkaSettings.DEFAULT_RESPONSE_TOPIC,
            KafkaSettings.DEFAULT_DEAD_LETTER_TOPIC)) {
      assertTrue(createTopics.contains(topic), "creates " + topic);
    }
    List<String> submit = new ArrayList<>();
    services.at("/submit/command").forEach(a -> submit.add(a.asText()));
    assertEquals(List.of("flink", "run", "-d"), submit.subList(0, 3));
    assertEquals(List.of(USER_JAR, "run"), submit.subList(submit.size() - 2, submit.size()));
    for (String arg : submit) {
      if (arg.startsWith("-Dinstructblip.")) {
        String key = arg.substring(2, arg.indexOf('='));
        assertTrue(InstructBlipOptions.isKnown(key), key + " is no setting of the job");
      }
    }
  }

  @Test
  void grafanaDashboardQueriesTheStageMetrics() throws IOException {
    JsonNode d =
        new ObjectMapper()
            .readTree(REPO.resolve("deploy/grafana/instructblip-dashboard.json").toFile());
    Pattern metric = Pattern.compile("flink_taskmanager_job_task_operator_(\\w+)");
    Set<String> stageMetrics =
        Set.of(
            "batchSize",
            "queueDepth",
            "inFlight",
            "latencyMs",
            "generatedTokensPerSecond",
            "resultsOk",
            "resultsError",
            "resultsTimeout",
            "KafkaSourceReader_KafkaConsumer_records_lag_max");
    int queries = 0;
    for (JsonNode panel : d.get("panels")) {
      for (JsonNode target : panel.get("targets")) {
        Matcher m = metric.matcher(target.get("expr").asText());
        while (m.find()) {
          assertTrue(stageMetrics.contains(m.group(1)), m.group(1) + " is no metric of the job");
          queries++;
        }
      }
    }
    assertTrue(queries >= 8, "the dashboard shows the stage metrics");
  }
}
