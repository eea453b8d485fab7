package io.instructblip.schema;

import com.fasterxml.jackson.core.JsonGenerator;
import com.fasterxml.jackson.databind.JsonNode;
import java.io.IOException;

/** The JSON form of one message type: field names as in its Avro schema (snake_case). */
interface JsonMapping<T> {
  /** Reads a message from a parsed JSON tree, strictly (unknown fields are errors). */
  T fromJson(JsonNode root) throws MessageFormatException;

  /** Writes a message as one JSON object; null optional fields are left out. */
  void toJson(T message, JsonGenerator out) throws IOException;
}
