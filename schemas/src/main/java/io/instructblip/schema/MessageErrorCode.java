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
  /**
   * Avro single-object encoding whose schema fingerprint is not a known version of this type; or
   * Schema Registry framing whose schema id the registry does not know, whose schema cannot be read
   * as this type, or with no registry configured.
   */
  UNKNOWN_SCHEMA,
  /**
   * Schema Registry framing whose writer schema could not be fetched: the registry did not answer
   * (or answered with a server error) within the configured wait, or refused the credentials.
   */
  REGISTRY_UNAVAILABLE,
  /** Looks like JSON but is not well-formed (syntax error, duplicate key, trailing content). */
  INVALID_JSON,
  /** JSON without a required field (or with null for it). */
  MISSING_FIELD,
  /** JSON with an unknown field, or a field of the wrong type or with a value out of range. */
  INVALID_FIELD
}
