package io.instructblip.schema;

import org.apache.avro.Schema;

/**
 * The schemas of a Schema Registry, as {@link WireFormat#REGISTRY} messages need them: a writer
 * schema by its id, and the id of a schema registered under a subject. Implementations talk to a
 * registry (the job's is a REST client of the Confluent-compatible API) and cache what they learn;
 * they must be thread-safe. This module knows no transport: it only frames and resolves.
 */
public interface SchemaRegistry {
  /**
   * The schema registered with {@code id}.
   *
   * @throws MessageFormatException with {@link MessageErrorCode#UNKNOWN_SCHEMA} when the registry
   *     has no schema with that id (or it is no Avro schema), {@link
   *     MessageErrorCode#REGISTRY_UNAVAILABLE} when the registry could not be asked
   */
  Schema schemaById(int id) throws MessageFormatException;

  /**
   * Registers {@code schema} under {@code subject} (or finds it registered there) and returns its
   * id.
   *
   * @throws MessageFormatException with {@link MessageErrorCode#REGISTRY_UNAVAILABLE} when the
   *     registry could not be asked or refused the schema (e.g. as incompatible with the subject)
   */
  int register(String subject, Schema schema) throws MessageFormatException;
}
