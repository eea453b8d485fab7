package io.instructblip.engine.generate;

import io.instructblip.engine.api.EngineException;
import io.instructblip.engine.api.ErrorCode;
import io.instructblip.engine.api.GenerationDefaults;
import io.instructblip.engine.api.GenerationParameter;
import java.util.ArrayList;
import java.util.List;
import java.util.Objects;

/**
 * The generation parameters of one request, checked. Build them from the model directory's defaults
 * and override what the request names:
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
 * <p>Rules: those of {@link GenerationParameter} (each broken one is an {@link EngineException}
 * with {@link ErrorCode#INVALID_PARAMETER} and a message that names the parameter, the rule and the
 * value), not {@code do_sample} together with {@code num_beams > 1}, and at least one EOS id, none
 * negative.
 *
 * @param seed the seed of the sampling generator (sampling only): the same seed gives the same
 *     tokens whatever else runs in the batch
 * @param eosTokenIds the ids that end a sequence (the manifest's {@code special_tokens.llm_eos})
 */
public record GenerationParams(
    int maxNewTokens,
    int minNewTokens,
    int numBeams,
    double lengthPenalty,
    double repetitionPenalty,
    boolean doSample,
    double temperature,
    int topK,
    double topP,
    long seed,
    int numReturnSequences,
    List<Integer> eosTokenIds) {

  /** Checks every rule; see the type's documentation. */
  public GenerationParams {
    // In the specification's order (GenerationParamsTest checks the components follow it).
    Object[] values = {
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
      numReturnSequences
    };
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
    eosTokenIds = List.copyOf(eosTokenIds);
  }

  /** The value of {@code p} (boxed, of {@code p.type()}). */
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
    for (GenerationParameter p : GenerationParameter.values()) {
      b.set(p, get(p));
    }
    return b;
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
    if (doSample) {
      return SearchKind.SAMPLING;
    }
    return numBeams > 1 ? SearchKind.BEAM : SearchKind.GREEDY;
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
    private int maxNewTokens;
    private int minNewTokens;
    private int numBeams;
    private double lengthPenalty;
    private double repetitionPenalty;
    private boolean doSample;
    private double temperature;
    private int topK;
    private double topP;
    private long seed;
    private int numReturnSequences = 1;
    private List<Integer> eosTokenIds = List.of();

    private Builder(GenerationDefaults defaults) {
      Objects.requireNonNull(defaults, "defaults");
      for (GenerationParameter p : GenerationParameter.values()) {
        if (p.modelDefault()) {
          set(p, defaults.get(p));
        }
      }
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

    public Builder maxNewTokens(int value) {
      this.maxNewTokens = value;
      return this;
    }

    public Builder minNewTokens(int value) {
      this.minNewTokens = value;
      return this;
    }

    public Builder numBeams(int value) {
      this.numBeams = value;
      return this;
    }

    public Builder lengthPenalty(double value) {
      this.lengthPenalty = value;
      return this;
    }

    public Builder repetitionPenalty(double value) {
      this.repetitionPenalty = value;
      return this;
    }

    public Builder doSample(boolean value) {
      this.doSample = value;
      return this;
    }

    public Builder temperature(double value) {
      this.temperature = value;
      return this;
    }

    public Builder topK(int value) {
      this.topK = value;
      return this;
    }

    public Builder topP(double value) {
      this.topP = value;
      return this;
    }

    /** The sampling seed; 0 unless set. */
    public Builder seed(long value) {
      this.seed = value;
      return this;
    }

    /** How many finished beams to return, best first; 1 unless set. */
    public Builder numReturnSequences(int value) {
      this.numReturnSequences = value;
      return this;
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
      return new GenerationParams(
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
          numReturnSequences,
          eosTokenIds);
    }
  }
}
