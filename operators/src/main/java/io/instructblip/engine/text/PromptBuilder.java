package io.instructblip.engine.text;

import io.instructblip.engine.api.EngineException;
import io.instructblip.engine.api.ErrorCode;
import java.util.Arrays;
import java.util.Objects;

/**
 * Builds the token ids of a request per docs/model-format.md "Token-level recipe": the Q-Former
 * text, the LLM prompt and the ranking candidates, and turns generated ids back into the answer
 * text. It does not own the tokenizers (close them yourself). Thread-safe.
 *
 * <pre>{@code
 * PromptBuilder prompts = PromptBuilder.builder()
 *     .qformer(qformerTokenizer, qformerRecipe)
 *     .llm(llmTokenizer, llmRecipe)
 *     .eosId(2)
 *     .appendEosToCandidates(true)
 *     .build();
 * PromptIds ids = prompts.build("What is in the picture?");
 * }</pre>
 */
public final class PromptBuilder {

  private final TextTokenizer qformerTokenizer;
  private final PromptRecipe qformerRecipe;
  private final TextTokenizer llmTokenizer;
  private final PromptRecipe llmRecipe;
  private final long eosId;
  private final boolean appendEosToCandidates;

  private PromptBuilder(Builder b) {
    this.qformerTokenizer = b.qformerTokenizer;
    this.qformerRecipe = b.qformerRecipe;
    this.llmTokenizer = b.llmTokenizer;
    this.llmRecipe = b.llmRecipe;
    this.eosId = b.eosId;
    this.appendEosToCandidates = b.appendEosToCandidates;
  }

  /** A new builder; the Q-Former and LLM parts and the EOS id are required. */
  public static Builder builder() {
    return new Builder();
  }

  /** The Q-Former recipe. */
  public PromptRecipe qformerRecipe() {
    return qformerRecipe;
  }

  /** The LLM prompt recipe. */
  public PromptRecipe llmRecipe() {
    return llmRecipe;
  }

  /**
   * The Q-Former ids and the LLM prompt ids of {@code instruction}.
   *
   * @throws EngineException {@link ErrorCode#INSTRUCTION_EMPTY} for a null, empty or blank
   *     instruction; {@link ErrorCode#INSTRUCTION_TOO_LONG} when either sequence is over its
   *     recipe's {@code max_tokens}
   */
  public PromptIds build(String instruction) {
    return new PromptIds(qformerIds(instruction), llmPromptIds(instruction));
  }

  /** {@code qformer.prefix_ids + encode_qformer(instruction) + qformer.suffix_ids}, checked. */
  public long[] qformerIds(String instruction) {
    return wrapChecked("Q-Former", qformerTokenizer, qformerRecipe, instruction);
  }

  /** {@code llm.prefix_ids + encode_llm(instruction) + llm.suffix_ids}, checked. */
  public long[] llmPromptIds(String instruction) {
    return wrapChecked("LLM", llmTokenizer, llmRecipe, instruction);
  }

  /**
   * The ids a ranking candidate is scored on: {@code encode_llm(candidate)}, then EOS when the
   * manifest's {@code ranking.append_eos} is set.
   *
   * @throws EngineException {@link ErrorCode#INVALID_PARAMETER} when the candidate gives no token
   */
  public long[] candidateIds(String candidate) {
    if (candidate == null) {
      throw new EngineException(ErrorCode.INVALID_PARAMETER, "a candidate answer is null");
    }
    long[] text = llmTokenizer.encode(candidate);
    long[] ids = text;
    if (appendEosToCandidates) {
      ids = Arrays.copyOf(text, text.length + 1);
      ids[text.length] = eosId;
    }
    if (ids.length == 0) {
      throw new EngineException(
          ErrorCode.INVALID_PARAMETER,
          "the candidate answer \""
              + candidate
              + "\" gives no token to score; give a non-empty one");
    }
    return ids;
  }

  /** The answer text of generated ids: decoded without special tokens, white space stripped. */
  public String answerText(long[] generatedIds) {
    return llmTokenizer.decode(generatedIds, true).strip();
  }

  private static long[] wrapChecked(
      String part, TextTokenizer tokenizer, PromptRecipe recipe, String instruction) {
    if (instruction == null || instruction.isBlank()) {
      throw new EngineException(
          ErrorCode.INSTRUCTION_EMPTY,
          "the instruction is "
              + (instruction == null ? "missing" : "empty")
              + "; send a question"
              + " or instruction about the image");
    }
    long[] text = tokenizer.encode(instruction);
    int total = recipe.prefixIds().length + text.length + recipe.suffixIds().length;
    if (total > recipe.maxTokens()) {
      throw new EngineException(
          ErrorCode.INSTRUCTION_TOO_LONG,
          "the instruction is "
              + text.length
              + " "
              + part
              + " tokens ("
              + total
              + " with special tokens), over the limit of "
              + recipe.maxTokens()
              + "; shorten it");
    }
    return recipe.wrap(text);
  }

  /** Builder of {@link PromptBuilder}. */
  public static final class Builder {
    private TextTokenizer qformerTokenizer;
    private PromptRecipe qformerRecipe;
    private TextTokenizer llmTokenizer;
    private PromptRecipe llmRecipe;
    private long eosId = -1;
    private boolean appendEosToCandidates = true;

    private Builder() {}

    /** The Q-Former (BERT) tokenizer and the manifest's {@code prompt.qformer} recipe. */
    public Builder qformer(TextTokenizer tokenizer, PromptRecipe recipe) {
      this.qformerTokenizer = Objects.requireNonNull(tokenizer, "qformer tokenizer");
      this.qformerRecipe = Objects.requireNonNull(recipe, "qformer recipe");
      return this;
    }

    /** The LLM tokenizer and the manifest's {@code prompt.llm} recipe. */
    public Builder llm(TextTokenizer tokenizer, PromptRecipe recipe) {
      this.llmTokenizer = Objects.requireNonNull(tokenizer, "llm tokenizer");
      this.llmRecipe = Objects.requireNonNull(recipe, "llm recipe");
      return this;
    }

    /** The LLM's EOS id ({@code special_tokens.llm_eos}). */
    public Builder eosId(long eosId) {
      this.eosId = eosId;
      return this;
    }

    /** Whether ranking candidates end with EOS ({@code ranking.append_eos}); default true. */
    public Builder appendEosToCandidates(boolean append) {
      this.appendEosToCandidates = append;
      return this;
    }

    /** Builds the prompt builder; every part must have been set. */
    public PromptBuilder build() {
      if (qformerTokenizer == null) {
        throw new IllegalStateException("qformer(tokenizer, recipe) was not set");
      }
      if (llmTokenizer == null) {
        throw new IllegalStateException("llm(tokenizer, recipe) was not set");
      }
      if (eosId < 0) {
        throw new IllegalStateException("eosId was not set (special_tokens.llm_eos)");
      }
      return new PromptBuilder(this);
    }
  }
}
