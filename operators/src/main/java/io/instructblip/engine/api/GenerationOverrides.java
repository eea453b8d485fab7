package io.instructblip.engine.api;

/**
 * The generation parameters one request sets; a {@code null} field means "the model directory's
 * default". Validated when the request is prepared (see {@code GenerationParams}).
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
  public static final GenerationOverrides NONE =
      new GenerationOverrides(null, null, null, null, null, null, null, null, null, null, null);

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
