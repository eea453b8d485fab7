package io.instructblip.engine.text;

/**
 * The token ids of one instruction, specials included: what the Q-Former reads and the LLM prompt
 * that follows the query outputs.
 *
 * @param qformerIds {@code qformer.prefix_ids + encode_qformer(instruction) + qformer.suffix_ids}
 * @param llmIds {@code llm.prefix_ids + encode_llm(instruction) + llm.suffix_ids}
 */
public record PromptIds(long[] qformerIds, long[] llmIds) {}
