package io.instructblip.engine.generate;

import io.instructblip.engine.api.EngineException;
import io.instructblip.engine.api.ErrorCode;
import io.instructblip.engine.api.GenerationDefaults;
import io.instructblip.engine.api.GenerationParameter;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Objects;

/**
 * The generation parameters of one request, checked: a value for every {@link GenerationParameter},
 * and the EOS ids. Build them from the model directory's defaults and override what the request
 * names:
 *
 * <pre>{@code
 * GenerationParams params =
 *     GenerationParams.builder(manifestDefaults)
 *         .eosTokenIds(2)
 *         .numBeams(1)
 *         .maxNewTokens(30)
 *         .build();
 * }</pre>
 *
 * <p>Rules: those of {@link GenerationParameter#checkAll} (each broken one is an {@link
 * EngineException} with {@link ErrorCode#INVALID_PARAMETER} and a message that names the parameter,
 * the rule and the value), and at least one EOS id, none negative. The seed (0 unless set) seeds
 * the sampling generator: the same seed gives the same tokens whatever else runs in the batch.
 * Immutable.
 */
public final class GenerationParams {
  /**
   * By {@link GenerationParameter#ordinal()}: an array, which Kryo copies (it cannot rebuild an
   * EnumMap).
   */
  private final Object[] values;

  private final List<Integer> eosTokenIds;

  private GenerationParams(Object[] values, List<Integer> eosTokenIds) {
    for (GenerationParameter p : GenerationParameter.values()) {
      Objects.requireNonNull(values[p.ordinal()], p.key());
    }
    GenerationParameter.checkAll(p -> values[p.ordinal()]);
    Objects.requireNonNull(eosTokenIds, "eosTokenIds");
    if (eosTokenIds.isEmpty()) {
      throw ParameterRules.invalid(
          "eos_token_ids must name at least one token id (the manifest's special_tokens.llm_eos)");
    }
    for (Integer id : eosTokenIds) {
      if (id == null || id < 0) {
        throw ParameterRules.invalid("eos_token_ids must be token ids >= 0, got " + eosTokenIds);
      }
    }
    this.values = values;
    this.eosTokenIds = List.copyOf(eosTokenIds);
  }

  /** A builder that starts from the given defaults (usually the manifest's). */
  public static Builder builder(GenerationDefaults defaults) {
    return new Builder(defaults);
  }

  /** A builder that starts from {@link GenerationDefaults#REFERENCE}. */
  public static Builder builder() {
    return new Builder(GenerationDefaults.REFERENCE);
  }

  /** A builder holding these parameters, to change some of them. */
  public Builder toBuilder() {
    Builder b = new Builder(GenerationDefaults.REFERENCE).eosTokenIds(eosTokenIds);
    System.arraycopy(values, 0, b.values, 0, values.length);
    return b;
  }

  /** The value of {@code p} (boxed, of {@code p.type()}). */
  public Object get(GenerationParameter p) {
    return values[p.ordinal()];
  }

  public int maxNewTokens() {
    return (Integer) get(GenerationParameter.MAX_NEW_TOKENS);
  }

  public int minNewTokens() {
    return (Integer) get(GenerationParameter.MIN_NEW_TOKENS);
  }

  public int numBeams() {
    return (Integer) get(GenerationParameter.NUM_BEAMS);
  }

  public double lengthPenalty() {
    return (Double) get(GenerationParameter.LENGTH_PENALTY);
  }

  public double repetitionPenalty() {
    return (Double) get(GenerationParameter.REPETITION_PENALTY);
  }

  public boolean doSample() {
    return (Boolean) get(GenerationParameter.DO_SAMPLE);
  }

  public double temperature() {
    return (Double) get(GenerationParameter.TEMPERATURE);
  }

  public int topK() {
    return (Integer) get(GenerationParameter.TOP_K);
  }

  public double topP() {
    return (Double) get(GenerationParameter.TOP_P);
  }

  /** The sampling seed (sampling only). */
  public long seed() {
    return (Long) get(GenerationParameter.SEED);
  }

  public int numReturnSequences() {
    return (Integer) get(GenerationParameter.NUM_RETURN_SEQUENCES);
  }

  /** The ids that end a sequence (the manifest's {@code special_tokens.llm_eos}). */
  public List<Integer> eosTokenIds() {
    return eosTokenIds;
  }

  /** Whether {@code tokenId} ends a sequence. */
  public boolean isEos(int tokenId) {
    for (int eos : eosTokenIds) {
      if (eos == tokenId) {
        return true;
      }
    }
    return false;
  }

  /** The search this request runs: greedy, sampling or beam search. */
  public SearchKind searchKind() {
    if (doSample()) {
      return SearchKind.SAMPLING;
    }
    return numBeams() > 1 ? SearchKind.BEAM : SearchKind.GREEDY;
  }

  @Override
  public boolean equals(Object o) {
    return o instanceof GenerationParams other
        && Arrays.equals(values, other.values)
        && eosTokenIds.equals(other.eosTokenIds);
  }

  @Override
  public int hashCode() {
    return Arrays.hashCode(values) * 31 + eosTokenIds.hashCode();
  }

  @Override
  public String toString() {
    StringBuilder out = new StringBuilder("GenerationParams{");
    for (GenerationParameter p : GenerationParameter.values()) {
      out.append(p.key()).append('=').append(get(p)).append(", ");
    }
    return out.append("eos_token_ids=").append(eosTokenIds).append('}').toString();
  }

  /** The kind of search a request runs, fixed at admission. */
  public enum SearchKind {
    /** Argmax of the processed logits, one row. */
    GREEDY,
    /** A draw from the softmax of the processed logits with a seeded generator, one row. */
    SAMPLING,
    /** Beam search over {@code num_beams} rows. */
    BEAM
  }

  /** Builds {@link GenerationParams}; every setter overrides the defaults it started from. */
  public static final class Builder {
    private final Object[] values = new Object[GenerationParameter.values().length];
    private List<Integer> eosTokenIds = List.of();

    private Builder(GenerationDefaults defaults) {
      Objects.requireNonNull(defaults, "defaults");
      for (GenerationParameter p : GenerationParameter.values()) {
        values[p.ordinal()] = defaults.get(p);
      }
      values[GenerationParameter.SEED.ordinal()] = 0L; // 0 unless the caller sets one
    }

    /**
     * Sets {@code p} to {@code value} (of {@code p.type()}).
     *
     * @throws IllegalArgumentException when {@code value} is null or of another type
     */
    public Builder set(GenerationParameter p, Object value) {
      if (value == null) {
        throw new IllegalArgumentException(p.key() + " cannot be null here");
      }
      values[p.ordinal()] = p.type().cast(value);
      return this;
    }

    public Builder maxNewTokens(int value) {
      return set(GenerationParameter.MAX_NEW_TOKENS, value);
    }

    public Builder minNewTokens(int value) {
      return set(GenerationParameter.MIN_NEW_TOKENS, value);
    }

    public Builder numBeams(int value) {
      return set(GenerationParameter.NUM_BEAMS, value);
    }

    public Builder lengthPenalty(double value) {
      return set(GenerationParameter.LENGTH_PENALTY, value);
    }

    public Builder repetitionPenalty(double value) {
      return set(GenerationParameter.REPETITION_PENALTY, value);
    }

    public Builder doSample(boolean value) {
      return set(GenerationParameter.DO_SAMPLE, value);
    }

    public Builder temperature(double value) {
      return set(GenerationParameter.TEMPERATURE, value);
    }

    public Builder topK(int value) {
      return set(GenerationParameter.TOP_K, value);
    }

    public Builder topP(double value) {
      return set(GenerationParameter.TOP_P, value);
    }

    /** The sampling seed; 0 unless set. */
    public Builder seed(long value) {
      return set(GenerationParameter.SEED, value);
    }

    /** How many finished beams to return, best first; 1 unless set. */
    public Builder numReturnSequences(int value) {
      return set(GenerationParameter.NUM_RETURN_SEQUENCES, value);
    }

    public Builder eosTokenIds(int... ids) {
      Objects.requireNonNull(ids, "ids");
      List<Integer> list = new ArrayList<>(ids.length);
      for (int id : ids) {
        list.add(id);
      }
      this.eosTokenIds = list;
      return this;
    }

    public Builder eosTokenIds(List<Integer> ids) {
      this.eosTokenIds = new ArrayList<>(Objects.requireNonNull(ids, "ids"));
      return this;
    }

    /**
     * Checks and builds.
     *
     * @throws EngineException {@link ErrorCode#INVALID_PARAMETER} when a rule is broken
     */
    public GenerationParams build() {
      return new GenerationParams(values.clone(), eosTokenIds);
    }
  }
}
