package io.instructblip.job.registry;

import java.util.Locale;

/**
 * Which subject a topic's value schema is registered under; the three strategies of Confluent's
 * serializers, so that consumers configured with the same strategy find it.
 */
public enum SubjectNameStrategy {
  /** {@code <topic>-value}: one schema lineage per topic (Confluent's default). */
  TOPIC_NAME,
  /** The record's full name, e.g. {@code io.instructblip.schema.avro.InferenceResponse}. */
  RECORD_NAME,
  /** {@code <topic>-<record full name>}. */
  TOPIC_RECORD_NAME;

  /** The subject of the value schema of {@code topic} whose record is {@code recordFullName}. */
  public String subject(String topic, String recordFullName) {
    return switch (this) {
      case TOPIC_NAME -> topic + "-value";
      case RECORD_NAME -> recordFullName;
      case TOPIC_RECORD_NAME -> topic + "-" + recordFullName;
    };
  }

  /** The configuration spelling, e.g. {@code topic_name}. */
  @Override
  public String toString() {
    return name().toLowerCase(Locale.ROOT);
  }
}
