package io.instructblip.schema;

/**
 * Why a Kafka record could not be read as a message. Records that fail this way cannot be answered
 * reliably; the job routes them to the dead-letter topic with the code and message in headers.
 */
public enum MessageErrorCode {
  /**
   * Neither Avro single-object encoding nor a JSON object, or an Avro body that does not decode.
   */
  UNDECODABLE,
  /** Avro single-object encoding whose schema fingerprint is not a known version of this type. */
  UNKNOWN_SCHEMA,
  /** Looks like JSON but is not well-formed (syntax error, duplicate key, trailing content). */
  INVALID_JSON,
  /** JSON without a required field (or with null for it). */
  MISSING_FIELD,
  /** JSON with an unknown field, or a field of the wrong type or with a value out of range. */
  INVALID_FIELD
}
