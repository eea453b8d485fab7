package io.instructblip.engine.api;

import java.io.Serializable;
import java.util.Objects;
import java.util.function.Function;

/**
 * The generation parameters a model directory recommends ({@code manifest.json} field {@code
 * generation_defaults}, see docs/model-format.md): a value for every {@link GenerationParameter}
 * that {@link GenerationParameter#modelDefault() a model directory sets}. A request's parameters
 * start from these and override what the request names.
 *
 * <p>The values are checked with the rules every request is checked against ({@link
 * GenerationParameter#checkAll}); a broken value is a broken model directory, so it fails with
 * {@link ErrorCode#MODEL_INVALID} and a message naming the manifest field. Immutable.
 */
public final class GenerationDefaults implements Serializable {
  private static final long serialVersionUID = 1L;

  /**
   * The reference defaults of InstructBLIP (LAVIS and the HF docstring), those of {@link
   * GenerationParameter#referenceDefault()}: 5 beams, 256 new tokens at most, at least 1,
   * repetition penalty 1.5, length penalty 1.0, no sampling, temperature 1.0, top-k off, top-p 0.9.
   */
  public static final GenerationDefaults REFERENCE = of(GenerationParameter::referenceDefault);

  /** The values, set for the parameters a model directory sets. */
  private final GenerationOverrides values;

  private GenerationDefaults(GenerationOverrides values) {
    this.values = values;
  }

  /**
   * The defaults {@code value} gives for every parameter a model directory sets, checked.
   *
   * @throws IllegalArgumentException when a value is missing or not of its parameter's type
   * @throws EngineException {@link ErrorCode#MODEL_INVALID} when one breaks a rule
   */
  public static GenerationDefaults of(Function<GenerationParameter, Object> value) {
    GenerationOverrides.Builder values = GenerationOverrides.builder();
    for (GenerationParameter p : GenerationParameter.values()) {
      if (p.modelDefault()) {
        values.set(p, Objects.requireNonNull(value.apply(p), () -> p.key() + " has no default"));
      }
    }
    GenerationDefaults defaults = new GenerationDefaults(values.build());
    try {
      GenerationParameter.checkAll(defaults::get);
    } catch (EngineException e) {
      throw new EngineException(
          ErrorCode.MODEL_INVALID,
          "manifest.json generation_defaults: " + e.getMessage() + "; fix the model directory",
          e);
    }
    return defaults;
  }

  /**
   * The default of {@code p}: this directory's for those it sets, the reference default for the
   * others ({@code seed}: none; {@code num_return_sequences}: 1).
   */
  public Object get(GenerationParameter p) {
    return p.modelDefault() ? values.get(p) : p.referenceDefault();
  }

  @Override
  public boolean equals(Object o) {
    return o instanceof GenerationDefaults other && values.equals(other.values);
  }

  @Override
  public int hashCode() {
    return values.hashCode();
  }

  @Override
  public String toString() {
    return "GenerationDefaults" + values.toString().substring("GenerationOverrides".length());
  }
}
