package io.instructblip.schema;

import com.fasterxml.jackson.core.JsonGenerator;
import com.fasterxml.jackson.databind.JsonNode;
import java.io.IOException;

/** The JSON form of one message type: field names as in its Avro schema (snake_case). */
interface JsonMapping<T> {
  /**
   * Reads a message from a parsed JSON tree, strictly (unknown fields are errors). A failure
   * carries the message's {@code id} when the tree has a textual one, so that the job can answer it
   * instead of dead-lettering it.
   */
  default T fromJson(JsonNode root) throws MessageFormatException {
    JsonNode idNode = root.get("id");
    String knownId = idNode != null && idNode.isTextual() ? idNode.textValue() : null;
    try {
      return read(JsonObjectReader.root(root));
    } catch (MessageFormatException e) {
      throw knownId == null ? e : e.withRequestId(knownId);
    }
  }

  /** Reads the message's fields. */
  T read(JsonObjectReader in) throws MessageFormatException;

  /** Writes a message as one JSON object; null optional fields are left out. */
  void toJson(T message, JsonGenerator out) throws IOException;
}
