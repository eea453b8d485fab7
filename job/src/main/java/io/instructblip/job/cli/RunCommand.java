package io.instructblip.job.cli;

import io.instructblip.job.config.LimitsConfigOptions;
import io.instructblip.job.fetch.FetchSettings;
import io.instructblip.job.fetch.UriPolicy;
import io.instructblip.job.registry.RegistrySettings;
import io.instructblip.job.wiring.InstructBlipJob;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.concurrent.Callable;
import org.apache.flink.configuration.Configuration;
import org.apache.flink.streaming.api.environment.StreamExecutionEnvironment;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

/**
 * {@code run}: the streaming job, Kafka to Kafka. Under {@code flink run job.jar run ...} it is
 * submitted to the cluster; under {@code java -jar} it runs on a local Flink in this JVM.
 */
@Command(
    name = "run",
    mixinStandardHelpOptions = true,
    description = "Run the streaming job: requests topic -> InstructBLIP -> responses topic.")
public final class RunCommand implements Callable<Integer> {
  @Mixin KafkaOptions kafka;
  @Mixin StageOptions stages;
  @Mixin JobEnvironment environment;

  @Option(names = "--job-name", defaultValue = "instructblip", description = "Flink job name.")
  String jobName;

  @Override
  public Integer call() throws Exception {
    InstructBlipJob job = job();
    StreamExecutionEnvironment env = environment.create();
    job.addTo(env);
    env.execute(jobName);
    return 0;
  }

  /**
   * The job from the effective configuration (the cluster's, then {@code --set}) and the flags on
   * top; validated here, in the client, so a bad setting fails the submission with its key.
   */
  InstructBlipJob job() {
    Configuration conf = environment.configuration();
    return new InstructBlipJob(
            kafka.toSettings(conf),
            stages.toSettings(conf, null),
            imageSettings(conf),
            LimitsConfigOptions.fromConfiguration(conf),
            stages.modelName(conf))
        .withSchemaRegistry(RegistrySettings.fromConfiguration(conf));
  }

  /** The {@code instructblip.images.*} keys of {@code conf}, without the prefix. */
  static Map<String, String> imageSettings(Configuration conf) {
    Map<String, String> values = new LinkedHashMap<>();
    conf.toMap()
        .forEach(
            (k, v) -> {
              if (k.startsWith(UriPolicy.CONFIG_PREFIX)) {
                values.put(k.substring(UriPolicy.CONFIG_PREFIX.length()), v);
              }
            });
    // fail now, with the key's name, rather than in the TaskManagers
    UriPolicy.fromMap(values);
    FetchSettings.fromMap(values);
    return values;
  }
}
