package io.instructblip.engine.api;

import java.util.function.Function;

/**
 * The generation parameters one request sets; a {@code null} field means "the model directory's
 * default". One component per {@link GenerationParameter}, in its order; validated when the request
 * is prepared (see {@code GenerationParams}).
 */
public record GenerationOverrides(
    Integer maxNewTokens,
    Integer minNewTokens,
    Integer numBeams,
    Double lengthPenalty,
    Double repetitionPenalty,
    Boolean doSample,
    Double temperature,
    Integer topK,
    Double topP,
    Long seed,
    Integer numReturnSequences) {

  /** No overrides: every parameter comes from the model directory. */
  public static final GenerationOverrides NONE = builder().build();

  /** The value of {@code p} that this request sets, or {@code null} (of {@code p.type()}). */
  public Object get(GenerationParameter p) {
    return switch (p) {
      case MAX_NEW_TOKENS -> maxNewTokens;
      case MIN_NEW_TOKENS -> minNewTokens;
      case NUM_BEAMS -> numBeams;
      case LENGTH_PENALTY -> lengthPenalty;
      case REPETITION_PENALTY -> repetitionPenalty;
      case DO_SAMPLE -> doSample;
      case TEMPERATURE -> temperature;
      case TOP_K -> topK;
      case TOP_P -> topP;
      case SEED -> seed;
      case NUM_RETURN_SEQUENCES -> numReturnSequences;
    };
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

  /** Builds {@link GenerationOverrides}; unset fields stay {@code null}. */
  public static final class Builder {
    private Integer maxNewTokens;
    private Integer minNewTokens;
    private Integer numBeams;
    private Double lengthPenalty;
    private Double repetitionPenalty;
    private Boolean doSample;
    private Double temperature;
    private Integer topK;
    private Double topP;
    private Long seed;
    private Integer numReturnSequences;

    private Builder() {}

    /**
     * Sets {@code p} to {@code value} ({@code null}: unset).
     *
     * @throws IllegalArgumentException when {@code value} is not of {@code p.type()}
     */
    public Builder set(GenerationParameter p, Object value) {
      Object v = p.type().cast(value);
      return switch (p) {
        case MAX_NEW_TOKENS -> maxNewTokens((Integer) v);
        case MIN_NEW_TOKENS -> minNewTokens((Integer) v);
        case NUM_BEAMS -> numBeams((Integer) v);
        case LENGTH_PENALTY -> lengthPenalty((Double) v);
        case REPETITION_PENALTY -> repetitionPenalty((Double) v);
        case DO_SAMPLE -> doSample((Boolean) v);
        case TEMPERATURE -> temperature((Double) v);
        case TOP_K -> topK((Integer) v);
        case TOP_P -> topP((Double) v);
        case SEED -> seed((Long) v);
        case NUM_RETURN_SEQUENCES -> numReturnSequences((Integer) v);
      };
    }

    public Builder maxNewTokens(Integer value) {
      this.maxNewTokens = value;
      return this;
    }

    public Builder minNewTokens(Integer value) {
      this.minNewTokens = value;
      return this;
    }

    public Builder numBeams(Integer value) {
      this.numBeams = value;
      return this;
    }

    public Builder lengthPenalty(Double value) {
      this.lengthPenalty = value;
      return this;
    }

    public Builder repetitionPenalty(Double value) {
      this.repetitionPenalty = value;
      return this;
    }

    public Builder doSample(Boolean value) {
      this.doSample = value;
      return this;
    }

    public Builder temperature(Double value) {
      this.temperature = value;
      return this;
    }

    public Builder topK(Integer value) {
      this.topK = value;
      return this;
    }

    public Builder topP(Double value) {
      this.topP = value;
      return this;
    }

    public Builder seed(Long value) {
      this.seed = value;
      return this;
    }

    public Builder numReturnSequences(Integer value) {
      this.numReturnSequences = value;
      return this;
    }

    public GenerationOverrides build() {
      return new GenerationOverrides(
          maxNewTokens,
          minNewTokens,
          numBeams,
          lengthPenalty,
          repetitionPenalty,
          doSample,
          temperature,
          topK,
          topP,
          seed,
          numReturnSequences);
    }
  }
}
