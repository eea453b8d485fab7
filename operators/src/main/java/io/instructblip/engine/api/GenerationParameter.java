package io.instructblip.engine.api;

import java.util.Locale;
import java.util.function.Function;

/**
 * The one specification of the generation parameters a request may set: name, type, reference
 * default, bounds and rule. Everything else reads from it: the request codecs (the Avro schema's
 * {@code GenerationOptions} has exactly these fields, checked by a test), the manifest parser, the
 * CLI flags ({@code --max-new-tokens}, ...), the SQL options, the golden-case reader, the stage
 * serializer and the checks ({@link #checkAll}, for a request's parameters and a model's {@link
 * GenerationDefaults}).
 *
 * <p>The order is the schema's field order (and the order of {@link GenerationOverrides}'
 * components); the stage serializer writes the parameters in it.
 */
public enum GenerationParameter {
  /** Most tokens to generate after the prompt. */
  MAX_NEW_TOKENS(
      ValueType.INT,
      256,
      true,
      Range.between(1, GenerationParameter.MAX_NEW_TOKENS_LIMIT),
      "Most tokens to generate after the prompt."),
  /** Fewest tokens to generate before EOS is allowed; at most {@code max_new_tokens}. */
  MIN_NEW_TOKENS(
      ValueType.INT,
      1,
      true,
      Range.upTo(0, "max_new_tokens"),
      "Fewest tokens to generate before EOS is allowed."),
  /** Beam width; 1 means greedy search or sampling. */
  NUM_BEAMS(
      ValueType.INT,
      5,
      true,
      Range.between(1, GenerationParameter.MAX_NUM_BEAMS).lowNote("no beam search"),
      "Beam width; 1 means greedy search or sampling."),
  /** Beam search: score = sum_logprob / length^length_penalty. */
  LENGTH_PENALTY(
      ValueType.DOUBLE,
      1.0,
      true,
      Range.number(-GenerationParameter.MAX_LENGTH_PENALTY, GenerationParameter.MAX_LENGTH_PENALTY),
      "Beam search: score = sum_logprob / length^length_penalty."),
  /** Penalty on the logits of tokens already in the sequence; 1.0 = none. */
  REPETITION_PENALTY(
      ValueType.DOUBLE,
      1.5,
      true,
      Range.number(
              1 / GenerationParameter.MAX_REPETITION_PENALTY,
              GenerationParameter.MAX_REPETITION_PENALTY)
          .note("1.0 means no penalty"),
      "Penalty on the logits of tokens already in the sequence."),
  /** Sample from the distribution instead of searching; needs {@code num_beams} 1. */
  DO_SAMPLE(
      ValueType.BOOLEAN,
      false,
      true,
      Range.ANY,
      "Sample from the distribution instead of greedy or beam search."),
  /** Sampling temperature. */
  TEMPERATURE(
      ValueType.DOUBLE,
      1.0,
      true,
      Range.number(GenerationParameter.MIN_TEMPERATURE, GenerationParameter.MAX_TEMPERATURE)
          .note("lower values overflow; 0.01 is all but greedy, or set do_sample false"),
      "Sampling temperature."),
  /** Sampling: keep the k most likely tokens; 0 = no limit. */
  TOP_K(
      ValueType.INT,
      0,
      true,
      Range.between(0, GenerationParameter.MAX_TOP_K).lowNote("off"),
      "Sampling: keep the k most likely tokens (0 = no limit)."),
  /** Sampling: keep the smallest set of tokens whose probability reaches top_p (nucleus). */
  TOP_P(
      ValueType.DOUBLE,
      0.9,
      true,
      Range.aboveZeroAtMostOne().note("1.0 turns it off"),
      "Sampling: keep the smallest set of tokens whose probability reaches top_p (nucleus)."),
  /** Sampling: the random seed; without one, a request's seed derives from its id. */
  SEED(
      ValueType.LONG,
      null,
      false,
      Range.ANY,
      "Sampling: random seed, for reproducible samples (default: derived from the request id)."),
  /** How many sequences to return, at most {@code num_beams}; only 1 is served yet. */
  NUM_RETURN_SEQUENCES(
      ValueType.INT,
      1,
      false,
      Range.upTo(1, "num_beams"),
      "How many sequences to return (only 1 is supported yet).");

  /** The largest {@code max_new_tokens} any request may ask for. */
  public static final int MAX_NEW_TOKENS_LIMIT = 16_384;

  /** The most beams any request may ask for (the memory of beam search grows with them). */
  public static final int MAX_NUM_BEAMS = 64;

  /** The largest {@code top_k} (larger than any vocabulary this runtime serves). */
  public static final int MAX_TOP_K = 1_000_000;

  /**
   * The smallest temperature: logits divided by a temperature below about 1e-2 overflow float
   * arithmetic (a logit of 10 over 1e-300 is infinite) and sampling then fails; at 0.01 the largest
   * logits stay finite and sampling is all but greedy.
   */
  public static final double MIN_TEMPERATURE = 1e-2;

  /** The largest temperature. */
  public static final double MAX_TEMPERATURE = 100;

  /** The range of {@code repetition_penalty}: from {@code 1/MAX} to {@code MAX}. */
  public static final double MAX_REPETITION_PENALTY = 100;

  /** The range of {@code length_penalty}: from {@code -MAX} to {@code MAX}. */
  public static final double MAX_LENGTH_PENALTY = 100;

  private final ValueType type;
  private final Object referenceDefault;
  private final boolean modelDefault;
  private final Range range;
  private final String description;

  GenerationParameter(
      ValueType type,
      Object referenceDefault,
      boolean modelDefault,
      Range range,
      String description) {
    this.type = type;
    this.referenceDefault = referenceDefault == null ? null : type.cast(referenceDefault);
    this.modelDefault = modelDefault;
    this.range = range;
    this.description = description;
  }

  /** The field name in JSON, Avro, the manifest and golden files, e.g. {@code max_new_tokens}. */
  public String key() {
    return name().toLowerCase(Locale.ROOT);
  }

  /**
   * The dashed name of CLI flags (with {@code --}) and SQL options, e.g. {@code max-new-tokens}.
   */
  public String dashedKey() {
    return key().replace('_', '-');
  }

  /** The value's type. */
  public ValueType type() {
    return type;
  }

  /**
   * The reference default (InstructBLIP's, from LAVIS and the HF docstring), or {@code null} when
   * there is none ({@link #SEED}: derived from the request's id).
   */
  public Object referenceDefault() {
    return referenceDefault;
  }

  /** Whether a model directory's {@code generation_defaults} sets it (then it must). */
  public boolean modelDefault() {
    return modelDefault;
  }

  /** What it does, in one sentence (without its rule and default; see {@link #documentation}). */
  public String description() {
    return description;
  }

  /**
   * The text of help texts and docs: the description, the rule (unless any value is allowed) and
   * the default, e.g. {@code Sampling temperature. Rule: a number between 0.01 and 100.0 (...).
   * Default: the model's (InstructBLIP's: 1.0).} The CLI flags and SQL options show it, and the
   * Avro schema's field docs and docs/messages.md state it (checked by a test).
   */
  public String documentation() {
    StringBuilder text = new StringBuilder(description);
    if (range != Range.ANY) {
      text.append(" Rule: ").append(rule()).append('.');
    }
    if (modelDefault) {
      text.append(" Default: the model's (InstructBLIP's: ").append(referenceDefault).append(").");
    } else if (referenceDefault != null) {
      text.append(" Default: ").append(referenceDefault).append('.');
    }
    return text.toString();
  }

  /** The rule in words, e.g. {@code between 1 and 16384}, for help texts and docs. */
  public String rule() {
    return range.words(null);
  }

  /** The parameter whose key is {@code key}, or {@code null}. */
  public static GenerationParameter forKey(String key) {
    for (GenerationParameter p : values()) {
      if (p.key().equals(key)) {
        return p;
      }
    }
    return null;
  }

  /**
   * The broken rule of {@code value} (of this parameter's type), given the other parameters'
   * values; {@code null} when the value is allowed. The message names the parameter, the rule and
   * the value, e.g. {@code temperature must be a number between 0.01 and 100.0 (...), got
   * Infinity}.
   *
   * @param others the values of the other parameters of the same request (a bound may be one)
   */
  public String violation(Object value, Function<GenerationParameter, Object> others) {
    Number upper = range.upperKey == null ? null : (Number) others.apply(forKey(range.upperKey));
    if (range.allows(type.cast(value), upper)) {
      return null;
    }
    return key() + " must be " + range.words(upper) + ", got " + value;
  }

  /**
   * Checks a full set of values: every parameter's rule, in this order, then the one rule that ties
   * two of them (no {@code do_sample} with {@code num_beams > 1}).
   *
   * @param values every parameter's value ({@code null} only for {@link #SEED})
   * @throws EngineException {@link ErrorCode#INVALID_PARAMETER} naming the first broken rule
   */
  public static void checkAll(Function<GenerationParameter, Object> values) {
    for (GenerationParameter p : values()) {
      Object value = values.apply(p);
      String violation = value == null ? null : p.violation(value, values);
      if (violation != null) {
        throw new EngineException(ErrorCode.INVALID_PARAMETER, violation);
      }
    }
    int numBeams = (Integer) values.apply(NUM_BEAMS);
    if ((Boolean) values.apply(DO_SAMPLE) && numBeams > 1) {
      throw new EngineException(
          ErrorCode.INVALID_PARAMETER,
          "do_sample cannot be combined with num_beams > 1 (got num_beams "
              + numBeams
              + "): set num_beams to 1 to sample, or do_sample to false for beam search");
    }
  }

  /**
   * Checks one value on its own (a bound that is another parameter is not checked), as the logits
   * processors do for the value they are given.
   *
   * @throws EngineException {@link ErrorCode#INVALID_PARAMETER} naming the broken rule
   */
  public void check(Object value) {
    String violation = violation(value, other -> null);
    if (violation != null) {
      throw new EngineException(ErrorCode.INVALID_PARAMETER, violation);
    }
  }

  /** The Java types of the parameters' values. */
  public enum ValueType {
    /** {@link Integer}; Avro {@code int}. */
    INT(Integer.class),
    /** {@link Long}; Avro {@code long}. */
    LONG(Long.class),
    /** {@link Double}; Avro {@code double}. */
    DOUBLE(Double.class),
    /** {@link Boolean}; Avro {@code boolean}. */
    BOOLEAN(Boolean.class);

    private final Class<?> javaType;

    ValueType(Class<?> javaType) {
      this.javaType = javaType;
    }

    /** The boxed Java type. */
    public Class<?> javaType() {
      return javaType;
    }

    /**
     * {@code value} as this type ({@code null} stays {@code null}).
     *
     * @throws IllegalArgumentException when it has another type
     */
    public Object cast(Object value) {
      if (value != null && !javaType.isInstance(value)) {
        throw new IllegalArgumentException(
            "expected " + javaType.getSimpleName() + ", got " + value.getClass().getSimpleName());
      }
      return value;
    }

    /** The Avro schema type name ({@code int}, {@code long}, {@code double}, {@code boolean}). */
    public String avroName() {
      return name().toLowerCase(Locale.ROOT);
    }
  }

  /** A parameter's allowed values and how the rule reads. */
  private static final class Range {
    static final Range ANY = new Range(null, false, null, null, false, null, null);

    private final Number low;
    private final boolean lowExclusive;
    private final Number high;
    private final String upperKey;
    private final boolean number;
    private final String lowNote;
    private final String note;

    private Range(
        Number low,
        boolean lowExclusive,
        Number high,
        String upperKey,
        boolean number,
        String lowNote,
        String note) {
      this.low = low;
      this.lowExclusive = lowExclusive;
      this.high = high;
      this.upperKey = upperKey;
      this.number = number;
      this.lowNote = lowNote;
      this.note = note;
    }

    /** Integers from {@code low} to {@code high}, both included. */
    static Range between(int low, int high) {
      return new Range(low, false, high, null, false, null, null);
    }

    /** Integers from {@code low} to the value of the parameter {@code upperKey}, both included. */
    static Range upTo(int low, String upperKey) {
      return new Range(low, false, null, upperKey, false, null, null);
    }

    /** Numbers from {@code low} to {@code high}, both included (NaN and infinities never). */
    static Range number(double low, double high) {
      return new Range(low, false, high, null, true, null, null);
    }

    /** Numbers above 0 and at most 1. */
    static Range aboveZeroAtMostOne() {
      return new Range(0, true, 1, null, true, null, null);
    }

    Range lowNote(String text) {
      return new Range(low, lowExclusive, high, upperKey, number, text, note);
    }

    Range note(String text) {
      return new Range(low, lowExclusive, high, upperKey, number, lowNote, text);
    }

    boolean allows(Object value, Number upper) {
      if (low == null) {
        return true;
      }
      double v = ((Number) value).doubleValue();
      double hi =
          upperKey == null
              ? high.doubleValue()
              : upper == null ? Double.POSITIVE_INFINITY : upper.doubleValue();
      boolean aboveLow = lowExclusive ? v > low.doubleValue() : v >= low.doubleValue();
      return aboveLow && v <= hi; // false for NaN
    }

    String words(Number upper) {
      if (low == null) {
        return "any value";
      }
      String lowText = low + (lowNote == null ? "" : " (" + lowNote + ")");
      String highText = upperKey == null ? String.valueOf(high) : upperKey;
      if (upperKey != null && upper != null) {
        highText += " (" + upper + ")";
      }
      String noteText = note == null ? "" : " (" + note + ")";
      if (lowExclusive) {
        return "greater than " + lowText + " and at most " + highText + noteText;
      }
      return (number ? "a number between " : "between ") + lowText + " and " + highText + noteText;
    }
  }
}
