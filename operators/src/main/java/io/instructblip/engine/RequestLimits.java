package io.instructblip.engine;

import io.instructblip.engine.api.EngineException;
import io.instructblip.engine.api.ErrorCode;
import io.instructblip.engine.api.GenerationParameter;
import io.instructblip.engine.generate.GenerationParams;
import java.io.Serializable;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.function.ToLongFunction;

/**
 * The bounds on what one request may carry, checked where a request enters (the job's parser):
 * sizes of its strings and collections, and ceilings of its generation parameters and of its work.
 * Every limit is a configuration key {@code instructblip.limits.<name>} with a safe default; {@link
 * #KEYS} lists them with their defaults and descriptions (the job declares them as Flink options
 * from this list; the README's configuration table and docs/messages.md show the same).
 *
 * <pre>{@code
 * RequestLimits limits = RequestLimits.builder().maxNumBeams(8).maxNewTokens(256).build();
 * RequestLimits byName = RequestLimits.builder().limit("num-beams-max", 8).build();
 * }</pre>
 *
 * <p>Fixed rules that no configuration may loosen (e.g. {@code temperature >= 0.01}, at most
 * {@value GenerationParameter#MAX_NUM_BEAMS} beams) live in {@link GenerationParameter}, which the
 * engine checks again for every request.
 *
 * @param maxIdChars the longest request id; a longer id cannot key a response and is dead-lettered
 * @param maxInstructionChars the longest instruction ({@code INSTRUCTION_TOO_LONG})
 * @param maxCandidates the most candidate answers of a ranking request
 * @param maxCandidateChars the longest candidate answer
 * @param maxMetadataEntries the most metadata entries
 * @param maxMetadataChars the most characters of all metadata keys and values together
 * @param maxHeaders the most Kafka headers on a request record
 * @param maxHeaderBytes the most bytes of all header keys (UTF-8) and values together
 * @param maxUriChars the longest image URI
 * @param maxNumBeams the most beams ({@code num_beams})
 * @param maxNewTokens the largest {@code max_new_tokens}
 * @param maxTopK the largest {@code top_k}
 * @param maxWorkTokens the most rows x new tokens one request may ask for ({@code num_beams x
 *     max_new_tokens})
 */
public record RequestLimits(
    int maxIdChars,
    int maxInstructionChars,
    int maxCandidates,
    int maxCandidateChars,
    int maxMetadataEntries,
    int maxMetadataChars,
    int maxHeaders,
    int maxHeaderBytes,
    int maxUriChars,
    int maxNumBeams,
    int maxNewTokens,
    int maxTopK,
    int maxWorkTokens)
    implements Serializable {

  /** Prefix of every key in a Flink configuration. */
  public static final String CONFIG_PREFIX = "instructblip.limits.";

  /** One configuration key: its name (without {@link #CONFIG_PREFIX}), default and meaning. */
  public record Key(
      String name,
      int defaultValue,
      int ceiling,
      String description,
      ToLongFunction<RequestLimits> get) {}

  /** Every key, in the order of the record's fields, with its default and description. */
  public static final List<Key> KEYS =
      List.of(
          new Key(
              "id-max-chars",
              512,
              64 * 1024,
              "Longest request id; a longer one is dead-lettered (it could not key a response).",
              RequestLimits::maxIdChars),
          new Key(
              "instruction-max-chars",
              8192,
              1 << 20,
              "Longest instruction, in characters (INSTRUCTION_TOO_LONG).",
              RequestLimits::maxInstructionChars),
          new Key(
              "candidates-max-count",
              EngineConfig.DEFAULT_MAX_CANDIDATES,
              4096,
              "Most candidate answers of a RANK request (INVALID_REQUEST).",
              RequestLimits::maxCandidates),
          new Key(
              "candidate-max-chars",
              1024,
              1 << 20,
              "Longest candidate answer, in characters (INVALID_REQUEST).",
              RequestLimits::maxCandidateChars),
          new Key(
              "metadata-max-entries",
              64,
              1 << 16,
              "Most metadata entries (INVALID_REQUEST).",
              RequestLimits::maxMetadataEntries),
          new Key(
              "metadata-max-chars",
              16 * 1024,
              1 << 20,
              "Most characters of all metadata keys and values together (INVALID_REQUEST).",
              RequestLimits::maxMetadataChars),
          new Key(
              "headers-max-count",
              64,
              1 << 16,
              "Most Kafka headers on a request record (INVALID_REQUEST).",
              RequestLimits::maxHeaders),
          new Key(
              "headers-max-bytes",
              16 * 1024,
              1 << 20,
              "Most bytes of all header keys and values together (INVALID_REQUEST).",
              RequestLimits::maxHeaderBytes),
          new Key(
              "uri-max-chars",
              4096,
              1 << 20,
              "Longest image URI (INVALID_REQUEST).",
              RequestLimits::maxUriChars),
          new Key(
              "num-beams-max",
              16,
              GenerationParameter.MAX_NUM_BEAMS,
              "Most beams (num_beams) (INVALID_PARAMETER); at most "
                  + GenerationParameter.MAX_NUM_BEAMS
                  + ".",
              RequestLimits::maxNumBeams),
          new Key(
              "max-new-tokens-max",
              1024,
              GenerationParameter.MAX_NEW_TOKENS_LIMIT,
              "Largest max_new_tokens (INVALID_PARAMETER); at most "
                  + GenerationParameter.MAX_NEW_TOKENS_LIMIT
                  + ".",
              RequestLimits::maxNewTokens),
          new Key(
              "top-k-max",
              1000,
              GenerationParameter.MAX_TOP_K,
              "Largest top_k (INVALID_PARAMETER); at most " + GenerationParameter.MAX_TOP_K + ".",
              RequestLimits::maxTopK),
          new Key(
              "work-max-tokens",
              8192,
              Integer.MAX_VALUE,
              "Most rows x new tokens one request may ask for: num_beams x max_new_tokens, model"
                  + " defaults included (INVALID_PARAMETER).",
              RequestLimits::maxWorkTokens));

  /** Checks that every limit is at least 1 and at most its key's ceiling. */
  public RequestLimits {
    int[] values = {
      maxIdChars,
      maxInstructionChars,
      maxCandidates,
      maxCandidateChars,
      maxMetadataEntries,
      maxMetadataChars,
      maxHeaders,
      maxHeaderBytes,
      maxUriChars,
      maxNumBeams,
      maxNewTokens,
      maxTopK,
      maxWorkTokens
    };
    for (int i = 0; i < values.length; i++) {
      Key key = KEYS.get(i);
      if (values[i] < 1 || values[i] > key.ceiling()) {
        throw new IllegalArgumentException(
            CONFIG_PREFIX
                + key.name()
                + " must be between 1 and "
                + key.ceiling()
                + ", got "
                + values[i]);
      }
    }
  }

  /** The defaults of {@link #KEYS}. */
  public static RequestLimits defaults() {
    return builder().build();
  }

  /** A builder that starts from the defaults. */
  public static Builder builder() {
    return new Builder();
  }

  /** These limits by key name (without the prefix), in the order of {@link #KEYS}. */
  public Map<String, Integer> toMap() {
    Map<String, Integer> values = new LinkedHashMap<>();
    for (Key key : KEYS) {
      values.put(key.name(), (int) key.get().applyAsLong(this));
    }
    return values;
  }

  /**
   * Checks the configurable ceilings of a request's resolved generation parameters (the fixed rules
   * were checked when {@code params} was built).
   *
   * @throws EngineException with {@link ErrorCode#INVALID_PARAMETER} naming the parameter, its
   *     value and the limit's key
   */
  public void checkGeneration(GenerationParams params) {
    Objects.requireNonNull(params, "params");
    if (params.numBeams() > maxNumBeams) {
      throw tooLarge("num_beams", params.numBeams(), maxNumBeams, "num-beams-max");
    }
    if (params.maxNewTokens() > maxNewTokens) {
      throw tooLarge("max_new_tokens", params.maxNewTokens(), maxNewTokens, "max-new-tokens-max");
    }
    if (params.topK() > maxTopK) {
      throw tooLarge("top_k", params.topK(), maxTopK, "top-k-max");
    }
    long work = (long) params.numBeams() * params.maxNewTokens();
    if (work > maxWorkTokens) {
      throw new EngineException(
          ErrorCode.INVALID_PARAMETER,
          "num_beams x max_new_tokens = "
              + params.numBeams()
              + " x "
              + params.maxNewTokens()
              + " = "
              + work
              + " is over this job's work limit of "
              + maxWorkTokens
              + " tokens per request ("
              + CONFIG_PREFIX
              + "work-max-tokens); ask for fewer beams or fewer new tokens");
    }
  }

  private static EngineException tooLarge(String parameter, long value, int limit, String key) {
    return new EngineException(
        ErrorCode.INVALID_PARAMETER,
        parameter + " must be at most " + limit + " (" + CONFIG_PREFIX + key + "), got " + value);
  }

  /** Builds {@link RequestLimits}; starts from the defaults of {@link #KEYS}. */
  public static final class Builder {
    private final Map<String, Integer> values = new LinkedHashMap<>();

    private Builder() {}

    private Builder set(String key, int value) {
      values.put(key, value);
      return this;
    }

    /**
     * Sets the limit of one of the {@link #KEYS} by its name (without {@link #CONFIG_PREFIX}), e.g.
     * {@code limit("num-beams-max", 8)}; an unknown name is an error that lists the known ones.
     */
    public Builder limit(String name, int value) {
      if (KEYS.stream().noneMatch(k -> k.name().equals(name))) {
        throw new IllegalArgumentException(
            "unknown setting "
                + CONFIG_PREFIX
                + name
                + "; known: "
                + String.join(", ", KEYS.stream().map(Key::name).toList()));
      }
      return set(name, value);
    }

    public Builder maxIdChars(int value) {
      return set("id-max-chars", value);
    }

    public Builder maxInstructionChars(int value) {
      return set("instruction-max-chars", value);
    }

    public Builder maxCandidates(int value) {
      return set("candidates-max-count", value);
    }

    public Builder maxCandidateChars(int value) {
      return set("candidate-max-chars", value);
    }

    public Builder maxMetadataEntries(int value) {
      return set("metadata-max-entries", value);
    }

    public Builder maxMetadataChars(int value) {
      return set("metadata-max-chars", value);
    }

    public Builder maxHeaders(int value) {
      return set("headers-max-count", value);
    }

    public Builder maxHeaderBytes(int value) {
      return set("headers-max-bytes", value);
    }

    public Builder maxUriChars(int value) {
      return set("uri-max-chars", value);
    }

    public Builder maxNumBeams(int value) {
      return set("num-beams-max", value);
    }

    public Builder maxNewTokens(int value) {
      return set("max-new-tokens-max", value);
    }

    public Builder maxTopK(int value) {
      return set("top-k-max", value);
    }

    public Builder maxWorkTokens(int value) {
      return set("work-max-tokens", value);
    }

    /** The limits; a value out of its key's range is an {@link IllegalArgumentException}. */
    public RequestLimits build() {
      int[] v = new int[KEYS.size()];
      for (int i = 0; i < v.length; i++) {
        v[i] = values.getOrDefault(KEYS.get(i).name(), KEYS.get(i).defaultValue());
      }
      return new RequestLimits(
          v[0], v[1], v[2], v[3], v[4], v[5], v[6], v[7], v[8], v[9], v[10], v[11], v[12]);
    }
  }
}
