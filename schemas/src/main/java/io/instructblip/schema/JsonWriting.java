package io.instructblip.schema;

import com.fasterxml.jackson.core.JsonGenerator;
import java.io.IOException;
import java.util.Map;

/** Small helpers shared by the JSON writers: optional fields are left out when null. */
final class JsonWriting {
  private JsonWriting() {}

  static void writeIfNotNull(JsonGenerator out, String name, String value) throws IOException {
    if (value != null) {
      out.writeStringField(name, value);
    }
  }

  static void writeIfNotNull(JsonGenerator out, String name, Integer value) throws IOException {
    if (value != null) {
      out.writeNumberField(name, value.intValue());
    }
  }

  static void writeIfNotNull(JsonGenerator out, String name, Long value) throws IOException {
    if (value != null) {
      out.writeNumberField(name, value.longValue());
    }
  }

  static void writeIfNotNull(JsonGenerator out, String name, Double value) throws IOException {
    if (value != null) {
      out.writeNumberField(name, value.doubleValue());
    }
  }

  static void writeStringMap(JsonGenerator out, String name, Map<String, String> map)
      throws IOException {
    out.writeObjectFieldStart(name);
    for (Map.Entry<String, String> entry : map.entrySet()) {
      out.writeStringField(entry.getKey(), entry.getValue());
    }
    out.writeEndObject();
  }
}
