package io.instructblip.engine.model;

import com.fasterxml.jackson.databind.JsonNode;
import io.instructblip.engine.api.GenerationOverrides;
import io.instructblip.engine.api.GenerationParameter;
import java.util.Arrays;
import java.util.EnumMap;
import java.util.Iterator;
import java.util.Map;

/**
 * Reads generation parameters from JSON by their {@link GenerationParameter} specification, with
 * the types checked strictly (an integer parameter refuses {@code 2.5} and {@code "2"}, a number
 * refuses {@code "hot"}): the manifest's {@code generation_defaults}, and the {@code params} of
 * golden reference cases and the {@code generation} of held-out files.
 */
public final class GenerationParametersJson {
  private GenerationParametersJson() {}

  /**
   * The value of {@code node} as {@code p}'s type, or {@code null} when the JSON value has another
   * type (or does not fit an {@code int}/{@code long}).
   */
  public static Object value(GenerationParameter p, JsonNode node) {
    return switch (p.type()) {
      case INT -> node.isIntegralNumber() && node.canConvertToInt() ? node.intValue() : null;
      case LONG -> node.isIntegralNumber() && node.canConvertToLong() ? node.longValue() : null;
      case DOUBLE -> node.isNumber() ? node.doubleValue() : null;
      case BOOLEAN -> node.isBoolean() ? node.booleanValue() : null;
    };
  }

  /**
   * The overrides an object of parameters sets, e.g. {@code {"num_beams": 1, "do_sample": true}} (a
   * golden case's {@code params}).
   *
   * @throws IllegalArgumentException naming the key, for a key that is no parameter or a value of
   *     another type: a sampling case must never run greedy because its keys were ignored
   */
  public static GenerationOverrides overrides(JsonNode object) {
    if (object == null || !object.isObject()) {
      throw new IllegalArgumentException("generation parameters must be a JSON object");
    }
    Map<GenerationParameter, Object> values = new EnumMap<>(GenerationParameter.class);
    for (Iterator<Map.Entry<String, JsonNode>> it = object.fields(); it.hasNext(); ) {
      Map.Entry<String, JsonNode> field = it.next();
      GenerationParameter p = GenerationParameter.forKey(field.getKey());
      if (p == null) {
        throw new IllegalArgumentException(
            "unknown generation parameter '"
                + field.getKey()
                + "'; the parameters are "
                + Arrays.stream(GenerationParameter.values())
                    .map(GenerationParameter::key)
                    .toList());
      }
      Object value = value(p, field.getValue());
      if (value == null && !field.getValue().isNull()) {
        throw new IllegalArgumentException(
            "generation parameter '"
                + p.key()
                + "' must be of type "
                + p.type().avroName()
                + ", found "
                + field.getValue());
      }
      values.put(p, value);
    }
    return GenerationOverrides.of(values::get);
  }
}
