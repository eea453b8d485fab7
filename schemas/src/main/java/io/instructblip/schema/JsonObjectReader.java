package io.instructblip.schema;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.JsonNodeType;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Strict, path-aware reading of one JSON object: every failure names the full field path (e.g.
 * {@code generation.top_k}, {@code images[1].base64}). A JSON {@code null} counts as absent.
 */
final class JsonObjectReader {
  private final JsonNode node;
  private final String path;

  private JsonObjectReader(JsonNode node, String path) {
    this.node = node;
    this.path = path;
  }

  /** Wraps the root object of a message. */
  static JsonObjectReader root(JsonNode node) throws MessageFormatException {
    return of(node, "");
  }

  private static JsonObjectReader of(JsonNode node, String path) throws MessageFormatException {
    if (!node.isObject()) {
      throw new MessageFormatException(
          MessageErrorCode.INVALID_FIELD,
          (path.isEmpty() ? "the message" : "field \"" + path + "\"")
              + " must be a JSON object, got "
              + describe(node));
    }
    return new JsonObjectReader(node, path);
  }

  /** Fails on the first field whose name is not in {@code known}, listing the allowed names. */
  JsonObjectReader rejectUnknownFields(List<String> known) throws MessageFormatException {
    Iterator<String> names = node.fieldNames();
    while (names.hasNext()) {
      String name = names.next();
      if (!known.contains(name)) {
        throw new MessageFormatException(
            MessageErrorCode.INVALID_FIELD,
            "unknown field \""
                + pathOf(name)
                + "\"; allowed "
                + (path.isEmpty() ? "at the top level" : "in \"" + path + "\"")
                + ": "
                + String.join(", ", known));
      }
    }
    return this;
  }

  String requiredString(String name) throws MessageFormatException {
    return string(name, required(name));
  }

  String optionalString(String name) throws MessageFormatException {
    JsonNode value = optional(name);
    return value == null ? null : string(name, value);
  }

  Integer optionalInt(String name) throws MessageFormatException {
    JsonNode value = optional(name);
    return value == null ? null : integer(name, value);
  }

  int intOrDefault(String name, int defaultValue) throws MessageFormatException {
    Integer value = optionalInt(name);
    return value == null ? defaultValue : value;
  }

  long requiredLong(String name) throws MessageFormatException {
    return longValue(name, required(name));
  }

  Long optionalLong(String name) throws MessageFormatException {
    JsonNode value = optional(name);
    return value == null ? null : longValue(name, value);
  }

  double requiredDouble(String name) throws MessageFormatException {
    return doubleValue(name, required(name));
  }

  Double optionalDouble(String name) throws MessageFormatException {
    JsonNode value = optional(name);
    return value == null ? null : doubleValue(name, value);
  }

  Boolean optionalBoolean(String name) throws MessageFormatException {
    JsonNode value = optional(name);
    if (value == null) {
      return null;
    }
    if (!value.isBoolean()) {
      throw invalid(name, "must be true or false", value);
    }
    return value.booleanValue();
  }

  <E extends Enum<E>> E requiredEnum(String name, Class<E> type) throws MessageFormatException {
    return enumValue(name, type, required(name));
  }

  <E extends Enum<E>> E optionalEnum(String name, Class<E> type) throws MessageFormatException {
    JsonNode value = optional(name);
    return value == null ? null : enumValue(name, type, value);
  }

  /** The elements of a required array field, each with its path ({@code name[i]}). */
  List<Element> requiredArray(String name) throws MessageFormatException {
    return elements(name, required(name));
  }

  /** The elements of an optional array field; empty when absent. */
  List<Element> optionalArray(String name) throws MessageFormatException {
    JsonNode value = optional(name);
    return value == null ? List.of() : elements(name, value);
  }

  List<String> stringList(String name) throws MessageFormatException {
    List<String> strings = new ArrayList<>();
    for (Element element : optionalArray(name)) {
      if (!element.node().isTextual()) {
        throw new MessageFormatException(
            MessageErrorCode.INVALID_FIELD,
            "field \"" + element.path() + "\" must be a string, got " + describe(element.node()));
      }
      strings.add(element.node().textValue());
    }
    return strings;
  }

  List<Integer> intList(String name) throws MessageFormatException {
    List<Integer> ints = new ArrayList<>();
    for (Element element : optionalArray(name)) {
      JsonNode value = element.node();
      if (!value.isIntegralNumber() || !value.canConvertToInt()) {
        throw new MessageFormatException(
            MessageErrorCode.INVALID_FIELD,
            "field \""
                + element.path()
                + "\" must be an integer in the 32-bit range, got "
                + describe(value));
      }
      ints.add(value.intValue());
    }
    return ints;
  }

  /** An optional object of string values; empty when absent. */
  Map<String, String> stringMap(String name) throws MessageFormatException {
    JsonNode value = optional(name);
    Map<String, String> map = new LinkedHashMap<>();
    if (value == null) {
      return map;
    }
    if (!value.isObject()) {
      throw invalid(name, "must be a JSON object of strings", value);
    }
    Iterator<Map.Entry<String, JsonNode>> fields = value.fields();
    while (fields.hasNext()) {
      Map.Entry<String, JsonNode> field = fields.next();
      if (!field.getValue().isTextual()) {
        throw new MessageFormatException(
            MessageErrorCode.INVALID_FIELD,
            "field \""
                + pathOf(name)
                + "\" must map keys to strings, but key \""
                + field.getKey()
                + "\" has "
                + describe(field.getValue()));
      }
      map.put(field.getKey(), field.getValue().textValue());
    }
    return map;
  }

  /** A nested object, or null when absent. */
  JsonObjectReader optionalObject(String name) throws MessageFormatException {
    JsonNode value = optional(name);
    return value == null ? null : of(value, pathOf(name));
  }

  String pathOf(String name) {
    return path.isEmpty() ? name : path + "." + name;
  }

  private MessageFormatException invalid(String name, String expectation, JsonNode value) {
    return new MessageFormatException(
        MessageErrorCode.INVALID_FIELD,
        "field \"" + pathOf(name) + "\" " + expectation + ", got " + describe(value));
  }

  private JsonNode required(String name) throws MessageFormatException {
    JsonNode value = node.get(name);
    if (value == null || value.isNull()) {
      throw new MessageFormatException(
          MessageErrorCode.MISSING_FIELD,
          "missing required field \""
              + pathOf(name)
              + "\""
              + (value == null ? "" : " (it is null)"));
    }
    return value;
  }

  private JsonNode optional(String name) {
    JsonNode value = node.get(name);
    return value == null || value.isNull() ? null : value;
  }

  private String string(String name, JsonNode value) throws MessageFormatException {
    if (!value.isTextual()) {
      throw invalid(name, "must be a string", value);
    }
    return value.textValue();
  }

  private int integer(String name, JsonNode value) throws MessageFormatException {
    if (!value.isIntegralNumber() || !value.canConvertToInt()) {
      throw invalid(name, "must be an integer in the 32-bit range", value);
    }
    return value.intValue();
  }

  private long longValue(String name, JsonNode value) throws MessageFormatException {
    if (!value.isIntegralNumber() || !value.canConvertToLong()) {
      throw invalid(name, "must be an integer in the 64-bit range", value);
    }
    return value.longValue();
  }

  private double doubleValue(String name, JsonNode value) throws MessageFormatException {
    if (value.isNumber()) {
      return value.doubleValue();
    }
    if (value.isTextual()) {
      switch (value.textValue()) {
        case "NaN":
          return Double.NaN;
        case "Infinity":
          return Double.POSITIVE_INFINITY;
        case "-Infinity":
          return Double.NEGATIVE_INFINITY;
        default:
          break;
      }
    }
    throw invalid(name, "must be a number (or \"NaN\", \"Infinity\", \"-Infinity\")", value);
  }

  private <E extends Enum<E>> E enumValue(String name, Class<E> type, JsonNode value)
      throws MessageFormatException {
    E[] symbols = type.getEnumConstants();
    if (value.isTextual()) {
      for (E symbol : symbols) {
        if (symbol.name().equals(value.textValue())) {
          return symbol;
        }
      }
    }
    List<String> allowed = new ArrayList<>();
    for (E symbol : symbols) {
      allowed.add(symbol.name());
    }
    throw invalid(name, "must be one of " + String.join(", ", allowed), value);
  }

  private List<Element> elements(String name, JsonNode value) throws MessageFormatException {
    if (!value.isArray()) {
      throw invalid(name, "must be a JSON array", value);
    }
    List<Element> elements = new ArrayList<>(value.size());
    for (int i = 0; i < value.size(); i++) {
      elements.add(new Element(value.get(i), pathOf(name) + "[" + i + "]"));
    }
    return elements;
  }

  /** How a value appears in error messages: its JSON type and, for short scalars, the value. */
  static String describe(JsonNode value) {
    JsonNodeType type = value.getNodeType();
    switch (type) {
      case OBJECT:
        return "an object";
      case ARRAY:
        return "an array";
      case NULL:
        return "null";
      case STRING:
        String text = value.textValue();
        return "the string \"" + (text.length() > 40 ? text.substring(0, 40) + "..." : text) + "\"";
      case NUMBER:
        return "the number " + value.asText();
      case BOOLEAN:
        return value.asText();
      default:
        return type.toString().toLowerCase(java.util.Locale.ROOT);
    }
  }

  /** One element of an array field, with its path for error messages. */
  record Element(JsonNode node, String path) {
    JsonObjectReader asObject() throws MessageFormatException {
      return of(node, path);
    }
  }
}
