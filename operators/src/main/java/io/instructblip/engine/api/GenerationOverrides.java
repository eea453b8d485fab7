package io.instructblip.engine.api;

import java.io.Serializable;
import java.util.Arrays;
import java.util.function.Function;

/**
 * The generation parameters one request sets, keyed by {@link GenerationParameter}; an unset
 * parameter ({@code null}) means "the model directory's default". Validated when the request is
 * prepared (see {@code GenerationParams}). Immutable.
 *
 * <pre>{@code
 * GenerationOverrides o = GenerationOverrides.builder().numBeams(1).doSample(true).build();
 * }</pre>
 */
public final class GenerationOverrides implements Serializable {
  private static final long serialVersionUID = 1L;

  /** No overrides: every parameter comes from the model directory. */
  public static final GenerationOverrides NONE = builder().build();

  /**
   * By {@link GenerationParameter#ordinal()}: an array, which Kryo copies (it cannot rebuild an
   * EnumMap).
   */
  private final Object[] values;

  private GenerationOverrides(Object[] values) {
    this.values = values;
  }

  /** The value of {@code p} that this request sets (of {@code p.type()}), or {@code null}. */
  public Object get(GenerationParameter p) {
    return values[p.ordinal()];
  }

  /**
   * The overrides {@code value} gives ({@code null}: unset), e.g. read from a record by each
   * parameter's {@link GenerationParameter#key() key}.
   *
   * @throws IllegalArgumentException when a value is not of its parameter's type
   */
  public static GenerationOverrides of(Function<GenerationParameter, Object> value) {
    Builder b = builder();
    for (GenerationParameter p : GenerationParameter.values()) {
      b.set(p, value.apply(p));
    }
    return b.build();
  }

  /** A builder starting from {@link #NONE}. */
  public static Builder builder() {
    return new Builder();
  }

  public Integer maxNewTokens() {
    return (Integer) get(GenerationParameter.MAX_NEW_TOKENS);
  }

  public Integer minNewTokens() {
    return (Integer) get(GenerationParameter.MIN_NEW_TOKENS);
  }

  public Integer numBeams() {
    return (Integer) get(GenerationParameter.NUM_BEAMS);
  }

  public Double lengthPenalty() {
    return (Double) get(GenerationParameter.LENGTH_PENALTY);
  }

  public Double repetitionPenalty() {
    return (Double) get(GenerationParameter.REPETITION_PENALTY);
  }

  public Boolean doSample() {
    return (Boolean) get(GenerationParameter.DO_SAMPLE);
  }

  public Double temperature() {
    return (Double) get(GenerationParameter.TEMPERATURE);
  }

  public Integer topK() {
    return (Integer) get(GenerationParameter.TOP_K);
  }

  public Double topP() {
    return (Double) get(GenerationParameter.TOP_P);
  }

  public Long seed() {
    return (Long) get(GenerationParameter.SEED);
  }

  public Integer numReturnSequences() {
    return (Integer) get(GenerationParameter.NUM_RETURN_SEQUENCES);
  }

  @Override
  public boolean equals(Object o) {
    return o instanceof GenerationOverrides other && Arrays.equals(values, other.values);
  }

  @Override
  public int hashCode() {
    return Arrays.hashCode(values);
  }

  @Override
  public String toString() {
    StringBuilder out = new StringBuilder("GenerationOverrides{");
    for (GenerationParameter p : GenerationParameter.values()) {
      if (get(p) != null) {
        out.append(out.charAt(out.length() - 1) == '{' ? "" : ", ").append(p.key()).append('=');
        out.append(get(p));
      }
    }
    return out.append('}').toString();
  }

  /** Builds {@link GenerationOverrides}; unset parameters stay {@code null}. */
  public static final class Builder {
    private final Object[] values = new Object[GenerationParameter.values().length];

    private Builder() {}

    /**
     * Sets {@code p} to {@code value} ({@code null}: unset).
     *
     * @throws IllegalArgumentException when {@code value} is not of {@code p.type()}
     */
    public Builder set(GenerationParameter p, Object value) {
      values[p.ordinal()] = p.type().cast(value);
      return this;
    }

    public Builder maxNewTokens(Integer value) {
      return set(GenerationParameter.MAX_NEW_TOKENS, value);
    }

    public Builder minNewTokens(Integer value) {
      return set(GenerationParameter.MIN_NEW_TOKENS, value);
    }

    public Builder numBeams(Integer value) {
      return set(GenerationParameter.NUM_BEAMS, value);
    }

    public Builder lengthPenalty(Double value) {
      return set(GenerationParameter.LENGTH_PENALTY, value);
    }

    public Builder repetitionPenalty(Double value) {
      return set(GenerationParameter.REPETITION_PENALTY, value);
    }

    public Builder doSample(Boolean value) {
      return set(GenerationParameter.DO_SAMPLE, value);
    }

    public Builder temperature(Double value) {
      return set(GenerationParameter.TEMPERATURE, value);
    }

    public Builder topK(Integer value) {
      return set(GenerationParameter.TOP_K, value);
    }

    public Builder topP(Double value) {
      return set(GenerationParameter.TOP_P, value);
    }

    public Builder seed(Long value) {
      return set(GenerationParameter.SEED, value);
    }

    public Builder numReturnSequences(Integer value) {
      return set(GenerationParameter.NUM_RETURN_SEQUENCES, value);
    }

    public GenerationOverrides build() {
      return new GenerationOverrides(values.clone());
    }
  }
}
