package io.instructblip.job.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;

import io.instructblip.job.kafka.KafkaSettings;
import io.instructblip.job.kafka.StartingOffsets;
import java.time.Duration;
import java.util.Map;
import org.apache.flink.configuration.Configuration;
import org.apache.flink.connector.base.DeliveryGuarantee;
import org.junit.jupiter.api.Test;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;

class KafkaOptionsTest {
  @Command(name = "run")
  static final class Run {
    @Mixin KafkaOptions kafka;
  }

  @Test
  void flagsOverrideTheFlinkConfigurationWhichOverridesDefaults() {
    Run run = new Run();
    new CommandLine(run)
        .parseArgs(
            "--bootstrap-servers", "cli:9092",
            "--request-topic", "in",
            "--starting-offsets", "earliest",
            "--delivery-guarantee", "at-least-once",
            "--transaction-timeout", "2 min",
            "--kafka-property", "security.protocol=SSL");
    Configuration conf =
        Configuration.fromMap(
            Map.of(
                "instructblip.kafka.bootstrap-servers", "conf:9092",
                "instructblip.kafka.response-topic", "out",
                "instructblip.kafka.property.sasl.mechanism", "PLAIN"));
    KafkaSettings s = run.kafka.toSettings(conf);
    assertEquals("cli:9092", s.bootstrapServers());
    assertEquals("in", s.requestTopic());
    assertEquals("out", s.responseTopic());
    assertEquals(KafkaSettings.DEFAULT_DEAD_LETTER_TOPIC, s.deadLetterTopic());
    assertEquals(StartingOffsets.EARLIEST, s.startingOffsets());
    assertEquals(DeliveryGuarantee.AT_LEAST_ONCE, s.deliveryGuarantee());
    assertEquals(Duration.ofMinutes(2), s.transactionTimeout());
    assertEquals(
        Map.of("security.protocol", "SSL", "sasl.mechanism", "PLAIN"), s.clientProperties());
  }
}
